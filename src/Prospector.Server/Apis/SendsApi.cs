using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Sequences;
using Prospector.Server.Engine;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>
/// A send (one email of one enrollment's step): planned → sending → sent | failed | unknown. <c>Resolution</c> and
/// <c>ResolvedAt</c> say how ops resolved an 'unknown' one ('sent' or 'not_sent').
/// </summary>
public sealed record SendDetailResponse(
    Guid Id, Guid EnrollmentId, Guid ProspectId, string StepId, Guid MailboxId, string MessageId, string State, int Attempts,
    int? SmtpStatus, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? SentAt,
    string? Resolution, DateTimeOffset? ResolvedAt)
{
    internal static SendDetailResponse From(SendDetailRow s) => new(
        s.Id, s.EnrollmentId, s.ProspectId, s.StepId, s.MailboxId, s.MessageId, s.State, s.Attempts, s.SmtpStatus, s.LastError,
        s.CreatedAt, s.UpdatedAt, s.SentAt, s.Resolution, s.ResolvedAt);
}

/// <summary>How ops resolves an 'unknown' send: <c>sent</c> (it went out) or <c>not_sent</c> (send it again).</summary>
public sealed record ResolveSendRequest(string? Outcome = null);

/// <summary>The sends of the workspace, and resolving the 'unknown' ones.</summary>
public static class SendsApi
{
    private static readonly string[] States = [SendStates.Planned, SendStates.Sending, SendStates.Sent, SendStates.Failed, SendStates.Unknown];
    private static readonly string[] Outcomes = [SendResolutions.Sent, SendResolutions.NotSent];

    /// <summary>Maps /api/sends.</summary>
    public static RouteGroupBuilder MapSendsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/sends").WithTags("Sends");
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapPost("/{id:guid}/resolve", ResolveAsync);
        return api;
    }

    private static async Task<Results<Ok<Page<SendDetailResponse>>, ValidationProblem>> ListAsync(
        HttpContext http, DispatchStore store, CancellationToken ct, string? state = null, Guid? enrollmentId = null, Guid? after = null, int limit = 100)
    {
        if (state is not null && !States.Contains(state, StringComparer.Ordinal))
        {
            return Problems.Validation([new("state", "must be one of " + string.Join(", ", States))]);
        }

        limit = Math.Clamp(limit, 1, 1000);
        var rows = await store.ListSendsAsync(http.User.GetWorkspaceId(), new SendFilter(state, enrollmentId), after, limit, ct);
        return TypedResults.Ok(new Page<SendDetailResponse>(rows.Select(SendDetailResponse.From).ToArray(), rows.Count == limit ? rows[^1].Id : null));
    }

    private static async Task<Results<Ok<SendDetailResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, DispatchStore store, CancellationToken ct)
        => await store.GetSendAsync(http.User.GetWorkspaceId(), id, ct) is { } s ? TypedResults.Ok(SendDetailResponse.From(s)) : Problems.NotFound("send");

    // Only an 'unknown' send can be resolved (409 otherwise). 'sent': the row is sent and the enrollment waiting for it
    // moves on as after a 250; 'not_sent': the row is planned again with the same Message-ID and the enrollment retries
    // the step now. Either way one transaction, with a send_resolved event.
    private static async Task<Results<Ok<SendDetailResponse>, ValidationProblem, ProblemHttpResult>> ResolveAsync(
        Guid id, HttpContext http, DispatchStore store, TimeProvider clock, ILoggerFactory loggers, CancellationToken ct, ResolveSendRequest? request = null)
    {
        var workspaceId = http.User.GetWorkspaceId();
        var send = await store.GetSendAsync(workspaceId, id, ct);
        if (send is null)
        {
            return Problems.NotFound("send");
        }

        var outcome = request?.Outcome;
        if (outcome is null || !Outcomes.Contains(outcome, StringComparer.Ordinal))
        {
            return Problems.Validation([new ValidationError("outcome", "must be one of " + string.Join(", ", Outcomes))]);
        }

        if (send.State != SendStates.Unknown)
        {
            return Problems.Conflict($"only an unknown send can be resolved; this one is {send.State}");
        }

        var now = clock.GetUtcNow();
        var (work, definition) = await WorkAtAsync(store, send, ct);
        ResolveSendStatus status;
        if (outcome == SendResolutions.Sent)
        {
            SentMove? move = null;
            if (work is not null && definition is not null)
            {
                // Exactly what the dispatcher does after a 250: next step from here, branches evaluated now, thread started by a first email.
                var facts = StepContext.Facts(work, definition.Steps.Any(s => s is BranchStep { Condition: EventCondition })
                    ? await store.FactEventsAsync(work.Id, ct)
                    : new HashSet<string>(StringComparer.Ordinal));
                var (next, branches) = StepContext.Advance(work, definition, work.CurrentStep + 1, now, facts);
                var first = work.ThreadMessageId is null;
                move = new SentMove(work, next, branches, first ? send.MessageId : null, first ? send.Subject : null);
            }

            status = await store.ResolveSentAsync(workspaceId, id, move, now, ct);
        }
        else
        {
            status = await store.ResolveNotSentAsync(workspaceId, id, work is not null && definition is not null ? work.CurrentStep : null, now, ct);
        }

        switch (status)
        {
            case ResolveSendStatus.NotFound:
                return Problems.NotFound("send");
            case ResolveSendStatus.Conflict:
                return Problems.Conflict("only an unknown send can be resolved; this one was resolved meanwhile");
        }

        loggers.CreateLogger(typeof(SendsApi)).LogInformation(
            "Send {SendId} (enrollment {EnrollmentId}, step {StepId}) resolved by ops: {Outcome}", id, send.EnrollmentId, send.StepId, outcome);
        return TypedResults.Ok(SendDetailResponse.From((await store.GetSendAsync(workspaceId, id, ct))!));
    }

    // The send's enrollment when it still stands at the send's step (with its definition); null otherwise, and then only the row changes.
    private static async Task<(DispatchWork? Work, SequenceDefinition? Definition)> WorkAtAsync(DispatchStore store, SendDetailRow send, CancellationToken ct)
    {
        var work = (await store.LoadAsync([send.EnrollmentId], ct)).SingleOrDefault();
        if (work?.Definition is not { } json)
        {
            return (null, null);
        }

        SequenceDefinition definition;
        try
        {
            definition = SequenceParser.Deserialize(json);
        }
        catch (InvalidOperationException)
        {
            return (null, null);
        }

        return work.CurrentStep < definition.Steps.Count && definition.Steps[work.CurrentStep].Id == send.StepId ? (work, definition) : (null, null);
    }
}
