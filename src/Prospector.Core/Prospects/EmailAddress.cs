using System.Security.Cryptography;
using System.Text;

namespace Prospector.Core.Prospects;

/// <summary>Email address checks and the normal form used for dedup and suppression.</summary>
public static class EmailAddress
{
    /// <summary>
    /// Lower-cases and trims an address. The local part is kept whole (plus tags included): providers differ on what
    /// is equivalent, and suppressing too little is worse than deduplicating too little.
    /// </summary>
    public static string Normalize(string address) => address.Trim().ToLowerInvariant();

    /// <summary>SHA-256 of the normalised address, hex: what the suppression list stores.</summary>
    public static string Hash(string address)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Normalize(address))));

    /// <summary>The domain part, lower-cased.</summary>
    public static string Domain(string address)
    {
        var normalized = Normalize(address);
        return normalized[(normalized.LastIndexOf('@') + 1)..];
    }

    /// <summary>A pragmatic check for an addr-spec a prospecting tool can send to: one @, a local part, a dotted domain,
    /// no spaces, control characters, angle brackets or quotes.</summary>
    public static bool IsValid(string? address)
    {
        if (string.IsNullOrWhiteSpace(address) || address.Length > 254)
        {
            return false;
        }

        var at = address.IndexOf('@');
        if (at <= 0 || at != address.LastIndexOf('@') || at > 64 || at == address.Length - 1)
        {
            return false;
        }

        foreach (var c in address)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or '"' or '(' or ')' or ',' or ';' or ':' or '\\' or '[' or ']')
            {
                return false;
            }
        }

        var domain = address[(at + 1)..];
        return domain.Contains('.', StringComparison.Ordinal)
            && !domain.StartsWith('.') && !domain.EndsWith('.')
            && !domain.Contains("..", StringComparison.Ordinal)
            && !address[..at].StartsWith('.') && !address[..at].EndsWith('.');
    }
}
