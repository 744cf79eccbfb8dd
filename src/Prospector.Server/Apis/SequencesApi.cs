using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Sequences;
using Prospector.Core.Templates;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>A new sequence: a name and its steps (validated all at once, every error with its path), optionally its owner.</summary>
public sealed record CreateSequenceRequest(string Name, JsonElement Steps, Guid? OwnerId = null, SequenceTrackingRequest? Tracking = null);

/// <summary>Open and click tracking of a sequence's emails (both off by default; they need <c>EmailOptions:PublicBaseUrl</c>).</summary>
public sealed record SequenceTrackingRequest(bool? Opens = null, bool? Clicks = null);

/// <summary>Open and click tracking as stored.</summary>
public sealed record SequenceTracking(bool Opens, bool Clicks);

/// <summary>An edit: new steps (stored as the next version) and optionally a new name.</summary>
public sealed record UpdateSequenceRequest(JsonElement Steps, string? Name = null, SequenceTrackingRequest? Tracking = null);

/// <summary>A sequence as stored: its state and newest version.</summary>
public sealed record SequenceResponse(
    Guid Id, string Name, string State, int Version, JsonElement Steps, Guid? OwnerId, SequenceTracking Tracking, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    internal static SequenceResponse From(SequenceRow s)
        => new(s.Id, s.Name, s.State, s.Version, SequencesApi.Json(s.Definition), s.OwnerId, new(s.TrackOpens, s.TrackClicks), s.CreatedAt, s.UpdatedAt);
}

/// <summary>One immutable version of a sequence, with how many enrollments run on it (active or paused).</summary>
public sealed record SequenceVersionResponse(int Version, JsonElement Steps, long RunningEnrollments, DateTimeOffset CreatedAt)
{
    internal static SequenceVersionResponse From(SequenceVersionRow v) => new(v.Version, SequencesApi.Json(v.Definition), v.RunningEnrollments, v.CreatedAt);
}

/// <summary>
/// Sequences: immutable versions (an edit stores version N+1; running enrollments stay on theirs until moved through
/// <c>/migrations</c>), states (active ⇄ paused → archived), preview and enrolling.
/// </summary>
public static class SequencesApi
{
    private const int MaxNameLength = 200;

