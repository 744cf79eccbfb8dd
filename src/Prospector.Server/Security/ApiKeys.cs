using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Prospector.Storage.Stores;

namespace Prospector.Server.Security;

/// <summary>API key format and hashing. Keys are 256-bit random; a fast hash is enough for such keys.</summary>
public static class ApiKeys
{
    /// <summary>Every key starts with this, so leaked keys are easy to spot.</summary>
    public const string Prefix = "psk_";

    /// <summary>A new random key.</summary>
    public static string Generate() => Prefix + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    /// <summary>What the database stores for a key.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The part of a key safe to show in listings.</summary>
    public static string DisplayPrefix(string key) => key[..Math.Min(key.Length, 10)];

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>The caller's workspace and role, from the authenticated principal.</summary>
public static class WorkspaceClaims
{
    /// <summary>Claim type holding the workspace id.</summary>
    public const string WorkspaceId = "prospector:workspace";

    /// <summary>The caller's workspace. Endpoints use nothing else to scope data.</summary>
    public static Guid GetWorkspaceId(this ClaimsPrincipal user)
        => Guid.Parse(user.FindFirstValue(WorkspaceId) ?? throw new InvalidOperationException("not authenticated"));
}

/// <summary>Authenticates <c>Authorization: Bearer psk_…</c> (or <c>X-Api-Key</c>) against the stored key hashes.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, WorkspaceStore workspaces)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme name.</summary>
    public const string SchemeName = "ApiKey";

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? key = null;
        var authorization = Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = authorization["Bearer ".Length..].Trim();
        }
        else if (Request.Headers.TryGetValue("X-Api-Key", out var header))
        {
            key = header.ToString().Trim();
        }

        if (string.IsNullOrEmpty(key))
        {
            return AuthenticateResult.NoResult();
        }

        var row = await workspaces.FindApiKeyAsync(ApiKeys.Hash(key), Context.RequestAborted);
        if (row is null)
        {
            return AuthenticateResult.Fail("unknown or revoked API key");
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, row.Id.ToString()),
                new Claim(ClaimTypes.Name, row.Name),
                new Claim(ClaimTypes.Role, row.Role),
                new Claim(WorkspaceClaims.WorkspaceId, row.WorkspaceId.ToString()),
            ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    /// <inheritdoc />
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Response.WriteAsJsonAsync(new { type = "https://tools.ietf.org/html/rfc9110#section-15.5.2", title = "Unauthorized", status = 401, detail = "send an API key as 'Authorization: Bearer psk_…'" },
            options: null, contentType: "application/problem+json");
    }
}
