using Dapper;
using Prospector.Core.Sequences;

namespace Prospector.Storage.Stores;

/// <summary>A send as ops sees it: its state, attempts, last SMTP answer and how an 'unknown' one was resolved.</summary>
public sealed class SendDetailRow
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public Guid EnrollmentId { get; init; }
    public Guid ProspectId { get; init; }
    public string StepId { get; init; } = "";
    public Guid MailboxId { get; init; }
    public string MessageId { get; init; } = "";
    public string State { get; init; } = "";
    public int Attempts { get; init; }
    public string? Subject { get; init; }
    public int? SmtpStatus { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? SentAt { get; init; }
    public string? Resolution { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
}

/// <summary>Filters of the send list; null means "any".</summary>
public sealed record SendFilter(string? State = null, Guid? EnrollmentId = null);

/// <summary>How ops resolved an 'unknown' send.</summary>
public static class SendResolutions
{
    /// <summary>It did go out: the send counts as sent and the enrollment moves on.</summary>
    public const string Sent = "sent";

    /// <summary>It did not go out: the send is planned again (same Message-ID) and the enrollment retries the step.</summary>
    public const string NotSent = "not_sent";
}

/// <summary>Where an enrollment goes when ops says its 'unknown' send did go out (computed like after a 250).</summary>
public sealed record SentMove(DispatchWork Work, NextStep Next, IReadOnlyList<string> Branches, string? ThreadMessageId, string? ThreadSubject);

/// <summary>What a resolution found.</summary>
public enum ResolveSendStatus
{
    /// <summary>Resolved (and the enrollment resumed when it was waiting for this send).</summary>
    Done,
    /// <summary>No such send in the workspace.</summary>
    NotFound,
    /// <summary>The send is not 'unknown' (any more).</summary>
    Conflict,
}

public sealed partial class DispatchStore
{
    private const string SendColumns =
        """
        s.id, s.workspace_id, s.enrollment_id, e.prospect_id, s.step_id, s.mailbox_id, s.message_id, s.state, s.attempts, s.subject,
        s.smtp_status, s.last_error, s.created_at, s.updated_at, s.sent_at, s.resolution, s.resolved_at
        """;

    /// <summary>The workspace's sends (newest id last), keyset paged by id.</summary>
    public async Task<IReadOnlyList<SendDetailRow>> ListSendsAsync(Guid workspaceId, SendFilter filter, Guid? after, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<SendDetailRow>(new CommandDefinition(
            $"""
            select {SendColumns}
            from sends s join enrollments e on e.id = s.enrollment_id
            where s.workspace_id = @workspaceId
              and (@state is null or s.state = @state)
              and (@enrollmentId is null or s.enrollment_id = @enrollmentId)
              and (@after is null or s.id > @after)
            order by s.id limit @limit
            """, new { workspaceId, state = filter.State, enrollmentId = filter.EnrollmentId, after, limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>One send of the workspace, or null.</summary>
    public async Task<SendDetailRow?> GetSendAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<SendDetailRow>(new CommandDefinition(
            $"select {SendColumns} from sends s join enrollments e on e.id = s.enrollment_id where s.workspace_id = @workspaceId and s.id = @id",
            new { workspaceId, id }, cancellationToken: ct));
    }

    /// <summary>
    /// Ops says an 'unknown' send did go out. One transaction: the row becomes 'sent' (resolution 'sent', sent_at now) with
    /// a send_resolved event; when <paramref name="move"/> is given and its enrollment is still paused 'send_unknown' at
    /// that step, the enrollment resumes and moves on exactly as after a 250 (step_sent event, thread started when this was
    /// its first email). Otherwise only the row changes.
    /// </summary>
    public async Task<ResolveSendStatus> ResolveSentAsync(Guid workspaceId, Guid sendId, SentMove? move, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var (refused, s) = await LockUnknownAsync(c, tx, workspaceId, sendId, ct);
        if (refused is { } status)
        {
            return status;
        }

        await c.ExecuteAsync(new CommandDefinition(
            "update sends set state = 'sent', resolution = 'sent', resolved_at = @now, sent_at = @now, updated_at = @now where id = @sendId",
            new { sendId, now }, tx, cancellationToken: ct));
        await Events.AppendAsync(c, tx, workspaceId, s.EnrollmentId, "send_resolved", SendResolutions.Sent, now, ct);
        if (move is { } m && m.Work.Id == s.EnrollmentId && await ResumeWaitingAsync(c, tx, s.EnrollmentId, m.Work.CurrentStep, now, ct))
        {
            await Events.AppendAsync(c, tx, workspaceId, s.EnrollmentId, "step_sent", s.StepId, now, ct);
            await AdvanceAsync(c, tx, m.Work, m.Next, m.Branches, m.ThreadMessageId, m.ThreadSubject, now, ct);
        }

        await tx.CommitAsync(ct);
        return ResolveSendStatus.Done;
    }

    /// <summary>
    /// Ops says an 'unknown' send did not go out. One transaction: the row goes back to 'planned' (resolution 'not_sent',
    /// same Message-ID), the mailbox slot it used is given back, and when <paramref name="stepIndex"/> is given (the send's
    /// step in its enrollment's sequence) an enrollment paused 'send_unknown' at that step resumes due now, so the next
    /// claim sends the step again. Event send_resolved.
    /// </summary>
    public async Task<ResolveSendStatus> ResolveNotSentAsync(Guid workspaceId, Guid sendId, int? stepIndex, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var (refused, s) = await LockUnknownAsync(c, tx, workspaceId, sendId, ct);
        if (refused is { } status)
        {
            return status;
        }

        await c.ExecuteAsync(new CommandDefinition(
            "update sends set state = 'planned', resolution = 'not_sent', resolved_at = @now, updated_at = @now where id = @sendId",
            new { sendId, now }, tx, cancellationToken: ct));
        await ReleaseSlotsAsync(c, tx, s.EnrollmentId, "used", s.StepId, now, ct);
        await Events.AppendAsync(c, tx, workspaceId, s.EnrollmentId, "send_resolved", SendResolutions.NotSent, now, ct);
        if (stepIndex is { } step && await ResumeWaitingAsync(c, tx, s.EnrollmentId, step, now, ct))
        {
            await c.ExecuteAsync(new CommandDefinition(
                "update enrollments set next_due_at = @now where id = @id", new { id = s.EnrollmentId, now }, tx, cancellationToken: ct));
        }

        await tx.CommitAsync(ct);
        return ResolveSendStatus.Done;
    }

    private async Task<(Guid EnrollmentId, string StepId, string State)?> LockSendAsync(
        System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, Guid workspaceId, Guid sendId, CancellationToken ct)
        => await c.QueryFirstOrDefaultAsync<(Guid, string, string)?>(new CommandDefinition(
            db.Sql(
                "select enrollment_id, step_id, state from sends where workspace_id = @workspaceId and id = @sendId for update",
                "select enrollment_id, step_id, state from sends where workspace_id = @workspaceId and id = @sendId"),
            new { workspaceId, sendId }, tx, cancellationToken: ct));

    /// <summary>
    /// True when the enrollment's sequence, mailbox or workspace is paused (or otherwise not active), as the claim sees
    /// them: read again in the pre-send transaction, since a pause may land between the claim and the send.
    /// </summary>
    // Whether the enrollment @id's sequence, mailbox or workspace holds it (paused or inactive); read in the pre-send batch.
    private const string HeldSql = """
        select count(*) from enrollments e
        join sequences q on q.id = e.sequence_id
        join mailboxes m on m.id = e.mailbox_id
        join workspaces w on w.id = e.workspace_id
        where e.id = @id and (q.state = 'paused' or m.state <> 'active' or w.state <> 'active')
        """;

    // Locks the send for a resolution: NotFound / Conflict (not 'unknown', rolled back) or the row to resolve.
    private async Task<(ResolveSendStatus? Refused, (Guid EnrollmentId, string StepId, string State) Send)> LockUnknownAsync(
        System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, Guid workspaceId, Guid sendId, CancellationToken ct)
    {
        var send = await LockSendAsync(c, tx, workspaceId, sendId, ct);
        if (send is { State: SendStates.Unknown } unknown)
        {
            return (null, unknown);
        }

        await tx.RollbackAsync(ct);
        return (send is null ? ResolveSendStatus.NotFound : ResolveSendStatus.Conflict, default);
    }

    // An enrollment held for this send (paused 'send_unknown' at the send's step) becomes active again; any other state
    // (an SDR stopped it, the prospect replied meanwhile) is left alone.
    private static async Task<bool> ResumeWaitingAsync(
        System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, Guid enrollmentId, int currentStep, DateTimeOffset now, CancellationToken ct)
        => await c.ExecuteAsync(new CommandDefinition(
            """
            update enrollments set state = 'active', stop_reason = null, lease_until = null, updated_at = @now
            where id = @enrollmentId and state = 'paused' and stop_reason = 'send_unknown' and current_step = @currentStep
            """, new { enrollmentId, currentStep, now }, tx, cancellationToken: ct)) > 0;
}