    /// <summary>Maps /api/sequences and its sub-resources.</summary>
    public static RouteGroupBuilder MapSequencesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/sequences").WithTags("Sequences");
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapPut("/{id:guid}", UpdateAsync);
        group.MapGet("/{id:guid}/versions", VersionsAsync);
        group.MapGet("/{id:guid}/versions/{version:int}", VersionAsync);
        group.MapPost("/{id:guid}/pause", (Guid id, HttpContext http, SequenceStore store, TimeProvider clock, CancellationToken ct)
            => ChangeStateAsync(id, SequenceTransition.Pause, http, store, clock, ct));
        group.MapPost("/{id:guid}/resume", ResumeAsync);
        group.MapPost("/{id:guid}/archive", (Guid id, HttpContext http, SequenceStore store, TimeProvider clock, CancellationToken ct)
            => ChangeStateAsync(id, SequenceTransition.Archive, http, store, clock, ct));
        group.MapSequenceMigrationsApi();
        group.MapSequencePreviewApi();
        group.MapSequenceEnrollmentsApi();
        group.MapSequenceSimulationApi();
        return api;
    }

    /// <summary>A 409: the sequence's state does not allow the request.</summary>
    internal static ProblemHttpResult Conflict(string detail) => Problems.Conflict(detail);

    internal static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>Parses and validates steps against the workspace's custom fields; every error with its path.</summary>
    internal static async Task<(SequenceDefinition? Definition, List<ValidationError> Errors)> ValidateStepsAsync(
        JsonElement steps, Guid workspaceId, SequenceStore store, CancellationToken ct)
    {
        var scope = new TemplateScope((await store.CustomFieldNamesAsync(workspaceId, ct)).ToHashSet(StringComparer.Ordinal));
        var (definition, errors) = SequenceParser.Parse(steps, scope: scope);
        return (definition, errors.ToList());
    }

    private static void ValidateName(string? name, List<ValidationError> errors)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength)
        {
            errors.Add(new("name", $"is required, at most {MaxNameLength} characters"));
        }
    }

    private static async Task<Results<Created<SequenceResponse>, ValidationProblem>> CreateAsync(
        CreateSequenceRequest request, HttpContext http, SequenceStore store, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        var errors = new List<ValidationError>();
        ValidateName(request.Name, errors);
        if (request.OwnerId is { } ownerId && !await store.OwnerExistsAsync(workspaceId, ownerId, ct))
        {
            errors.Add(new("ownerId", "no such owner in this workspace"));
        }

        var (definition, stepErrors) = await ValidateStepsAsync(request.Steps, workspaceId, store, ct);
        errors.AddRange(stepErrors);
        if (errors.Count > 0 || definition is null)
        {
            return Problems.Validation(errors);
        }

        var now = clock.GetUtcNow();
        var row = new SequenceRow
        {
            Id = Guid.CreateVersion7(now),
            WorkspaceId = workspaceId,
            Name = request.Name.Trim(),
            State = SequenceStates.Active,
            Version = 1,
            Definition = SequenceParser.Serialize(definition),
            OwnerId = request.OwnerId,
            CreatedAt = now,
            UpdatedAt = now,
            TrackOpens = request.Tracking?.Opens ?? false,
            TrackClicks = request.Tracking?.Clicks ?? false,
        };
        await store.CreateAsync(row, ct);
        return TypedResults.Created($"/api/sequences/{row.Id}", SequenceResponse.From(row));
    }

    private static async Task<Results<Ok<SequenceResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id, UpdateSequenceRequest request, HttpContext http, SequenceStore store, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        var existing = await store.GetAsync(workspaceId, id, ct);
        if (existing is null)
        {
            return Problems.NotFound("sequence");
        }

        if (existing.State == SequenceStates.Archived)
        {
            return Conflict("the sequence is archived and cannot be edited");
        }

        var errors = new List<ValidationError>();
        if (request.Name is not null)
        {
            ValidateName(request.Name, errors);
        }

        var (definition, stepErrors) = await ValidateStepsAsync(request.Steps, workspaceId, store, ct);
        errors.AddRange(stepErrors);
        if (errors.Count > 0 || definition is null)
        {
            return Problems.Validation(errors);
        }

        var (outcome, row) = await store.AddVersionAsync(
            workspaceId, id, request.Name?.Trim(), SequenceParser.Serialize(definition), clock.GetUtcNow(), ct, request.Tracking?.Opens, request.Tracking?.Clicks);
        return outcome switch
        {
            SequenceChange.Done => TypedResults.Ok(SequenceResponse.From(row!)),
            SequenceChange.NotFound => Problems.NotFound("sequence"),
            _ => Conflict("the sequence is archived and cannot be edited"),
        };
    }

    private static async Task<Results<Ok<Page<SequenceResponse>>, ValidationProblem>> ListAsync(
        HttpContext http, SequenceStore store, CancellationToken ct, string? state = null, Guid? after = null, int limit = 100)
    {
        if (state is not null && !SequenceStates.All.Contains(state))
        {
            return Problems.Validation([new ValidationError("state", "must be active, paused or archived")]);
        }

        limit = Math.Clamp(limit, 1, 1000);
        var rows = await store.ListAsync(http.User.GetWorkspaceId(), state, after, limit, ct);
        return TypedResults.Ok(new Page<SequenceResponse>(rows.Select(SequenceResponse.From).ToArray(), rows.Count == limit ? rows[^1].Id : null));
    }

    private static async Task<Results<Ok<SequenceResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, SequenceStore store, CancellationToken ct)
        => await store.GetAsync(http.User.GetWorkspaceId(), id, ct) is { } s ? TypedResults.Ok(SequenceResponse.From(s)) : Problems.NotFound("sequence");

    private static async Task<Results<Ok<SequenceVersionResponse[]>, ProblemHttpResult>> VersionsAsync(
        Guid id, HttpContext http, SequenceStore store, CancellationToken ct)
    {
        var versions = await store.VersionsAsync(http.User.GetWorkspaceId(), id, ct);
        return versions.Count == 0 ? Problems.NotFound("sequence") : TypedResults.Ok(versions.Select(SequenceVersionResponse.From).ToArray());
    }

    private static async Task<Results<Ok<SequenceVersionResponse>, ProblemHttpResult>> VersionAsync(
        Guid id, int version, HttpContext http, SequenceStore store, CancellationToken ct)
        => await store.GetVersionAsync(http.User.GetWorkspaceId(), id, version, ct) is { } v
            ? TypedResults.Ok(SequenceVersionResponse.From(v))
            : Problems.NotFound("sequence version");

    // Resuming first spreads the steps that fell due while paused (the catch-up policy), while they still cannot be claimed.
    private static async Task<Results<Ok<SequenceResponse>, ProblemHttpResult>> ResumeAsync(
        Guid id, HttpContext http, SequenceStore store, DispatchStore dispatch, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        if (await store.GetAsync(workspaceId, id, ct) is { State: SequenceStates.Paused })
        {
            await dispatch.CatchUpAsync(workspaceId, CatchUpScope.Sequence, id, clock.GetUtcNow(), ct);
        }

        return await ChangeStateAsync(id, SequenceTransition.Resume, http, store, clock, ct);
    }

    private static async Task<Results<Ok<SequenceResponse>, ProblemHttpResult>> ChangeStateAsync(
        Guid id, SequenceTransition transition, HttpContext http, SequenceStore store, TimeProvider clock, CancellationToken ct)
    {
        var (outcome, row) = await store.ChangeStateAsync(http.User.GetWorkspaceId(), id, transition, clock.GetUtcNow(), ct);
        return outcome switch
        {
            SequenceChange.Done => TypedResults.Ok(SequenceResponse.From(row!)),
            SequenceChange.NotFound => Problems.NotFound("sequence"),
            _ => Conflict(transition switch
            {
                SequenceTransition.Pause => $"only an active sequence can be paused; this one is {row!.State}",
                SequenceTransition.Resume => $"only a paused sequence can be resumed; this one is {row!.State}",
                _ => "the sequence is already archived",
            }),
        };
    }
}
