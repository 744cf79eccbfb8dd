using System.Data.Common;
using Dapper;
using Prospector.Core.Sequences;

namespace Prospector.Storage.Stores;

/// <summary>Everything the dispatcher needs to run one claimed enrollment's due step.</summary>
public sealed class DispatchWork
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public int CurrentStep { get; init; }
    public string? ThreadMessageId { get; init; }
    public string? ThreadSubject { get; init; }
    public string Definition { get; init; } = "";
    public string Email { get; init; } = "";
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Company { get; init; }
    public string? CompanyDomain { get; init; }
    public string CustomFields { get; init; } = "{}";
    public Guid MailboxId { get; init; }
    public string FromAddress { get; init; } = "";
    public string FromName { get; init; } = "";
    public string SmtpHost { get; init; } = "";
    public int SmtpPort { get; init; }
    public string SmtpSecurity { get; init; } = "";
    public string? SmtpUsername { get; init; }
    public string? SmtpPasswordProtected { get; init; }
}

/// <summary>How the pre-send transaction ended.</summary>
public enum BeginSendStatus
{
    /// <summary>The send row is 'sending' with a stored Message-ID: go ahead with SMTP.</summary>
    Proceed,
    /// <summary>This step was already sent (a crash after the 250): advance without sending.</summary>
    AlreadySent,
    /// <summary>The enrollment is no longer active (replied, paused…) or no longer ours: nothing to do.</summary>
    NotActive,
    /// <summary>The address is suppressed: the enrollment was stopped.</summary>
    Suppressed,
    /// <summary>A previous attempt was interrupted mid-SMTP: marked unknown, enrollment paused for ops.</summary>
    InDoubt,
}

/// <summary>The outcome of <see cref="DispatchStore.BeginSendAsync"/>.</summary>
public sealed record BeginSend(BeginSendStatus Status, Guid SendId, string MessageId, int Attempt, IReadOnlyList<string> PreviousMessageIds);

