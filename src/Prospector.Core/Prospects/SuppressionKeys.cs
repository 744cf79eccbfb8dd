using System.Security.Cryptography;
using System.Text;

namespace Prospector.Core.Prospects;

/// <summary>
/// The keys of the suppression list: SHA-256 hex of the normalised address (kind <c>address</c>), or of '@' plus the
/// lower-cased domain (kind <c>domain</c>). The '@' keeps the two key spaces apart: no address hashes like a domain.
/// </summary>
public static class SuppressionKeys
{
    /// <summary>An entry for one address.</summary>
    public const string AddressKind = "address";

    /// <summary>An entry for every address at a domain.</summary>
    public const string DomainKind = "domain";

    /// <summary>The key of an address entry.</summary>
    public static string ForAddress(string address) => EmailAddress.Hash(address);

    /// <summary>The key of a domain entry (<paramref name="domain"/> as given, e.g. <c>acme.com</c>).</summary>
    public static string ForDomain(string domain)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("@" + NormalizeDomain(domain))));

    /// <summary>The key of the domain entry that covers <paramref name="address"/>.</summary>
    public static string ForDomainOf(string address) => ForDomain(EmailAddress.Domain(address));

    /// <summary>Trims, lower-cases and drops one trailing dot (<c>Acme.COM.</c> → <c>acme.com</c>).</summary>
    public static string NormalizeDomain(string domain)
    {
        var d = domain.Trim().ToLowerInvariant();
        return d.EndsWith('.') ? d[..^1] : d;
    }

    /// <summary>A domain that can carry mail: the domain part of a valid address (dotted, no spaces or '@').</summary>
    public static bool IsValidDomain(string? domain)
        => !string.IsNullOrWhiteSpace(domain) && domain.Length <= 253 && !domain.Contains('@', StringComparison.Ordinal)
            && EmailAddress.IsValid("x@" + NormalizeDomain(domain));
}
