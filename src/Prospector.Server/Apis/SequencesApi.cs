using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Sequences;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>A new sequence: a name and its steps (validated all at once, every error with its path).</summary>
public sealed record CreateSequenceRequest(string Name, JsonElement Steps);

/// <summary>A sequence as stored.</summary>
public sealed record SequenceResponse(Guid Id, string Name, string State, int Version, JsonElement Steps, DateTimeOffset CreatedAt)
{
    internal static SequenceResponse From(SequenceRow s)
    {
        using var steps = JsonDocument.Parse(s.Definition);
        return new(s.Id, s.Name, s.State, s.Version, steps.RootElement.Clone(), s.CreatedAt);
    }
}

/// <summary>Prospects to enroll, and the mailbox that sends to them.</summary>
public sealed record EnrollRequest(Guid[] ProspectIds, Guid MailboxId);

/// <summary>A prospect that was not enrolled, and why (suppressed, already_enrolled, active_in_other_sequence, prospect_not_found).</summary>
public sealed record SkippedProspect(Guid ProspectId, string Reason);

/// <summary>What an enroll call did.</summary>
public sealed record EnrollResponse(IReadOnlyList<EnrolledProspect> Enrolled, IReadOnlyList<SkippedProspect> Skipped);

/// <summary>One enrolled prospect.</summary>
public sealed record EnrolledProspect(Guid ProspectId, Guid EnrollmentId);

/// <summary>Sequences and enrolling prospects into them.</summary>
public static class SequencesApi
{
    private const int MaxEnrollPerCall = 10_000;

    /// <summary>Maps /api/sequences.</summary>
    public static RouteGroupBuilder MapSequencesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/sequences").WithTags("Sequences");
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapPost("/{id:guid}/enrollments", EnrollAsync);
        return api;
    }

    private static async Task<Results<Created<SequenceResponse>, ValidationProblem>> CreateAsync(
        CreateSequenceRequest request, HttpContext http, SequenceStore store, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<ValidationError>();
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200)
        {
            errors.Add(new("name", "is required, at most 200 characters"));
        }

        var (definition, stepErrors) = SequenceParser.Parse(request.Steps);
        errors.AddRange(stepErrors);
        if (errors.Count > 0 || definition is null)
        {
            return Problems.Validation(errors);
        }

        var now = clock.GetUtcNow();
        var row = new SequenceRow
        {
            Id = Guid.CreateVersion7(now),
            WorkspaceId = http.User.GetWorkspaceId(),
            Name = request.Name.Trim(),
            State = "active",
            Version = 1,
            Definition = SequenceParser.Serialize(definition),
            CreatedAt = now,
        };
        await store.CreateAsync(row, ct);
        return TypedResults.Created($"/api/sequences/{row.Id}", SequenceResponse.From(row));
    }

    private static async Task<Ok<SequenceResponse[]>> ListAsync(HttpContext http, SequenceStore store, CancellationToken ct)
        => TypedResults.Ok((await store.ListAsync(http.User.GetWorkspaceId(), ct)).Select(SequenceResponse.From).ToArray());

    private static async Task<Results<Ok<SequenceResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, SequenceStore store, CancellationToken ct)
        => await store.GetAsync(http.User.GetWorkspaceId(), id, ct) is { } s ? TypedResults.Ok(SequenceResponse.From(s)) : Problems.NotFound("sequence");

    private static async Task<Results<Ok<EnrollResponse>, ValidationProblem, ProblemHttpResult>> EnrollAsync(
        Guid id, EnrollRequest request, HttpContext http, SequenceStore sequences, MailboxStore mailboxes, EnrollmentStore enrollments,
        TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        var sequence = await sequences.GetAsync(workspaceId, id, ct);
        if (sequence is null)
        {
            return Problems.NotFound("sequence");
        }

        var errors = new List<ValidationError>();
        if (request.ProspectIds.Length is 0 or > MaxEnrollPerCall)
        {
            errors.Add(new("prospectIds", $"give 1 to {MaxEnrollPerCall} prospect ids"));
        }

        if (await mailboxes.GetAsync(workspaceId, request.MailboxId, ct) is null)
        {
            errors.Add(new("mailboxId", "no such mailbox in this workspace"));
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var now = clock.GetUtcNow();
        var first = SequenceProgress.Next(SequenceParser.Deserialize(sequence.Definition), 0, now);
        var result = await enrollments.EnrollAsync(workspaceId, sequence.Id, sequence.Version, request.MailboxId, request.ProspectIds,
            first.StepIndex ?? 0, first.DueAt, now, ct);
        return TypedResults.Ok(new EnrollResponse(
            result.Enrolled.Select(e => new EnrolledProspect(e.ProspectId, e.EnrollmentId)).ToArray(),
            result.Skipped.Select(s => new SkippedProspect(s.ProspectId, s.Reason)).ToArray()));
    }
}
