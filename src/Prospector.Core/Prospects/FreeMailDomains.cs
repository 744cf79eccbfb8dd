namespace Prospector.Core.Prospects;

/// <summary>Consumer mailbox providers: their domain says nothing about the prospect's company.</summary>
public static class FreeMailDomains
{
    private static readonly HashSet<string> Exact = new(StringComparer.Ordinal)
    {
        "gmail.com", "googlemail.com", "msn.com", "icloud.com", "me.com", "mac.com", "aol.com", "aim.com", "web.de",
        "proton.me", "pm.me", "mail.ru", "inbox.ru", "bk.ru", "list.ru", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net",
        "sfr.fr", "qq.com", "163.com", "126.com", "sina.com", "naver.com", "daum.net", "zoho.com", "mail.com", "gmx.com",
        "fastmail.com", "tutanota.com", "tuta.io", "ya.ru", "rambler.ru", "libero.it", "t-online.de", "freenet.de", "seznam.cz",
        "wp.pl", "o2.pl", "interia.pl", "rediffmail.com", "btinternet.com", "comcast.net", "verizon.net", "att.net", "sbcglobal.net",
    };

    // Brands with one domain per country (yahoo.co.uk, hotmail.fr, gmx.de, ...).
    private static readonly HashSet<string> Brands = new(StringComparer.Ordinal)
    {
        "yahoo", "ymail", "hotmail", "outlook", "live", "gmx", "protonmail", "yandex",
    };

    /// <summary>True when <paramref name="domain"/> (lower case) belongs to a free-mail provider.</summary>
    public static bool IsFreeMail(string domain)
    {
        if (Exact.Contains(domain))
        {
            return true;
        }

        var dot = domain.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !Brands.Contains(domain[..dot]))
        {
            return false;
        }

        // The rest must look like a public suffix (com, fr, co.uk, com.br), not a company's own subdomain.
        var suffix = domain[(dot + 1)..].Split('.');
        return suffix.Length <= 2 && suffix.All(label => label.Length is >= 2 and <= 3);
    }
}
