using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>Connect the workspace's CRM. Today: "webhook" (Standard Webhooks signed POSTs). Omit the secret to have one generated.</summary>
public sealed record CrmConnectionRequest(string Kind, string Url, string? Secret = null);

/// <summary>The CRM connection; the secret only appears in the response that generated it.</summary>
public sealed record CrmConnectionResponse(string Kind, string Url, DateTimeOffset UpdatedAt, string? GeneratedSecret);

/// <summary>One CRM outbox row: a push and how it went.</summary>
public sealed record CrmOutboxResponse(Guid Id, Guid EnrollmentId, string EventType, string State, int Attempts, int? LastStatus, string? LastError, DateTimeOffset NextAttemptAt, DateTimeOffset CreatedAt, DateTimeOffset? DeliveredAt);

/// <summary>The CRM connection and outbox.</summary>
public static class CrmApi
{
    /// <summary>Maps /api/crm.</summary>
    public static RouteGroupBuilder MapCrmApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/crm").WithTags("CRM");
        group.MapPut("/connection", PutAsync).RequireAdmin();
        group.MapGet("/connection", GetAsync);
        group.MapGet("/outbox", OutboxAsync);
        return api;
    }

    private static async Task<Results<Ok<CrmConnectionResponse>, ValidationProblem>> PutAsync(
        CrmConnectionRequest request, HttpContext http, CrmStore store, SecretProtector secrets, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<ValidationError>();
        if (request.Kind != "webhook")
        {
            errors.Add(new("kind", "must be 'webhook' (HubSpot, Pipedrive and Salesforce come later)"));
        }

        if (!Uri.TryCreate(request.Url, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http") || !string.IsNullOrEmpty(url.UserInfo))
        {
            errors.Add(new("url", "must be an absolute http(s) URL without credentials"));
        }

        if (request.Secret is { Length: < 16 or > 512 })
        {
            errors.Add(new("secret", "must be 16 to 512 characters (or omit it to have one generated)"));
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var generated = request.Secret is null ? "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) : null;
        var row = new CrmConnectionRow
        {
            WorkspaceId = http.User.GetWorkspaceId(),
            Kind = request.Kind,
            Endpoint = url!.ToString(),
            SecretProtected = secrets.Protect(request.Secret ?? generated)!,
            UpdatedAt = clock.GetUtcNow(),
        };
        await store.SaveConnectionAsync(row, ct);
        return TypedResults.Ok(new CrmConnectionResponse(row.Kind, row.Endpoint, row.UpdatedAt, generated));
    }

    private static async Task<Results<Ok<CrmConnectionResponse>, ProblemHttpResult>> GetAsync(HttpContext http, CrmStore store, CancellationToken ct)
        => await store.GetConnectionAsync(http.User.GetWorkspaceId(), ct) is { } c
            ? TypedResults.Ok(new CrmConnectionResponse(c.Kind, c.Endpoint, c.UpdatedAt, null))
            : Problems.NotFound("CRM connection");

    private static async Task<Ok<CrmOutboxResponse[]>> OutboxAsync(HttpContext http, CrmStore store, CancellationToken ct, int limit = 100)
        => TypedResults.Ok((await store.ListAsync(http.User.GetWorkspaceId(), Math.Clamp(limit, 1, 1000), ct))
            .Select(r => new CrmOutboxResponse(r.Id, r.EnrollmentId, r.EventType, r.State, r.Attempts, r.LastStatus, r.LastError, r.NextAttemptAt, r.CreatedAt, r.DeliveredAt))
            .ToArray());
}
