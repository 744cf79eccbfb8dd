using System.Data.Common;
using Dapper;
using Prospector.Core.Prospects;
using Prospector.Core.Scheduling;
using Prospector.Core.Sequences;

namespace Prospector.Storage.Stores;

/// <summary>Everything the dispatcher needs to run one claimed enrollment's due step.</summary>
public sealed class DispatchWork
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public Guid SequenceId { get; init; }
    public int SequenceVersion { get; init; }
    public Guid ProspectId { get; init; }
    public Guid? OwnerId { get; init; }
    public int CurrentStep { get; init; }
    public string? ThreadMessageId { get; init; }
    public string? ThreadSubject { get; init; }

    /// <summary>The definition of the enrollment's sequence version; null when that version is missing.</summary>
    public string? Definition { get; init; }
    public string? Email { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Title { get; init; }
    public string? Company { get; init; }
    public string? CompanyDomain { get; init; }
    public string? Country { get; init; }
    public string? Phone { get; init; }
    public string? LinkedInUrl { get; init; }
    public string CustomFields { get; init; } = "{}";
    public string? OwnerName { get; init; }
    public string? OwnerEmail { get; init; }
    public Guid MailboxId { get; init; }
    public string FromAddress { get; init; } = "";
    public string FromName { get; init; } = "";
    public string? Signature { get; init; }
    public bool TrackOpens { get; init; }
    public bool TrackClicks { get; init; }
    public string? PostalAddress { get; init; }
    public string? WorkspaceSettings { get; init; }
    public string SmtpHost { get; init; } = "";
    public int SmtpPort { get; init; }
    public string SmtpSecurity { get; init; } = "";
    public string? SmtpUsername { get; init; }
    public string? SmtpPasswordProtected { get; init; }
    public string? ProspectTimeZone { get; init; }
    public string? CompanyTimeZone { get; init; }
    public string MailboxTimeZone { get; init; } = "UTC";
    public int WindowStartMinute { get; init; } = 480;
    public int WindowEndMinute { get; init; } = 1080;
    public string WindowDays { get; init; } = "mon,tue,wed,thu,fri";

    /// <summary>The holiday calendar of the store that loaded this work.</summary>
    public IHolidayCalendar Holidays { get; set; } = NoHolidays.Instance;

    /// <summary>Where and when this prospect may be contacted from this mailbox.</summary>
    public StepSchedule Schedule() => new(
        StepSchedule.ResolveZone(ProspectTimeZone, CompanyTimeZone, MailboxTimeZone), Country,
        SendingWindow.Parse(WindowStartMinute, WindowEndMinute, WindowDays), Holidays);
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
    /// <summary>Its sequence, mailbox or workspace was paused after the claim: claim and slot released, nothing sent, still due.</summary>
    Held,
}

/// <summary>The outcome of <see cref="DispatchStore.BeginSendAsync"/>.</summary>
public sealed record BeginSend(BeginSendStatus Status, Guid SendId, string MessageId, int Attempt, IReadOnlyList<string> PreviousMessageIds);

/// <summary>
/// The send outbox and the enrollment cursor. Claims due enrollments in batches (FOR UPDATE SKIP LOCKED on PostgreSQL;
/// SQLite has one writer at a time), and moves each send through planned → sending → sent | failed | unknown with the
/// checks that make a send happen at most once: the pre-send transaction re-reads enrollment state and suppression
/// and commits the Message-ID before any SMTP traffic.
/// </summary>
public sealed partial class DispatchStore(Database db, IHolidayCalendar? holidays = null)
{
    /// <summary>The public holidays windows skip (none when not given).</summary>
    public IHolidayCalendar Holidays { get; } = holidays ?? NoHolidays.Instance;

    /// <summary>True on the embedded store (one writer at a time): claimed steps run one after the other.</summary>
    public bool SingleWriter => db.Dialect != SqlDialect.Postgres;

