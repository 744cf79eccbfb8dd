using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>A new API key for the caller's workspace. Role: admin, sdr or viewer.</summary>
public sealed record CreateApiKeyRequest(string Name, string Role);

/// <summary>An API key as listed: never the key or its hash.</summary>
public sealed record ApiKeyResponse(Guid Id, string Name, string Role, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    internal static ApiKeyResponse From(ApiKeyRow k) => new(k.Id, k.Name, k.Role, k.Prefix, k.CreatedAt, k.RevokedAt);
}

/// <summary>A key just created: <see cref="Key"/> is shown this once and never again.</summary>
public sealed record CreatedApiKeyResponse(Guid Id, string Name, string Role, string Prefix, DateTimeOffset CreatedAt, string Key);

/// <summary>API keys of the caller's workspace (admin only, reads included: key names and prefixes are the admin's business).</summary>
public static class KeysApi
{
    /// <summary>Maps /api/keys.</summary>
    public static RouteGroupBuilder MapKeysApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/keys").WithTags("API keys").RequireAdmin();
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapDelete("/{id:guid}", RevokeAsync);
        return api;
    }

    private static async Task<Results<Created<CreatedApiKeyResponse>, ValidationProblem>> CreateAsync(
        CreateApiKeyRequest request, HttpContext http, WorkspaceStore store, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<ValidationError>();
        Fields.Text(request.Name, "name", 200, required: true, errors);
        if (!ApiRoles.IsValid(request.Role))
        {
            errors.Add(new("role", $"must be one of: {string.Join(", ", ApiRoles.All)}"));
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var key = ApiKeys.Generate();
        var row = await store.CreateApiKeyAsync(
            http.User.GetWorkspaceId(), request.Name.Trim(), request.Role, ApiKeys.DisplayPrefix(key), ApiKeys.Hash(key), http.User.GetApiKeyId(), clock.GetUtcNow(), ct);
        return TypedResults.Created($"/api/keys/{row.Id}", new CreatedApiKeyResponse(row.Id, row.Name, row.Role, row.Prefix, row.CreatedAt, key));
    }

    private static async Task<Ok<Page<ApiKeyResponse>>> ListAsync(HttpContext http, WorkspaceStore store, CancellationToken ct, Guid? after = null, int limit = 100)
    {
        limit = Math.Clamp(limit, 1, 1000);
        var rows = await store.ListApiKeysAsync(http.User.GetWorkspaceId(), after, limit, ct);
        return TypedResults.Ok(new Page<ApiKeyResponse>(rows.Select(ApiKeyResponse.From).ToArray(), rows.Count == limit ? rows[^1].Id : null));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(Guid id, HttpContext http, WorkspaceStore store, TimeProvider clock, CancellationToken ct)
        => await store.RevokeApiKeyAsync(http.User.GetWorkspaceId(), id, clock.GetUtcNow(), ct) switch
        {
            RevokeKeyResult.Revoked => TypedResults.NoContent(),
            RevokeKeyResult.LastAdmin => TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict, title: "Conflict",
                detail: "this is the workspace's last active admin key; create another admin key before revoking it"),
            _ => Problems.NotFound("API key"),
        };
}
