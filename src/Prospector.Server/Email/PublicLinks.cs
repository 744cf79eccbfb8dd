using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Prospector.Core.Email;
using Prospector.Server.Hosting;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Email;

/// <summary>
/// The links we put into emails (one-click unsubscribe, open pixel, click redirects), signed with the instance's link
/// key: 32 random bytes created once in <c>server_secrets</c>, encrypted with Data Protection, shared by every process.
/// </summary>
public sealed class PublicLinks(ServerSecretStore secretsStore, SecretProtector protector, IOptions<EmailOptions> options, TimeProvider clock)
{
    private const string KeyName = "link_key";
    private LinkSigner? _signer;

    /// <summary>The configured public base URL without a trailing slash, or null (no https links, no tracking).</summary>
    public string? BaseUrl { get; } = options.Value.PublicBaseUrl is { Length: > 0 } url ? url.TrimEnd('/') : null;

    /// <summary>The signer over the instance's link key (created on first use).</summary>
    public async ValueTask<LinkSigner> SignerAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _signer) is { } signer)
        {
            return signer;
        }

        var stored = await secretsStore.GetOrCreateAsync(
            KeyName, () => protector.Protect(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)))!, clock.GetUtcNow(), ct);
        signer = new LinkSigner(Convert.FromBase64String(protector.Unprotect(stored)!));
        Volatile.Write(ref _signer, signer);
        return signer;
    }

    /// <summary>The RFC 8058 one-click URL (POST unsubscribes, GET shows a confirmation page); null without a base URL.</summary>
    public string? UnsubscribeUrl(LinkSigner signer, Guid sendId)
        => BaseUrl is null ? null : $"{BaseUrl}/u/{signer.Token(LinkPurpose.Unsubscribe, sendId)}";

    /// <summary>The open pixel's URL; null without a base URL.</summary>
    public string? OpenPixelUrl(LinkSigner signer, Guid sendId)
        => BaseUrl is null ? null : $"{BaseUrl}/t/o/{signer.Token(LinkPurpose.Open, sendId)}";

    /// <summary>A click redirect to <paramref name="target"/>; null without a base URL.</summary>
    public string? ClickUrl(LinkSigner signer, Guid sendId, string target)
        => BaseUrl is null ? null : $"{BaseUrl}/t/c/{signer.Token(LinkPurpose.Click, sendId, target)}?u={Uri.EscapeDataString(target)}";
}