    /// <summary>
    /// Loads what is needed to run the claimed enrollments. The definition is the one of the enrollment's own sequence
    /// version (sequence_versions); a sequence saved before versions were written falls back to sequences.definition
    /// when the version numbers agree.
    /// </summary>
    public async Task<IReadOnlyList<DispatchWork>> LoadAsync(IReadOnlyList<Guid> ids, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        await using var c = await db.OpenAsync(ct);
        var works = (await c.QueryAsync<DispatchWork>(new CommandDefinition(
            $"""
            select e.id, e.workspace_id, e.sequence_id, e.sequence_version, e.prospect_id, e.owner_id, e.current_step, e.thread_message_id, e.thread_subject,
                   coalesce(v.definition, case when s.version = e.sequence_version then s.definition end) as definition,
                   p.email, p.first_name, p.last_name, p.title, p.company, p.company_domain, p.country, p.phone, p.linkedin_url, p.custom_fields,
                   o.name as owner_name, o.email as owner_email,
                   m.id as mailbox_id, m.from_address, m.from_name, m.signature,
                   m.smtp_host, m.smtp_port, m.smtp_security, m.smtp_username, m.smtp_password_protected,
                   p.time_zone as prospect_time_zone, co.time_zone as company_time_zone, m.time_zone as mailbox_time_zone,
                   m.window_start_minute, m.window_end_minute, m.window_days,
                   s.track_opens, s.track_clicks, w.postal_address, w.settings as workspace_settings
            from enrollments e
            join sequences s on s.id = e.sequence_id
            join workspaces w on w.id = e.workspace_id
            left join sequence_versions v on v.sequence_id = e.sequence_id and v.version = e.sequence_version
            join prospects p on p.id = e.prospect_id
            join mailboxes m on m.id = e.mailbox_id
            left join owners o on o.id = e.owner_id
            left join companies co on co.id = p.company_id
            where {db.Sql("e.id = any(@ids)", "e.id in @ids")}
            """, new { ids = ids.ToArray() }, cancellationToken: ct))).AsList();
        foreach (var work in works)
        {
            work.Holidays = Holidays;
        }

        return works;
    }

