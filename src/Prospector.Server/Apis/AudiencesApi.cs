using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Prospector.Core;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>Creates or renames an audience.</summary>
public sealed record AudienceRequest(string Name);

/// <summary>Prospects to add to or remove from an audience.</summary>
public sealed record AudienceMembersRequest(Guid[] ProspectIds);

/// <summary>An audience.</summary>
public sealed record AudienceResponse(Guid Id, string Name, int Members, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    internal static AudienceResponse From(AudienceRow a) => new(a.Id, a.Name, a.Members, a.CreatedAt, a.UpdatedAt);
}

/// <summary>What a membership change did.</summary>
public sealed record AudienceMembersResponse(int Changed, int Members);

/// <summary>Audiences: named lists of prospects. Deleting one removes the membership only, never the prospects.</summary>
public static class AudiencesApi
{
    private const int MaxMembersPerCall = 10_000;

    /// <summary>Maps /api/audiences.</summary>
    public static RouteGroupBuilder MapAudiencesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/audiences").WithTags("Audiences");
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapPatch("/{id:guid}", RenameAsync);
        group.MapDelete("/{id:guid}", DeleteAsync);
        group.MapPost("/{id:guid}/members", AddMembersAsync);
        group.MapDelete("/{id:guid}/members", RemoveMembersAsync);
        return api;
    }

    private static async Task<Results<Created<AudienceResponse>, ValidationProblem>> CreateAsync(
        AudienceRequest request, HttpContext http, AudienceStore store, TimeProvider clock, CancellationToken ct)
    {
        if (CheckName(request.Name) is { } error)
        {
            return Problems.Validation([error]);
        }

        var row = await store.CreateAsync(http.User.GetWorkspaceId(), request.Name.Trim(), clock.GetUtcNow(), ct);
        return TypedResults.Created($"/api/audiences/{row.Id}", AudienceResponse.From(row));
    }

    private static async Task<Ok<Page<AudienceResponse>>> ListAsync(HttpContext http, AudienceStore store, CancellationToken ct, Guid? after = null, int limit = 100)
    {
        limit = Math.Clamp(limit, 1, 1000);
        var rows = await store.ListAsync(http.User.GetWorkspaceId(), after, limit, ct);
        return TypedResults.Ok(new Page<AudienceResponse>(rows.Select(AudienceResponse.From).ToArray(), rows.Count == limit ? rows[^1].Id : null));
    }

    private static async Task<Results<Ok<AudienceResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, AudienceStore store, CancellationToken ct)
        => await store.GetAsync(http.User.GetWorkspaceId(), id, ct) is { } a ? TypedResults.Ok(AudienceResponse.From(a)) : Problems.NotFound("audience");

    private static async Task<Results<Ok<AudienceResponse>, ValidationProblem, ProblemHttpResult>> RenameAsync(
        Guid id, AudienceRequest request, HttpContext http, AudienceStore store, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        if (await store.GetAsync(workspaceId, id, ct) is null)
        {
            return Problems.NotFound("audience");
        }

        if (CheckName(request.Name) is { } error)
        {
            return Problems.Validation([error]);
        }

        await store.RenameAsync(workspaceId, id, request.Name.Trim(), clock.GetUtcNow(), ct);
        return TypedResults.Ok(AudienceResponse.From((await store.GetAsync(workspaceId, id, ct))!));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid id, HttpContext http, AudienceStore store, CancellationToken ct)
        => await store.DeleteAsync(http.User.GetWorkspaceId(), id, ct) ? TypedResults.NoContent() : Problems.NotFound("audience");

    private static async Task<Results<Ok<AudienceMembersResponse>, ValidationProblem, ProblemHttpResult>> AddMembersAsync(
        Guid id, AudienceMembersRequest request, HttpContext http, AudienceStore store, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        if (await store.GetAsync(workspaceId, id, ct) is null)
        {
            return Problems.NotFound("audience");
        }

        if (await CheckMembersAsync(workspaceId, request, store, ct) is { } problem)
        {
            return problem;
        }

        var added = await store.AddMembersAsync(id, request.ProspectIds, clock.GetUtcNow(), ct);
        return TypedResults.Ok(new AudienceMembersResponse(added, (await store.GetAsync(workspaceId, id, ct))!.Members));
    }

    private static async Task<Results<Ok<AudienceMembersResponse>, ValidationProblem, ProblemHttpResult>> RemoveMembersAsync(
        Guid id, [FromBody] AudienceMembersRequest request, HttpContext http, AudienceStore store, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        if (await store.GetAsync(workspaceId, id, ct) is null)
        {
            return Problems.NotFound("audience");
        }

        if (await CheckMembersAsync(workspaceId, request, store, ct) is { } problem)
        {
            return problem;
        }

        var removed = await store.RemoveMembersAsync(id, request.ProspectIds, ct);
        return TypedResults.Ok(new AudienceMembersResponse(removed, (await store.GetAsync(workspaceId, id, ct))!.Members));
    }

    // Another workspace's prospect ids are reported exactly like ids that do not exist.
    private static async Task<ValidationProblem?> CheckMembersAsync(Guid workspaceId, AudienceMembersRequest request, AudienceStore store, CancellationToken ct)
    {
        if (request.ProspectIds.Length is 0 or > MaxMembersPerCall)
        {
            return Problems.Validation([new ValidationError("prospectIds", $"give 1 to {MaxMembersPerCall} prospect ids")]);
        }

        var unknown = (await store.UnknownProspectsAsync(workspaceId, request.ProspectIds, ct)).ToHashSet();
        return unknown.Count == 0
            ? null
            : Problems.Validation(request.ProspectIds.Select((p, i) => (p, i)).Where(x => unknown.Contains(x.p))
                .Select(x => new ValidationError($"prospectIds[{x.i}]", "prospect not found")));
    }

    private static ValidationError? CheckName(string name)
        => string.IsNullOrWhiteSpace(name) || name.Trim().Length > 200 || name.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0
            ? new ValidationError("name", "1 to 200 characters on one line")
            : null;
}