/// <summary>
/// The send outbox and the enrollment cursor. Claims due enrollments in batches (FOR UPDATE SKIP LOCKED on PostgreSQL;
/// SQLite has one writer at a time), and moves each send through planned → sending → sent | failed | unknown with the
/// checks that make a send happen at most once: the pre-send transaction re-reads enrollment state and suppression
/// and commits the Message-ID before any SMTP traffic.
/// </summary>
public sealed class DispatchStore(Database db)
{
    /// <summary>Leases up to <paramref name="batch"/> due enrollments until <paramref name="leaseUntil"/> and returns their ids.</summary>
    public async Task<IReadOnlyList<Guid>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int batch, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var sql = db.Sql(
            """
            update enrollments e set lease_until = @leaseUntil
            from (select id from enrollments
                  where state = 'active' and next_due_at <= @now and (lease_until is null or lease_until <= @now)
                  order by next_due_at limit @batch
                  for update skip locked) due
            where e.id = due.id
            returning e.id
            """,
            """
            update enrollments set lease_until = @leaseUntil
            where id in (select id from enrollments
                         where state = 'active' and next_due_at <= @now and (lease_until is null or lease_until <= @now)
                         order by next_due_at limit @batch)
            returning id
            """);
        return (await c.QueryAsync<Guid>(new CommandDefinition(sql, new { now, leaseUntil, batch }, cancellationToken: ct))).AsList();
    }

    /// <summary>Loads what is needed to run the claimed enrollments.</summary>
    public async Task<IReadOnlyList<DispatchWork>> LoadAsync(IReadOnlyList<Guid> ids, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<DispatchWork>(new CommandDefinition(
            $"""
            select e.id, e.workspace_id, e.current_step, e.thread_message_id, e.thread_subject, s.definition,
                   p.email, p.first_name, p.last_name, p.company, p.company_domain, p.custom_fields,
                   m.id as mailbox_id, m.from_address, m.from_name, m.smtp_host, m.smtp_port, m.smtp_security, m.smtp_username, m.smtp_password_protected
            from enrollments e
            join sequences s on s.id = e.sequence_id
            join prospects p on p.id = e.prospect_id
            join mailboxes m on m.id = e.mailbox_id
            where {db.Sql("e.id = any(@ids)", "e.id in @ids")}
            """, new { ids = ids.ToArray() }, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// The pre-send transaction: re-checks that the enrollment is still active at this step and the address not
    /// suppressed, then creates (or re-arms) the send row as 'sending' with its Message-ID. A row found in 'sending'
    /// means an earlier attempt died mid-SMTP: it becomes 'unknown' and is never resent automatically.
    /// </summary>
    public async Task<BeginSend> BeginSendAsync(DispatchWork work, string stepId, Guid newSendId, string newMessageId, string subject, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var state = await c.QueryFirstOrDefaultAsync<(string State, long CurrentStep)?>(new CommandDefinition(
            db.Sql("select state, current_step from enrollments where id = @id for update", "select state, current_step from enrollments where id = @id"),
            new { id = work.Id }, tx, cancellationToken: ct));
        if (state is not { State: EnrollmentStates.Active } s || s.CurrentStep != work.CurrentStep)
        {
            await ReleaseAsync(c, tx, work.Id, ct);
            await tx.CommitAsync(ct);
            return new BeginSend(BeginSendStatus.NotActive, Guid.Empty, "", 0, []);
        }

        if (await SuppressionStore.IsSuppressedAsync(c, tx, work.WorkspaceId, work.Email, ct))
        {
            await StopAsync(c, tx, work, EnrollmentStates.Suppressed, "suppressed", now, ct);
            await Events.AppendAsync(c, tx, work.WorkspaceId, work.Id, "stopped_suppressed", stepId, now, ct);
            await tx.CommitAsync(ct);
            return new BeginSend(BeginSendStatus.Suppressed, Guid.Empty, "", 0, []);
        }

        var previous = (await c.QueryAsync<string>(new CommandDefinition(
            "select message_id from sends where enrollment_id = @id and state = 'sent' and step_id <> @stepId order by sent_at, id",
            new { id = work.Id, stepId }, tx, cancellationToken: ct))).AsList();
        var existing = await c.QueryFirstOrDefaultAsync<SendRow>(new CommandDefinition(
            "select id, enrollment_id, step_id, mailbox_id, message_id, state, attempts from sends where enrollment_id = @id and step_id = @stepId",
            new { id = work.Id, stepId }, tx, cancellationToken: ct));

        BeginSend result;
        switch (existing?.State)
        {
            case null:
                await c.ExecuteAsync(new CommandDefinition(
                    """
                    insert into sends (id, workspace_id, enrollment_id, step_id, mailbox_id, message_id, state, attempts, subject, created_at, updated_at)
                    values (@newSendId, @WorkspaceId, @Id, @stepId, @MailboxId, @newMessageId, 'sending', 1, @subject, @now, @now)
                    """,
                    new { newSendId, work.WorkspaceId, work.Id, stepId, work.MailboxId, newMessageId, subject, now }, tx, cancellationToken: ct));
                result = new BeginSend(BeginSendStatus.Proceed, newSendId, newMessageId, 1, previous);
                break;
            case SendStates.Planned:
                await c.ExecuteAsync(new CommandDefinition(
                    "update sends set state = 'sending', attempts = attempts + 1, subject = @subject, updated_at = @now where id = @id",
                    new { id = existing.Id, subject, now }, tx, cancellationToken: ct));
                result = new BeginSend(BeginSendStatus.Proceed, existing.Id, existing.MessageId, existing.Attempts + 1, previous);
                break;
            case SendStates.Sending:
                await c.ExecuteAsync(new CommandDefinition(
                    "update sends set state = 'unknown', last_error = 'interrupted during SMTP (process stopped or lease expired)', updated_at = @now where id = @id",
                    new { id = existing.Id, now }, tx, cancellationToken: ct));
                await PauseAsync(c, tx, work, "send_unknown", now, ct);
                await Events.AppendAsync(c, tx, work.WorkspaceId, work.Id, "send_unknown", stepId, now, ct);
                result = new BeginSend(BeginSendStatus.InDoubt, existing.Id, existing.MessageId, existing.Attempts, previous);
                break;
            case SendStates.Sent:
                result = new BeginSend(BeginSendStatus.AlreadySent, existing.Id, existing.MessageId, existing.Attempts, previous);
                break;
            default:
                // failed or unknown: a decision was already taken for this step; do not touch it again.
                await PauseAsync(c, tx, work, "send_" + existing.State, now, ct);
                result = new BeginSend(BeginSendStatus.InDoubt, existing.Id, existing.MessageId, existing.Attempts, previous);
                break;
        }

        await tx.CommitAsync(ct);
        return result;
    }

    /// <summary>The server said 250: the send is 'sent' and the enrollment moves to its next step (or completes).</summary>
    public async Task MarkSentAsync(DispatchWork work, Guid sendId, string stepId, NextStep next, string? threadMessageId, string? threadSubject, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "update sends set state = 'sent', sent_at = coalesce(sent_at, @now), smtp_status = 250, updated_at = @now where id = @sendId and state in ('sending', 'sent')",
            new { sendId, now }, tx, cancellationToken: ct));
        await Events.AppendAsync(c, tx, work.WorkspaceId, work.Id, "step_sent", stepId, now, ct);
        await AdvanceAsync(c, tx, work, next, threadMessageId, threadSubject, now, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Nothing was sent and it may work later: the row goes back to 'planned' and the step is due again at <paramref name="retryAt"/>.</summary>
    public async Task MarkRetryAsync(DispatchWork work, Guid sendId, DateTimeOffset retryAt, int? smtpStatus, string? error, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "update sends set state = 'planned', smtp_status = @smtpStatus, last_error = @error, updated_at = @now where id = @sendId and state = 'sending'",
            new { sendId, smtpStatus, error, now }, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition(
            "update enrollments set next_due_at = @retryAt, lease_until = null, updated_at = @now where id = @id and state = 'active'",
            new { id = work.Id, retryAt, now }, tx, cancellationToken: ct));
        await Events.AppendAsync(c, tx, work.WorkspaceId, work.Id, "send_deferred", error, now, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// A permanent outcome other than sent: the send ends in <paramref name="sendState"/> ('failed' or 'unknown'), the
    /// enrollment in <paramref name="enrollmentState"/>; a hard bounce also suppresses the address.
    /// </summary>
    public async Task MarkEndedAsync(DispatchWork work, Guid sendId, string sendState, string enrollmentState, string reason, bool suppress, int? smtpStatus, string? error, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "update sends set state = @sendState, smtp_status = @smtpStatus, last_error = @error, updated_at = @now where id = @sendId and state = 'sending'",
            new { sendId, sendState, smtpStatus, error, now }, tx, cancellationToken: ct));
        if (enrollmentState == EnrollmentStates.Paused)
        {
            await PauseAsync(c, tx, work, reason, now, ct);
        }
        else
        {
            await StopAsync(c, tx, work, enrollmentState, reason, now, ct);
        }

        if (suppress)
        {
            await SuppressionStore.AddAsync(c, tx, work.WorkspaceId, work.Email, reason, now, ct);
        }

        await Events.AppendAsync(c, tx, work.WorkspaceId, work.Id, "send_" + sendState, reason, now, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Moves the enrollment past a step without sending (already sent, or a step the channel skips).</summary>
    public async Task AdvanceAsync(DispatchWork work, NextStep next, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await AdvanceAsync(c, tx, work, next, null, null, now, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Pauses an active enrollment with a reason (recorded as an event with <paramref name="detail"/>).</summary>
    public async Task PauseAsync(DispatchWork work, string reason, string? detail, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await PauseAsync(c, tx, work, reason, now, ct);
        await Events.AppendAsync(c, tx, work.WorkspaceId, work.Id, "paused_" + reason, detail, now, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Gives the lease back without changing anything else.</summary>
    public async Task ReleaseAsync(Guid enrollmentId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await ReleaseAsync(c, tx, enrollmentId, ct);
        await tx.CommitAsync(ct);
    }

    private static async Task AdvanceAsync(DbConnection c, DbTransaction tx, DispatchWork work, NextStep next, string? threadMessageId, string? threadSubject, DateTimeOffset now, CancellationToken ct)
    {
        var state = next.IsFinished ? EnrollmentStates.Completed : EnrollmentStates.Active;
        await c.ExecuteAsync(new CommandDefinition(
            """
            update enrollments set
                current_step = @step, next_due_at = @due, lease_until = null, state = @state,
                thread_message_id = coalesce(thread_message_id, @threadMessageId),
                thread_subject = coalesce(thread_subject, @threadSubject), updated_at = @now
            where id = @id and state = 'active' and current_step = @current
            """,
            new
            {
                id = work.Id, current = work.CurrentStep, step = next.StepIndex ?? work.CurrentStep + 1,
                due = next.IsFinished ? (DateTimeOffset?)null : next.DueAt, state, threadMessageId, threadSubject, now,
            }, tx, cancellationToken: ct));
        if (next.IsFinished)
        {
            await Events.AppendAsync(c, tx, work.WorkspaceId, work.Id, "completed", null, now, ct);
        }
    }

    private static Task StopAsync(DbConnection c, DbTransaction tx, DispatchWork work, string state, string reason, DateTimeOffset now, CancellationToken ct)
        => c.ExecuteAsync(new CommandDefinition(
            "update enrollments set state = @state, stop_reason = @reason, next_due_at = null, lease_until = null, updated_at = @now where id = @id",
            new { id = work.Id, state, reason, now }, tx, cancellationToken: ct));

    private static Task PauseAsync(DbConnection c, DbTransaction tx, DispatchWork work, string reason, DateTimeOffset now, CancellationToken ct)
        => c.ExecuteAsync(new CommandDefinition(
            "update enrollments set state = 'paused', stop_reason = @reason, lease_until = null, updated_at = @now where id = @id and state = 'active'",
            new { id = work.Id, reason, now }, tx, cancellationToken: ct));

    private static Task ReleaseAsync(DbConnection c, DbTransaction tx, Guid id, CancellationToken ct)
        => c.ExecuteAsync(new CommandDefinition("update enrollments set lease_until = null where id = @id", new { id }, tx, cancellationToken: ct));
}
