using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>An enrollment: where a prospect stands in a sequence.</summary>
public sealed record EnrollmentResponse(
    Guid Id, Guid SequenceId, int SequenceVersion, Guid ProspectId, Guid MailboxId, string State, string? StopReason,
    int CurrentStep, DateTimeOffset? NextDueAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    internal static EnrollmentResponse From(EnrollmentRow e) => new(
        e.Id, e.SequenceId, e.SequenceVersion, e.ProspectId, e.MailboxId, e.State, e.StopReason, e.CurrentStep, e.NextDueAt, e.CreatedAt, e.UpdatedAt);
}

/// <summary>One send of an enrollment.</summary>
public sealed record SendResponse(Guid Id, string StepId, string State, string MessageId, int Attempts, string? Subject, int? SmtpStatus, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? SentAt);

/// <summary>One event of an enrollment's history.</summary>
public sealed record EventResponse(string Type, string? Detail, DateTimeOffset OccurredAt);

/// <summary>A qualification decision with the rules that fired.</summary>
public sealed record QualificationResponse(int Score, bool Qualified, JsonElement Reasons, DateTimeOffset CreatedAt);

/// <summary>An enrollment with its sends, history and qualification.</summary>
public sealed record EnrollmentDetailResponse(
    EnrollmentResponse Enrollment, IReadOnlyList<SendResponse> Sends, IReadOnlyList<EventResponse> Events, IReadOnlyList<QualificationResponse> Qualifications);

/// <summary>A page of results; pass <see cref="NextCursor"/> as <c>after</c> for the next page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, Guid? NextCursor);

/// <summary>Reading enrollments.</summary>
public static class EnrollmentsApi
{
    /// <summary>Maps /api/enrollments.</summary>
    public static RouteGroupBuilder MapEnrollmentsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/enrollments").WithTags("Enrollments");
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapPost("/{id:guid}/pause", (Guid id, HttpContext http, DispatchStore dispatch, EnrollmentStore store, TimeProvider clock, CancellationToken ct)
            => ActAsync(id, EnrollmentAction.Pause, http, dispatch, store, clock, ct));
        group.MapPost("/{id:guid}/resume", (Guid id, HttpContext http, DispatchStore dispatch, EnrollmentStore store, TimeProvider clock, CancellationToken ct)
            => ActAsync(id, EnrollmentAction.Resume, http, dispatch, store, clock, ct));
        group.MapPost("/{id:guid}/stop", (Guid id, HttpContext http, DispatchStore dispatch, EnrollmentStore store, TimeProvider clock, CancellationToken ct)
            => ActAsync(id, EnrollmentAction.Stop, http, dispatch, store, clock, ct));
        return api;
    }

    private static readonly string[] ListStates = ["active", "paused", "completed", "replied", "bounced", "unsubscribed", "suppressed", "failed", Prospector.Core.Sequences.EnrollmentStates.Stopped];

    private static async Task<Results<Ok<Page<EnrollmentResponse>>, ValidationProblem>> ListAsync(
        HttpContext http, EnrollmentStore store, CancellationToken ct,
        string? state = null, Guid? sequenceId = null, Guid? ownerId = null, Guid? prospectId = null, Guid? after = null, int limit = 100)
    {
        if (state is not null && !ListStates.Contains(state, StringComparer.Ordinal))
        {
            return Problems.Validation([new("state", "must be one of " + string.Join(", ", ListStates))]);
        }

        limit = Math.Clamp(limit, 1, 1000);
        var rows = await store.ListAsync(http.User.GetWorkspaceId(), new EnrollmentFilter(state, sequenceId, ownerId, prospectId), after, limit, ct);
        return TypedResults.Ok(new Page<EnrollmentResponse>(rows.Select(EnrollmentResponse.From).ToArray(), rows.Count == limit ? rows[^1].Id : null));
    }

    // pause: active → paused; resume: paused → active (due now, unless it waits for an open task or a later due time);
    // stop: active or paused → stopped (stop_reason stopped_by_user, open tasks skipped). 409 when the state does not allow it.
    private static async Task<Results<Ok<EnrollmentResponse>, ProblemHttpResult>> ActAsync(
        Guid id, EnrollmentAction action, HttpContext http, DispatchStore dispatch, EnrollmentStore store, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        switch (await dispatch.ApplyUserActionAsync(workspaceId, id, action, clock.GetUtcNow(), ct))
        {
            case EnrollmentActionStatus.NotFound:
                return Problems.NotFound("enrollment");
            case EnrollmentActionStatus.Conflict:
                var current = await store.GetAsync(workspaceId, id, ct);
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict",
                    detail: $"cannot {action.ToString().ToLowerInvariant()} an enrollment that is {current?.State}");
            default:
                return TypedResults.Ok(EnrollmentResponse.From((await store.GetAsync(workspaceId, id, ct))!));
        }
    }

    private static async Task<Results<Ok<EnrollmentDetailResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, EnrollmentStore store, CancellationToken ct)
    {
        var enrollment = await store.GetAsync(http.User.GetWorkspaceId(), id, ct);
        if (enrollment is null)
        {
            return Problems.NotFound("enrollment");
        }

        var sends = await store.SendsAsync(id, ct);
        var events = await store.EventsAsync(id, ct);
        var qualifications = await store.QualificationsAsync(id, ct);
        return TypedResults.Ok(new EnrollmentDetailResponse(
            EnrollmentResponse.From(enrollment),
            sends.Select(s => new SendResponse(s.Id, s.StepId, s.State, s.MessageId, s.Attempts, s.Subject, s.SmtpStatus, s.LastError, s.CreatedAt, s.SentAt)).ToArray(),
            events.Select(e => new EventResponse(e.Type, e.Detail, e.OccurredAt)).ToArray(),
            qualifications.Select(q =>
            {
                using var reasons = JsonDocument.Parse(q.Reasons);
                return new QualificationResponse(q.Score, q.Qualified, reasons.RootElement.Clone(), q.CreatedAt);
            }).ToArray()));
    }
}
