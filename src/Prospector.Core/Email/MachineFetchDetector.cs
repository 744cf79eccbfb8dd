namespace Prospector.Core.Email;

/// <summary>What a tracking hit is.</summary>
public enum TrackingHitKind
{
    /// <summary>The open pixel was fetched.</summary>
    Open,

    /// <summary>A tracked link was followed.</summary>
    Click,
}

/// <summary>Whether a tracking hit came from a machine (prefetcher, proxy, link scanner) and why; <see cref="Reason"/> is null for a human.</summary>
public readonly record struct FetchVerdict(bool Machine, string? Reason)
{
    /// <summary>Counted as a person's open or click.</summary>
    public static FetchVerdict Human => new(false, null);

    /// <summary>A machine fetch, with the rule that said so.</summary>
    public static FetchVerdict MachineBecause(string reason) => new(true, reason);
}

/// <summary>
/// Tells prefetchers and link scanners from people on the tracking endpoints, from what a request shows: its method,
/// its User-Agent and how long after the send it came. Pure; the rules are ordered, the first that matches gives the reason.
/// This is a best effort and errs towards "human" for ordinary browser and mail-client user agents: what cannot be seen
/// from a request (notably Apple Mail Privacy Protection with a browser-like agent, and security gateways that fetch
/// with a normal browser agent from their own IP ranges) is caught only by the timing rule, or not at all.
/// </summary>
public static class MachineFetchDetector
{
    /// <summary>
    /// A hit this soon after the send is a scanner: gateways (Microsoft Defender Safe Links, Mimecast, Proofpoint,
    /// Barracuda) fetch links and images while the message is being delivered, long before a person could read it.
    /// </summary>
    public static readonly TimeSpan ScannerWindow = TimeSpan.FromSeconds(10);

    // Matched case-insensitively anywhere in the User-Agent; first match wins, so the specific names come before "bot".
    private static readonly (string Fragment, string Reason)[] Agents =
    [
        // Gmail loads remote images through its caching proxy ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0
        // (via ggpht.com GoogleImageProxy)", as listed at darkvisitors.com/agents/googleimageproxy). The proxy fetches when a
        // Gmail user opens the message but caches the image, so later opens are invisible and the one fetch cannot be told
        // from a prefetch: we do not count it as a person's open.
        ("GoogleImageProxy", "google_image_proxy"),
        // Yahoo's fetch proxy: "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html" (the URL is Yahoo's own page).
        ("YahooMailProxy", "yahoo_mail_proxy"),
        // Microsoft: Office's link existence check (often a HEAD or OPTIONS) and Bing's link previews used by Outlook and Teams.
        ("Microsoft Office Existence Discovery", "microsoft_office_link_check"),
        ("BingPreview", "microsoft_link_preview"),
        ("SkypeUriPreview", "microsoft_link_preview"),
        // Secure email gateways, when they announce themselves (often they use a plain browser agent; then only timing helps).
        ("Barracuda", "barracuda"),
        ("Mimecast", "mimecast"),
        ("Proofpoint", "proofpoint"),
        // Headless browsers used by sandboxes that "detonate" links.
        ("HeadlessChrome", "headless_browser"),
        ("PhantomJS", "headless_browser"),
        ("Puppeteer", "headless_browser"),
        ("Playwright", "headless_browser"),
        // HTTP libraries and command-line tools: no person reads mail through these.
        ("python-requests", "http_library"),
        ("python-urllib", "http_library"),
        ("aiohttp", "http_library"),
        ("curl/", "http_library"),
        ("Wget", "http_library"),
        ("Go-http-client", "http_library"),
        ("okhttp", "http_library"),
        ("Apache-HttpClient", "http_library"),
        ("libwww-perl", "http_library"),
        ("node-fetch", "http_library"),
        ("axios/", "http_library"),
        ("Java/", "http_library"),
        // Crawlers and other robots; "bot" also matches a few device names (a known, accepted false positive).
        ("crawler", "bot"),
        ("spider", "bot"),
        ("bot", "bot"),
    ];

    /// <summary>
    /// Classifies one hit. <paramref name="sinceSend"/> is the time from the send's 250 to the hit; null when the send
    /// is not (yet) recorded as sent, which only a delivery-time scanner can see.
    /// </summary>
    public static FetchVerdict Classify(string? userAgent, TrackingHitKind kind, TimeSpan? sinceSend, bool isHead = false)
    {
        _ = kind; // the same rules serve both kinds today; kept so a rule can differ (e.g. link-only scanners) without changing callers
        if (isHead)
        {
            // Link checkers ask whether a URL exists; a person's mail client or browser sends a GET.
            return FetchVerdict.MachineBecause("head_request");
        }

        if (sinceSend is not { } elapsed || elapsed < ScannerWindow)
        {
            return FetchVerdict.MachineBecause("too_soon_after_send");
        }

        var agent = userAgent?.Trim();
        if (string.IsNullOrEmpty(agent))
        {
            return FetchVerdict.MachineBecause("no_user_agent");
        }

        foreach (var (fragment, reason) in Agents)
        {
            if (agent.Contains(fragment, StringComparison.OrdinalIgnoreCase))
            {
                return FetchVerdict.MachineBecause(reason);
            }
        }

        // Apple Mail Privacy Protection fetches remote content through Apple's proxies when the message arrives, whether
        // or not it is read. Its agent is widely reported as the bare "Mozilla/5.0" with no platform or engine, which no
        // real browser or mail client sends; that is all we can see (we do not keep client IPs, and Apple does not
        // document the proxies' agent). MPP fetches that carry a full browser agent are counted as human: a known limit.
        if (string.Equals(agent, "Mozilla/5.0", StringComparison.OrdinalIgnoreCase))
        {
            return FetchVerdict.MachineBecause("apple_mail_privacy_protection");
        }

        return FetchVerdict.Human;
    }
}