    /// <summary>The event types recorded for an enrollment among those branches test (replied, opened, clicked, linkedin_connected).</summary>
    public async Task<IReadOnlySet<string>> FactEventsAsync(Guid enrollmentId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<string>(new CommandDefinition(
            """
            select distinct type from enrollment_events
            where enrollment_id = @enrollmentId and type in ('replied', 'opened', 'clicked', 'linkedin_connected')
            """, new { enrollmentId }, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);
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

        // One round trip for every check: the enrollment row is locked first, then what holds it, the suppression list
        // (address and domain), the thread's earlier Message-IDs and this step's send row are read under that lock.
        var (address, domain) = work.Email is { } email ? (SuppressionKeys.ForAddress(email), SuppressionKeys.ForDomainOf(email)) : ("-", "-");
        await using var reads = await c.QueryMultipleAsync(new CommandDefinition(
            $"""
            {db.Sql("select state, current_step from enrollments where id = @id for update", "select state, current_step from enrollments where id = @id")};
            {HeldSql};
            select count(*) from suppressions where workspace_id = @workspaceId and address_hash in (@address, @domain);
            select message_id from sends where enrollment_id = @id and state = 'sent' and step_id <> @stepId order by sent_at, id;
            select id, enrollment_id, step_id, mailbox_id, message_id, state, attempts from sends where enrollment_id = @id and step_id = @stepId;
            """,
            new { id = work.Id, workspaceId = work.WorkspaceId, address, domain, stepId }, tx, cancellationToken: ct));
        var state = await reads.ReadFirstOrDefaultAsync<EnrollmentPosition>();
        var held = await reads.ReadSingleAsync<long>() > 0;
        var suppressed = await reads.ReadSingleAsync<long>() > 0 && work.Email is not null;
        var previous = (await reads.ReadAsync<string>()).AsList();
        var existing = await reads.ReadFirstOrDefaultAsync<SendRow>();
        await reads.DisposeAsync();

        if (state is not { State: EnrollmentStates.Active } s || s.CurrentStep != work.CurrentStep)
        {
            await ReleaseAsync(c, tx, work.Id, now, ct);
            await tx.CommitAsync(ct);
            return new BeginSend(BeginSendStatus.NotActive, Guid.Empty, "", 0, []);
        }

        if (held)
        {
            // Its sequence, mailbox or workspace was paused after the claim: give the claim and the slot back, untouched;
            // the enrollment stays active and due, and runs once what holds it resumes.
            await ReleaseAsync(c, tx, work.Id, now, ct);
            await tx.CommitAsync(ct);
            return new BeginSend(BeginSendStatus.Held, Guid.Empty, "", 0, []);
        }

        if (suppressed)
        {
            await StopAsync(c, tx, work, EnrollmentStates.Suppressed, "suppressed", now, ct);
            await Events.AppendAsync(c, tx, work.WorkspaceId, work.Id, "stopped_suppressed", stepId, now, ct);
            await tx.CommitAsync(ct);
            return new BeginSend(BeginSendStatus.Suppressed, Guid.Empty, "", 0, []);
        }

        BeginSend result;
        switch (existing?.State)
        {
            case null:
                // The send row and the slot it uses, in one round trip.
                await c.ExecuteAsync(new CommandDefinition(
                    $"""
                    insert into sends (id, workspace_id, enrollment_id, step_id, mailbox_id, message_id, state, attempts, subject, created_at, updated_at)
                    values (@newSendId, @WorkspaceId, @Id, @stepId, @MailboxId, @newMessageId, 'sending', 1, @subject, @now, @now);
                    {UseSlotSql};
                    """,
                    new { newSendId, work.WorkspaceId, work.Id, enrollmentId = work.Id, stepId, work.MailboxId, newMessageId, subject, now }, tx, cancellationToken: ct));
                result = new BeginSend(BeginSendStatus.Proceed, newSendId, newMessageId, 1, previous);
                break;
            case SendStates.Planned:
                await c.ExecuteAsync(new CommandDefinition(
                    $"update sends set state = 'sending', attempts = attempts + 1, subject = @subject, updated_at = @now where id = @id; {UseSlotSql};",
                    new { id = existing.Id, enrollmentId = work.Id, stepId, subject, now }, tx, cancellationToken: ct));
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
                await ReleaseSlotsAsync(c, tx, work.Id, "reserved", null, now, ct);
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

    private sealed class EnrollmentPosition
    {
        public string State { get; init; } = "";
        public long CurrentStep { get; init; }
    }

    /// <summary>The server said 250: the send is 'sent' and the enrollment moves to its next step (or completes), no branch on the way.</summary>
    public Task MarkSentAsync(DispatchWork work, Guid sendId, string stepId, NextStep next, string? threadMessageId, string? threadSubject, DateTimeOffset now, CancellationToken ct)
        => MarkSentAsync(work, sendId, stepId, next, [], threadMessageId, threadSubject, now, ct);

    /// <summary>The server said 250: the send is 'sent' and the enrollment moves to its next step (or completes).</summary>
    public async Task MarkSentAsync(
        DispatchWork work, Guid sendId, string stepId, NextStep next, IReadOnlyList<string> branches, string? threadMessageId, string? threadSubject, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        // The row and its event in one round trip; the move (whose row count matters) on its own.
        await c.ExecuteAsync(new CommandDefinition(
            """
            update sends set state = 'sent', sent_at = coalesce(sent_at, @now), smtp_status = 250, updated_at = @now where id = @sendId and state in ('sending', 'sent');
            insert into enrollment_events (workspace_id, enrollment_id, type, detail, occurred_at) values (@workspaceId, @enrollmentId, 'step_sent', @stepId, @now);
            """,
            new { sendId, now, workspaceId = work.WorkspaceId, enrollmentId = work.Id, stepId }, tx, cancellationToken: ct));
        await AdvanceAsync(c, tx, work, next, branches, threadMessageId, threadSubject, now, ct);
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
        var stepId = await c.QueryFirstOrDefaultAsync<string>(new CommandDefinition("select step_id from sends where id = @sendId", new { sendId }, tx, cancellationToken: ct));
        await ReleaseSlotsAsync(c, tx, work.Id, "used", stepId ?? "", now, ct);
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

        if (suppress && work.Email is { } address)
        {
            await SuppressionStore.AddAsync(c, tx, work.WorkspaceId, address, reason, now, ct);
        }

        await Events.AppendAsync(c, tx, work.WorkspaceId, work.Id, "send_" + sendState, reason, now, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// Moves the enrollment past a step without sending (already sent, a branch, a task closed earlier), recording the
    /// branches taken on the way (<paramref name="branches"/>, one "branch" event each).
    /// </summary>
    public async Task AdvanceAsync(DispatchWork work, NextStep next, IReadOnlyList<string> branches, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await AdvanceAsync(c, tx, work, next, branches, null, null, now, ct);
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

    /// <summary>
    /// Creates the task of a task step (once per enrollment and step) and lets the enrollment wait for it: next_due_at
    /// null, lease cleared, still active. Returns what was found: a new task, an open one (nothing changes but the
    /// wait), a closed one (the caller advances past the step), or an enrollment that is no longer at this step.
    /// </summary>
    public async Task<(TaskStepStatus Status, Guid TaskId)> CreateTaskAsync(DispatchWork work, NewTask task, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        if (!await IsActiveAtAsync(c, tx, work, ct))
        {
            await ReleaseAsync(c, tx, work.Id, now, ct);
            await tx.CommitAsync(ct);
            return (TaskStepStatus.NotActive, Guid.Empty);
        }

        var existing = await c.QueryFirstOrDefaultAsync<(Guid Id, string State)?>(new CommandDefinition(
            "select id, state from tasks where enrollment_id = @id and step_id = @StepId", new { id = work.Id, task.StepId }, tx, cancellationToken: ct));
        if (existing is { } e && e.State != TaskStates.Open)
        {
            await tx.CommitAsync(ct);
            return (TaskStepStatus.Closed, e.Id);
        }

        var taskId = existing?.Id ?? task.Id;
        if (existing is null)
        {
            await c.ExecuteAsync(new CommandDefinition(
                """
                insert into tasks (id, workspace_id, enrollment_id, step_id, owner_id, type, title, body, state, due_at, created_at)
                values (@Id, @workspaceId, @enrollmentId, @StepId, @ownerId, @Type, @Title, @Body, 'open', @now, @now)
                on conflict (enrollment_id, step_id) do nothing
                """,
                new { task.Id, workspaceId = work.WorkspaceId, enrollmentId = work.Id, task.StepId, ownerId = work.OwnerId, task.Type, task.Title, task.Body, now },
                tx, cancellationToken: ct));
            await Events.AppendAsync(c, tx, work.WorkspaceId, work.Id, "task_created", task.StepId, now, ct);
        }

        await c.ExecuteAsync(new CommandDefinition(
            "update enrollments set next_due_at = null, lease_until = null, updated_at = @now where id = @id and state = 'active' and current_step = @current",
            new { id = work.Id, current = work.CurrentStep, now }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return (existing is null ? TaskStepStatus.Created : TaskStepStatus.Open, taskId);
    }

    /// <summary>
    /// Starts (or re-tries) the webhook call of a step: one row per enrollment and step whose id is the stable
    /// idempotency key; each call counts an attempt. A call already sent or failed is not made again.
    /// </summary>
    public async Task<(WebhookCallStatus Status, Guid CallId, int Attempt)> BeginWebhookAsync(DispatchWork work, string stepId, Guid newCallId, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        if (!await IsActiveAtAsync(c, tx, work, ct))
        {
            await ReleaseAsync(c, tx, work.Id, now, ct);
            await tx.CommitAsync(ct);
            return (WebhookCallStatus.NotActive, Guid.Empty, 0);
        }

        var existing = await c.QueryFirstOrDefaultAsync<(Guid Id, string State, long Attempts)?>(new CommandDefinition(
            "select id, state, attempts from webhook_calls where enrollment_id = @id and step_id = @stepId", new { id = work.Id, stepId }, tx, cancellationToken: ct));
        (WebhookCallStatus, Guid, int) result;
        if (existing is null)
        {
            await c.ExecuteAsync(new CommandDefinition(
                """
                insert into webhook_calls (id, workspace_id, enrollment_id, step_id, state, attempts, created_at, updated_at)
                values (@newCallId, @workspaceId, @enrollmentId, @stepId, 'pending', 1, @now, @now)
                """,
                new { newCallId, workspaceId = work.WorkspaceId, enrollmentId = work.Id, stepId, now }, tx, cancellationToken: ct));
            result = (WebhookCallStatus.Proceed, newCallId, 1);
        }
        else if (existing.Value.State == "pending")
        {
            await c.ExecuteAsync(new CommandDefinition(
                "update webhook_calls set attempts = attempts + 1, updated_at = @now where id = @id", new { id = existing.Value.Id, now }, tx, cancellationToken: ct));
            result = (WebhookCallStatus.Proceed, existing.Value.Id, (int)existing.Value.Attempts + 1);
        }
        else
        {
            result = (WebhookCallStatus.Done, existing.Value.Id, (int)existing.Value.Attempts);
        }

        await tx.CommitAsync(ct);
        return result;
    }

    /// <summary>
    /// The webhook call ended ('sent' or 'failed'): records it with an event (webhook_sent / webhook_failed, detail
    /// "step: status or reason") and moves the enrollment on; a failed call does not stop the sequence.
    /// </summary>
    public async Task EndWebhookAsync(
        DispatchWork work, Guid callId, string stepId, bool sent, int? status, string? error, NextStep next, IReadOnlyList<string> branches, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "update webhook_calls set state = @state, last_status = @status, last_error = @error, updated_at = @now where id = @callId and state = 'pending'",
            new { callId, state = sent ? "sent" : "failed", status, error, now }, tx, cancellationToken: ct));
        var detail = $"{stepId}: {(status is { } code ? code.ToString(System.Globalization.CultureInfo.InvariantCulture) : error)}";
        await Events.AppendAsync(c, tx, work.WorkspaceId, work.Id, sent ? "webhook_sent" : "webhook_failed", detail, now, ct);
        await AdvanceAsync(c, tx, work, next, branches, null, null, now, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>A retryable webhook failure: the step is due again at <paramref name="retryAt"/> (event webhook_deferred).</summary>
    public async Task DeferWebhookAsync(DispatchWork work, Guid callId, string stepId, DateTimeOffset retryAt, int? status, string? error, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "update webhook_calls set last_status = @status, last_error = @error, updated_at = @now where id = @callId and state = 'pending'",
            new { callId, status, error, now }, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition(
            "update enrollments set next_due_at = @retryAt, lease_until = null, updated_at = @now where id = @id and state = 'active' and current_step = @current",
            new { id = work.Id, current = work.CurrentStep, retryAt, now }, tx, cancellationToken: ct));
        var detail = $"{stepId}: {(status is { } code ? code.ToString(System.Globalization.CultureInfo.InvariantCulture) : error)}";
        await Events.AppendAsync(c, tx, work.WorkspaceId, work.Id, "webhook_deferred", detail, now, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// An SDR's action on an enrollment of their workspace: pause (active → paused), resume (paused → active, due now
    /// unless it waits for an open task or a later due time) or stop (active or paused → stopped, open tasks skipped).
    /// Each appends an event (paused_by_user, resumed, stopped_by_user).
    /// </summary>
    public async Task<EnrollmentActionStatus> ApplyUserActionAsync(Guid workspaceId, Guid enrollmentId, EnrollmentAction action, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var state = await c.QueryFirstOrDefaultAsync<string>(new CommandDefinition(
            db.Sql("select state from enrollments where workspace_id = @workspaceId and id = @enrollmentId for update",
                "select state from enrollments where workspace_id = @workspaceId and id = @enrollmentId"),
            new { workspaceId, enrollmentId }, tx, cancellationToken: ct));
        if (state is null)
        {
            return EnrollmentActionStatus.NotFound;
        }

        var (allowed, sql, eventType) = action switch
        {
            EnrollmentAction.Pause => (state == EnrollmentStates.Active,
                "update enrollments set state = 'paused', stop_reason = 'paused_by_user', lease_until = null, updated_at = @now where id = @enrollmentId",
                "paused_by_user"),
            EnrollmentAction.Resume => (state == EnrollmentStates.Paused,
                """
                update enrollments set state = 'active', stop_reason = null, lease_until = null, updated_at = @now,
                    due_reasons = case when next_due_at < @now then coalesce(due_reasons || ',', '') || 'paused' else due_reasons end,
                    next_due_at = case
                        when exists (select 1 from tasks t where t.enrollment_id = enrollments.id and t.state = 'open') then null
                        when next_due_at is null or next_due_at < @now then @now
                        else next_due_at end
                where id = @enrollmentId
                """,
                "resumed"),
            _ => (state is EnrollmentStates.Active or EnrollmentStates.Paused,
                "update enrollments set state = 'stopped', stop_reason = 'stopped_by_user', next_due_at = null, lease_until = null, updated_at = @now where id = @enrollmentId",
                "stopped_by_user"),
        };
        if (!allowed)
        {
            return EnrollmentActionStatus.Conflict;
        }

        await c.ExecuteAsync(new CommandDefinition(sql, new { enrollmentId, now }, tx, cancellationToken: ct));
        if (action == EnrollmentAction.Stop)
        {
            await c.ExecuteAsync(new CommandDefinition(
                "update tasks set state = 'skipped', outcome = 'enrollment_stopped', completed_at = @now where enrollment_id = @enrollmentId and state = 'open'",
                new { enrollmentId, now }, tx, cancellationToken: ct));
        }

        await Events.AppendAsync(c, tx, workspaceId, enrollmentId, eventType, null, now, ct);
        await tx.CommitAsync(ct);
        return EnrollmentActionStatus.Done;
    }

    private static async Task AdvanceAsync(
        DbConnection c, DbTransaction tx, DispatchWork work, NextStep next, IReadOnlyList<string> branches, string? threadMessageId, string? threadSubject,
        DateTimeOffset now, CancellationToken ct)
    {
        var state = next.IsFinished ? EnrollmentStates.Completed : EnrollmentStates.Active;
        var moved = await c.ExecuteAsync(new CommandDefinition(
            """
            update enrollments set
                current_step = @step, next_due_at = @due, lease_until = null, state = @state,
                step_channel = @channel, wanted_at = @wanted, due_reasons = @reasons,
                thread_message_id = coalesce(thread_message_id, @threadMessageId),
                thread_subject = coalesce(thread_subject, @threadSubject), updated_at = @now
            where id = @id and state = 'active' and current_step = @current
            """,
            new
            {
                id = work.Id, current = work.CurrentStep, step = next.StepIndex ?? work.CurrentStep + 1,
                due = next.IsFinished ? (DateTimeOffset?)null : next.DueAt, state, threadMessageId, threadSubject, now,
                channel = next.Channel ?? StepChannels.Email, wanted = next.IsFinished ? (DateTimeOffset?)null : next.WantedAt ?? next.DueAt,
                reasons = Scheduler.Format(next.Reasons),
            }, tx, cancellationToken: ct));
        if (moved > 0)
        {
            await MovedAsync(c, tx, work.WorkspaceId, work.Id, next, branches, now, ct);
        }
    }

    /// <summary>The events of a move: one "branch" per branch taken, and "completed" when the sequence is done.</summary>
    internal static async Task MovedAsync(DbConnection c, DbTransaction tx, Guid workspaceId, Guid enrollmentId, NextStep next, IReadOnlyList<string> branches, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var branch in branches)
        {
            await Events.AppendAsync(c, tx, workspaceId, enrollmentId, "branch", branch, now, ct);
        }

        if (next.IsFinished)
        {
            await Events.AppendAsync(c, tx, workspaceId, enrollmentId, "completed", null, now, ct);
        }
    }

    private async Task<bool> IsActiveAtAsync(DbConnection c, DbTransaction tx, DispatchWork work, CancellationToken ct)
    {
        var state = await c.QueryFirstOrDefaultAsync<(string State, long CurrentStep)?>(new CommandDefinition(
            db.Sql("select state, current_step from enrollments where id = @id for update", "select state, current_step from enrollments where id = @id"),
            new { id = work.Id }, tx, cancellationToken: ct));
        return state is { State: EnrollmentStates.Active } s && s.CurrentStep == work.CurrentStep;
    }

    private static async Task StopAsync(DbConnection c, DbTransaction tx, DispatchWork work, string state, string reason, DateTimeOffset now, CancellationToken ct)
    {
        await c.ExecuteAsync(new CommandDefinition(
            "update enrollments set state = @state, stop_reason = @reason, next_due_at = null, lease_until = null, updated_at = @now where id = @id",
            new { id = work.Id, state, reason, now }, tx, cancellationToken: ct));
        await ReleaseSlotsAsync(c, tx, work.Id, "reserved", null, now, ct);
    }

    private static async Task PauseAsync(DbConnection c, DbTransaction tx, DispatchWork work, string reason, DateTimeOffset now, CancellationToken ct)
    {
        await c.ExecuteAsync(new CommandDefinition(
            "update enrollments set state = 'paused', stop_reason = @reason, lease_until = null, updated_at = @now where id = @id and state = 'active'",
            new { id = work.Id, reason, now }, tx, cancellationToken: ct));
        await ReleaseSlotsAsync(c, tx, work.Id, "reserved", null, now, ct);
    }

    private static async Task ReleaseAsync(DbConnection c, DbTransaction tx, Guid id, DateTimeOffset now, CancellationToken ct)
    {
        await c.ExecuteAsync(new CommandDefinition("update enrollments set lease_until = null where id = @id", new { id }, tx, cancellationToken: ct));
        await ReleaseSlotsAsync(c, tx, id, "reserved", null, now, ct);
    }
}

/// <summary>The task a task step creates.</summary>
public sealed record NewTask(Guid Id, string StepId, string Type, string Title, string? Body);

/// <summary>What <see cref="DispatchStore.CreateTaskAsync"/> found.</summary>
public enum TaskStepStatus
{
    /// <summary>The task was created; the enrollment waits for it.</summary>
    Created,
    /// <summary>The task already existed and is open; the enrollment waits for it.</summary>
    Open,
    /// <summary>The task was already done or skipped: move past the step.</summary>
    Closed,
    /// <summary>The enrollment is no longer active at this step.</summary>
    NotActive,
}

/// <summary>What <see cref="DispatchStore.BeginWebhookAsync"/> found.</summary>
public enum WebhookCallStatus
{
    /// <summary>Make the call (attempt counted).</summary>
    Proceed,
    /// <summary>The call already ended (sent or failed): move past the step.</summary>
    Done,
    /// <summary>The enrollment is no longer active at this step.</summary>
    NotActive,
}

/// <summary>An SDR's action on an enrollment.</summary>
public enum EnrollmentAction
{
    /// <summary>Hold an active enrollment.</summary>
    Pause,
    /// <summary>Let a paused enrollment run again.</summary>
    Resume,
    /// <summary>End an active or paused enrollment for good.</summary>
    Stop,
}

/// <summary>How an enrollment action ended.</summary>
public enum EnrollmentActionStatus
{
    /// <summary>Applied.</summary>
    Done,
    /// <summary>No such enrollment in the workspace.</summary>
    NotFound,
    /// <summary>The enrollment's state does not allow it.</summary>
    Conflict,
}

/// <summary>States of an SDR task.</summary>
public static class TaskStates
{
    /// <summary>Waiting for the SDR.</summary>
    public const string Open = "open";
    /// <summary>Done (with an optional outcome).</summary>
    public const string Done = "done";
    /// <summary>Skipped by the SDR (or because the enrollment was stopped).</summary>
    public const string Skipped = "skipped";
}
