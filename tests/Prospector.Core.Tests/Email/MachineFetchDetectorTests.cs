using Prospector.Core.Email;
using Prospector.Core.Prospects;

namespace Prospector.Core.Tests.Email;

public class MachineFetchDetectorTests
{
    private static readonly TimeSpan Later = TimeSpan.FromMinutes(5);

    // Human agents. Chrome's reduced desktop agent (format per developer.chrome.com "User-Agent reduction"); Apple Mail on
    // macOS (WebKit without "Version/… Safari", as Mail sends it); Outlook for Windows ("Microsoft Office/16.0 (…Microsoft Outlook…)").
    [Theory]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")]
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)")]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148")]
    [InlineData("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)")]
    public void Classify_ReturnsHuman_WhenBrowserOrMailClientFetchesLater(string agent)
    {
        Assert.Equal(FetchVerdict.Human, MachineFetchDetector.Classify(agent, TrackingHitKind.Open, Later));
        Assert.Equal(FetchVerdict.Human, MachineFetchDetector.Classify(agent, TrackingHitKind.Click, Later));
    }

    // Gmail's image proxy (darkvisitors.com/agents/googleimageproxy); Yahoo's proxy (the agent names Yahoo's help page
    // SLN28749); Googlebot (Google Search Central, "Google crawlers"); curl's default "curl/<version>" (curl manual,
    // --user-agent); Requests' default "python-requests/<version>" (requests docs, default headers); headless Chrome
    // (developer.chrome.com "Chrome Headless mode": the agent says HeadlessChrome).
    [Theory]
    [InlineData("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "google_image_proxy")]
    [InlineData("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", "yahoo_mail_proxy")]
    [InlineData("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot")]
    [InlineData("curl/8.5.0", "http_library")]
    [InlineData("python-requests/2.31.0", "http_library")]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36", "headless_browser")]
    [InlineData("Microsoft Office Existence Discovery", "microsoft_office_link_check")]
    [InlineData("Mozilla/5.0", "apple_mail_privacy_protection")]
    [InlineData("", "no_user_agent")]
    [InlineData(null, "no_user_agent")]
    public void Classify_ReturnsMachineWithReason_WhenAgentIsKnownFetcher(string? agent, string reason)
        => Assert.Equal(FetchVerdict.MachineBecause(reason), MachineFetchDetector.Classify(agent, TrackingHitKind.Open, Later));

    [Fact]
    public void Classify_ReturnsTooSoon_WhenHitComesWithinScannerWindowOfSend()
    {
        const string chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

        Assert.Equal(FetchVerdict.MachineBecause("too_soon_after_send"), MachineFetchDetector.Classify(chrome, TrackingHitKind.Click, TimeSpan.FromSeconds(2)));
        Assert.Equal(FetchVerdict.MachineBecause("too_soon_after_send"), MachineFetchDetector.Classify(chrome, TrackingHitKind.Click, MachineFetchDetector.ScannerWindow - TimeSpan.FromMilliseconds(1)));
        Assert.Equal(FetchVerdict.MachineBecause("too_soon_after_send"), MachineFetchDetector.Classify(chrome, TrackingHitKind.Open, null));
        Assert.Equal(FetchVerdict.Human, MachineFetchDetector.Classify(chrome, TrackingHitKind.Click, MachineFetchDetector.ScannerWindow));
    }

    [Fact]
    public void Classify_ReturnsHeadRequest_WhenMethodIsHeadWhateverTheAgent()
    {
        const string chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

        Assert.Equal(FetchVerdict.MachineBecause("head_request"), MachineFetchDetector.Classify(chrome, TrackingHitKind.Click, Later, isHead: true));
    }
}

public class SuppressionKeysTests
{
    [Fact]
    public void ForDomain_IgnoresCaseAndTrailingDot_AndNeverEqualsAnAddressKey()
    {
        Assert.Equal(SuppressionKeys.ForDomain("acme.com"), SuppressionKeys.ForDomain(" ACME.com. "));
        Assert.Equal(SuppressionKeys.ForDomain("acme.com"), SuppressionKeys.ForDomainOf("Ann.Lee@Acme.COM"));
        Assert.NotEqual(SuppressionKeys.ForDomain("acme.com"), SuppressionKeys.ForAddress("acme.com"));
        Assert.Equal(EmailAddress.Hash("ann@acme.com"), SuppressionKeys.ForAddress("Ann@ACME.com"));
        // SHA-256("@acme.com"), computed independently (printf '@acme.com' | sha256sum).
        Assert.Equal("2993db003976a7016f15b7b8906ccd00833bbf096bdca700f3a1d32419d5647d", SuppressionKeys.ForDomain("acme.com"));
    }

    [Theory]
    [InlineData("acme.com", true)]
    [InlineData("mail.acme.co.uk", true)]
    [InlineData("ACME.COM.", true)]
    [InlineData("@acme.com", false)]
    [InlineData("ann@acme.com", false)]
    [InlineData("acme", false)]
    [InlineData("acme .com", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsValidDomain_AcceptsDottedDomainsOnly(string? domain, bool valid)
        => Assert.Equal(valid, SuppressionKeys.IsValidDomain(domain));
}
