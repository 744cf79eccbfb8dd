using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Prospector.Core.Email;

/// <summary>What a signed link is for; part of the MAC, so a token made for one purpose is refused for another.</summary>
public enum LinkPurpose : byte
{
    /// <summary>The RFC 8058 one-click unsubscribe link (and its confirmation page).</summary>
    Unsubscribe = 1,
    /// <summary>The open-tracking pixel.</summary>
    Open = 2,
    /// <summary>A click-tracking redirect; the MAC also covers the target URL.</summary>
    Click = 3,
}

/// <summary>
/// Signs and reads the tokens of the links we put into emails: base64url of the send id (16 bytes) and an HMAC-SHA256
/// tag (truncated to 16 bytes) over purpose, send id and, for clicks, the target URL. Nothing is stored per link; a
/// token cannot be forged or re-pointed at another URL without the key (no open redirect).
/// </summary>
public sealed class LinkSigner
{
    private const int IdBytes = 16;
    private const int TagBytes = 16;
    private readonly byte[] _key;

    /// <summary>Creates a signer over a key of at least 32 bytes.</summary>
    public LinkSigner(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < 32)
        {
            throw new ArgumentException("The link key must be at least 32 bytes.", nameof(key));
        }

        _key = (byte[])key.Clone();
    }

    /// <summary>The token for <paramref name="sendId"/>; <paramref name="url"/> is required for <see cref="LinkPurpose.Click"/> only.</summary>
    public string Token(LinkPurpose purpose, Guid sendId, string? url = null)
    {
        Span<byte> buffer = stackalloc byte[IdBytes + TagBytes];
        sendId.TryWriteBytes(buffer[..IdBytes], bigEndian: true, out _);
        Tag(purpose, buffer[..IdBytes], url, buffer[IdBytes..]);
        return Base64Url.EncodeToString(buffer);
    }

    /// <summary>Reads a token back; false when it is malformed, made for another purpose or URL, or signed with another key.</summary>
    public bool TryRead(LinkPurpose purpose, string? token, out Guid sendId, string? url = null)
    {
        sendId = Guid.Empty;
        if (string.IsNullOrEmpty(token) || token.Length > 64 || !token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return false;
        }

        Span<byte> buffer = stackalloc byte[48];
        if (!Base64Url.TryDecodeFromChars(token, buffer, out var written) || written != IdBytes + TagBytes)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[TagBytes];
        Tag(purpose, buffer[..IdBytes], url, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, buffer[IdBytes..written]))
        {
            return false;
        }

        sendId = new Guid(buffer[..IdBytes], bigEndian: true);
        return true;
    }

    private void Tag(LinkPurpose purpose, ReadOnlySpan<byte> id, string? url, Span<byte> tag)
    {
        if (purpose == LinkPurpose.Click && url is null)
        {
            throw new ArgumentNullException(nameof(url), "A click token covers its target URL.");
        }

        var urlBytes = url is null ? [] : Encoding.UTF8.GetBytes(url);
        var input = new byte[1 + IdBytes + urlBytes.Length];
        input[0] = (byte)purpose;
        id.CopyTo(input.AsSpan(1));
        urlBytes.CopyTo(input.AsSpan(1 + IdBytes));
        Span<byte> full = stackalloc byte[32];
        HMACSHA256.HashData(_key, input, full);
        full[..TagBytes].CopyTo(tag);
    }
}
