using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Prospector.Crm.Webhook;

/// <summary>
/// Signing and verification per the Standard Webhooks specification (https://www.standardwebhooks.com/):
/// <c>webhook-signature = "v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))</c>, where the key is the
/// base64 part after <c>whsec_</c>, or the secret's UTF-8 bytes when it has no such prefix.
/// Used by our sender and by receivers (and tests) that verify what we send.
/// </summary>
public static class StandardWebhookSignature
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    private const string SecretPrefix = "whsec_";
    private const string VersionPrefix = "v1,";
    private const int MacLength = 32;

    /// <summary>How far a timestamp may be from the receiver's clock, either way (the specification's recommendation).</summary>
    public static TimeSpan DefaultTolerance { get; } = TimeSpan.FromMinutes(5);

    /// <summary>The <c>webhook-signature</c> value (<c>v1,&lt;base64&gt;</c>) for one attempt.</summary>
    /// <exception cref="FormatException">The secret starts with <c>whsec_</c> but the rest is not base64.</exception>
    public static string Sign(string secret, string id, long timestamp, string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return Sign(secret, id, timestamp, Encoding.UTF8.GetBytes(body));
    }

    /// <inheritdoc cref="Sign(string, string, long, string)"/>
    public static string Sign(string secret, string id, long timestamp, ReadOnlySpan<byte> body)
        => Sign(DecodeSecret(secret), id, timestamp, body);

    /// <summary>
    /// True when <paramref name="timestamp"/> is within <paramref name="tolerance"/> of now and at least one of the
    /// space-separated <c>v1,</c> entries in <paramref name="signatures"/> matches (compared in constant time).
    /// Header values come straight from the request; missing or malformed ones give false, never an exception.
    /// </summary>
    /// <param name="secret">The endpoint's signing secret (<c>whsec_…</c> or plain).</param>
    /// <param name="id">The <c>webhook-id</c> header.</param>
    /// <param name="timestamp">The <c>webhook-timestamp</c> header (Unix seconds).</param>
    /// <param name="signatures">The <c>webhook-signature</c> header.</param>
    /// <param name="body">The raw request body, exactly as received.</param>
    /// <param name="tolerance">Defaults to <see cref="DefaultTolerance"/>.</param>
    /// <param name="timeProvider">The receiver's clock; defaults to <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="FormatException">The secret is malformed (a configuration error, not a bad request).</exception>
    public static bool Verify(
        string secret, string? id, string? timestamp, string? signatures, string body,
        TimeSpan? tolerance = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return Verify(secret, id, timestamp, signatures, Encoding.UTF8.GetBytes(body), tolerance, timeProvider);
    }

    /// <inheritdoc cref="Verify(string, string?, string?, string?, string, TimeSpan?, TimeProvider?)"/>
    public static bool Verify(
        string secret, string? id, string? timestamp, string? signatures, ReadOnlySpan<byte> body,
        TimeSpan? tolerance = null, TimeProvider? timeProvider = null)
    {
        var key = DecodeSecret(secret);
        var allowed = tolerance ?? DefaultTolerance;
        ArgumentOutOfRangeException.ThrowIfLessThan(allowed, TimeSpan.Zero, nameof(tolerance));

        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(signatures)
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return false;
        }

        var now = (timeProvider ?? TimeProvider.System).GetUtcNow().ToUnixTimeSeconds();
        var allowedSeconds = (long)allowed.TotalSeconds;
        if (seconds < now - allowedSeconds || seconds > now + allowedSeconds)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[MacLength];
        ComputeMac(key, id, seconds, body, expected);

        Span<byte> candidate = stackalloc byte[MacLength + 3];
        foreach (var entry in signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (entry.StartsWith(VersionPrefix, StringComparison.Ordinal)
                && Convert.TryFromBase64Chars(entry.AsSpan(VersionPrefix.Length), candidate, out var written)
                && written == MacLength
                && CryptographicOperations.FixedTimeEquals(candidate[..MacLength], expected))
            {
                return true;
            }
        }

        return false;
    }

    internal static string Sign(byte[] key, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        Span<byte> mac = stackalloc byte[MacLength];
        ComputeMac(key, id, timestamp, body, mac);
        return VersionPrefix + Convert.ToBase64String(mac);
    }

    /// <summary>The HMAC key: base64 after <c>whsec_</c>, else the UTF-8 bytes.</summary>
    /// <exception cref="FormatException">The part after <c>whsec_</c> is not base64.</exception>
    internal static byte[] DecodeSecret(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var key = secret.StartsWith(SecretPrefix, StringComparison.Ordinal)
            ? Convert.FromBase64String(secret[SecretPrefix.Length..])
            : Encoding.UTF8.GetBytes(secret);
        return key.Length > 0 ? key : throw new FormatException("The signing secret has an empty key.");
    }

    internal static bool TryDecodeSecret(string? secret, out byte[] key)
    {
        try
        {
            key = DecodeSecret(secret!);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            key = [];
            return false;
        }
    }

    private static void ComputeMac(byte[] key, string id, long timestamp, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{id}.{timestamp}.")));
        hmac.AppendData(body);
        hmac.GetHashAndReset(destination);
    }
}
