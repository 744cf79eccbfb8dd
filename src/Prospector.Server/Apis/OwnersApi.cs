using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Prospects;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>A new owner (rep/SDR).</summary>
public sealed record CreateOwnerRequest(string Name, string? Email = null);

/// <summary>A partial update of an owner. An empty <see cref="Email"/> clears it.</summary>
public sealed record PatchOwnerRequest(string? Name = null, string? Email = null);

/// <summary>An owner.</summary>
public sealed record OwnerResponse(Guid Id, string Name, string? Email, string State, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    internal static OwnerResponse From(OwnerRow o) => new(o.Id, o.Name, o.Email, o.State, o.CreatedAt, o.UpdatedAt);
}

/// <summary>Owners: the reps/SDRs that prospects, enrollments, tasks and mailboxes belong to. Writes are admin only.</summary>
public static class OwnersApi
{
    /// <summary>Maps /api/owners.</summary>
    public static RouteGroupBuilder MapOwnersApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/owners").WithTags("Owners");
        group.MapPost("/", CreateAsync).RequireAdmin();
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapPatch("/{id:guid}", PatchAsync).RequireAdmin();
        group.MapDelete("/{id:guid}", ArchiveAsync).RequireAdmin();
        return api;
    }

    private static async Task<Results<Created<OwnerResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateOwnerRequest request, HttpContext http, OwnerStore store, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<ValidationError>();
        Fields.Text(request.Name, "name", 200, required: true, errors);
        var email = Email(request.Email, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var now = clock.GetUtcNow();
        var row = new OwnerRow
        {
            Id = Guid.CreateVersion7(now), WorkspaceId = http.User.GetWorkspaceId(), Name = request.Name.Trim(), Email = email,
            State = OwnerStates.Active, CreatedAt = now, UpdatedAt = now,
        };
        return await store.CreateAsync(row, ct)
            ? TypedResults.Created($"/api/owners/{row.Id}", OwnerResponse.From(row))
            : EmailTaken();
    }

    private static async Task<Results<Ok<Page<OwnerResponse>>, ValidationProblem>> ListAsync(
        HttpContext http, OwnerStore store, CancellationToken ct, string? state = null, Guid? after = null, int limit = 100)
    {
        if (state is not (null or OwnerStates.Active or OwnerStates.Archived))
        {
            return Problems.Validation([new ValidationError("state", "must be 'active' or 'archived'")]);
        }

        limit = Math.Clamp(limit, 1, 1000);
        var rows = await store.ListAsync(http.User.GetWorkspaceId(), state, after, limit, ct);
        return TypedResults.Ok(new Page<OwnerResponse>(rows.Select(OwnerResponse.From).ToArray(), rows.Count == limit ? rows[^1].Id : null));
    }

    private static async Task<Results<Ok<OwnerResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, OwnerStore store, CancellationToken ct)
        => await store.GetAsync(http.User.GetWorkspaceId(), id, ct) is { } o ? TypedResults.Ok(OwnerResponse.From(o)) : Problems.NotFound("owner");

    private static async Task<Results<Ok<OwnerResponse>, ValidationProblem, ProblemHttpResult>> PatchAsync(
        Guid id, PatchOwnerRequest request, HttpContext http, OwnerStore store, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        if (await store.GetAsync(workspaceId, id, ct) is not { } current)
        {
            return Problems.NotFound("owner");
        }

        var errors = new List<ValidationError>();
        if (request.Name is not null)
        {
            Fields.Text(request.Name, "name", 200, required: true, errors);
        }

        var email = request.Email is null ? current.Email : Email(request.Email, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        if (!await store.UpdateAsync(workspaceId, id, request.Name?.Trim() ?? current.Name, email, clock.GetUtcNow(), ct))
        {
            return EmailTaken();
        }

        return TypedResults.Ok(OwnerResponse.From((await store.GetAsync(workspaceId, id, ct))!));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ArchiveAsync(Guid id, HttpContext http, OwnerStore store, TimeProvider clock, CancellationToken ct)
        => await store.ArchiveAsync(http.User.GetWorkspaceId(), id, clock.GetUtcNow(), ct) ? TypedResults.NoContent() : Problems.NotFound("owner");

    private static string? Email(string? email, List<ValidationError> errors)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            return null;
        }

        if (Fields.HasLineBreakOrNul(email) || !EmailAddress.IsValid(email.Trim()))
        {
            errors.Add(new("email", "is not a valid email address"));
        }

        return email.Trim();
    }

    private static ProblemHttpResult EmailTaken() => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: "another owner of this workspace has this email",
        extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["email"] = ["already used by another owner"] } });
}
