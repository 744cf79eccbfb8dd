using System.Text.RegularExpressions;

namespace Prospector.Core.Prospects;

/// <summary>LinkedIn profile URLs: validation and the normal form used for dedup (<c>linkedin.com/in/slug</c>).</summary>
public static partial class LinkedInUrl
{
    /// <summary>
    /// Normalises a profile URL: no scheme, no <c>www.</c> or country subdomain, no query, fragment or trailing path,
    /// lower case, percent-escapes decoded. Returns null when it is not a linkedin.com <c>/in/</c> profile URL.
    /// </summary>
    public static string? TryNormalize(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return null;
        }

        var text = url.Trim();
        var cut = text.IndexOfAny(['?', '#']);
        if (cut >= 0)
        {
            text = text[..cut];
        }

        var match = ProfilePattern().Match(text);
        if (!match.Success)
        {
            return null;
        }

        string slug;
        try
        {
            slug = Uri.UnescapeDataString(match.Groups["slug"].Value).ToLowerInvariant();
        }
        catch (UriFormatException)
        {
            return null;
        }

        return SlugPattern().IsMatch(slug) ? "linkedin.com/in/" + slug : null;
    }

    /// <summary>The normal form of a URL already known to be valid.</summary>
    public static string Normalize(string url) => TryNormalize(url) ?? throw new ArgumentException("not a LinkedIn profile URL", nameof(url));

    // Optional scheme, optional www. or a two-letter country subdomain, then /in/<slug>, optionally more path.
    [GeneratedRegex(@"^(https?://)?((www|[a-z]{2})\.)?linkedin\.com/in/(?<slug>[^/\s]+)(/[^\s]*)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ProfilePattern();

    [GeneratedRegex(@"^[\p{L}\p{N}_-]{2,100}$", RegexOptions.CultureInvariant)]
    private static partial Regex SlugPattern();
}
