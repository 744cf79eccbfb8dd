using Dapper;
using Prospector.Core.Inbound;
using Prospector.Core.Sequences;

namespace Prospector.Storage.Stores;

/// <summary>The enrollment an inbound message answers, with what qualification needs to know.</summary>
public sealed class MatchedEnrollment
{
    public Guid EnrollmentId { get; init; }
    public Guid WorkspaceId { get; init; }
    public string State { get; init; } = "";
    public Guid ProspectId { get; init; }
    public string Email { get; init; } = "";
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Company { get; init; }
    public string? CompanyDomain { get; init; }
    public string? Title { get; init; }
    public string CustomFields { get; init; } = "{}";
    public Guid SequenceId { get; init; }
    public string SequenceName { get; init; } = "";
}

/// <summary>Everything decided about one inbound message, applied in one transaction.</summary>
/// <param name="MailboxId">The mailbox it was read from.</param>
/// <param name="WorkspaceId">That mailbox's workspace.</param>
/// <param name="UidValidity">IMAP UIDVALIDITY of the folder.</param>
/// <param name="Uid">IMAP UID of the message.</param>
/// <param name="Classification">What the message is.</param>
/// <param name="Match">The enrollment it answers, if any.</param>
/// <param name="Qualification">Score, verdict and reasons (JSON) for a human reply.</param>
/// <param name="CrmEvent">The CRM event to queue (type and JSON payload) when the lead qualified and a CRM is connected.</param>
/// <param name="ReceivedAt">When it arrived.</param>
public sealed record InboundApplication(
    Guid MailboxId,
    Guid WorkspaceId,
    uint UidValidity,
    uint Uid,
    InboundClassification Classification,
    MatchedEnrollment? Match,
    (int Score, bool Qualified, string ReasonsJson)? Qualification,
    (string EventType, string PayloadJson)? CrmEvent,
    DateTimeOffset ReceivedAt);

/// <summary>What applying an inbound message did.</summary>
/// <param name="AlreadyProcessed">True when this (mailbox, UIDVALIDITY, UID) was applied before: nothing was done.</param>
/// <param name="CrmOutboxId">The CRM outbox row created, if any.</param>
public sealed record InboundApplied(bool AlreadyProcessed, Guid? CrmOutboxId);

/// <summary>Inbound mail: matching to enrollments and the effects (stop, suppress, qualify, queue for the CRM).</summary>
public sealed class InboundStore(Database db)
{
    /// <summary>The enrollment one of <paramref name="messageIds"/> belongs to (first id that matches wins), or null.</summary>
    public async Task<MatchedEnrollment?> MatchAsync(Guid workspaceId, IReadOnlyList<string> messageIds, CancellationToken ct)
    {
        if (messageIds.Count == 0)
        {
            return null;
        }

        await using var c = await db.OpenAsync(ct);
        var found = (await c.QueryAsync<(string MessageId, Guid EnrollmentId)>(new CommandDefinition(
            db.Sql(
                "select message_id, enrollment_id from sends where workspace_id = @workspaceId and message_id = any(@messageIds)",
                "select message_id, enrollment_id from sends where workspace_id = @workspaceId and message_id in @messageIds"),
            new { workspaceId, messageIds = messageIds.Take(100).ToArray() }, cancellationToken: ct))).ToDictionary(r => r.MessageId, r => r.EnrollmentId, StringComparer.Ordinal);
        var enrollmentId = messageIds.Where(found.ContainsKey).Select(id => (Guid?)found[id]).FirstOrDefault();
        if (enrollmentId is null)
        {
            return null;
        }

        return await c.QueryFirstOrDefaultAsync<MatchedEnrollment>(new CommandDefinition(
            """
            select e.id as enrollment_id, e.workspace_id, e.state, p.id as prospect_id, p.email, p.first_name, p.last_name, p.company,
                   p.company_domain, p.title, p.custom_fields, s.id as sequence_id, s.name as sequence_name
            from enrollments e join prospects p on p.id = e.prospect_id join sequences s on s.id = e.sequence_id
            where e.id = @enrollmentId
            """, new { enrollmentId }, cancellationToken: ct));
    }

    /// <summary>Records the message and applies its effects, once per (mailbox, UIDVALIDITY, UID).</summary>
    public async Task<InboundApplied> ApplyAsync(InboundApplication app, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var inboundId = Guid.CreateVersion7(now);
        var kind = app.Classification.Kind;
        var inserted = await c.ExecuteAsync(new CommandDefinition(
            """
            insert into inbound_messages (id, workspace_id, mailbox_id, uid_validity, uid, kind, reason, enrollment_id, received_at)
            values (@inboundId, @WorkspaceId, @MailboxId, @uidValidity, @uid, @kind, @reason, @enrollmentId, @ReceivedAt)
            on conflict (mailbox_id, uid_validity, uid) do nothing
            """,
            new
            {
                inboundId, app.WorkspaceId, app.MailboxId, uidValidity = (long)app.UidValidity, uid = (long)app.Uid,
                kind = kind.ToString(), reason = app.Classification.Reason, enrollmentId = app.Match?.EnrollmentId, ReceivedAt = app.ReceivedAt.ToUniversalTime(),
            }, tx, cancellationToken: ct));
        if (inserted == 0)
        {
            await tx.CommitAsync(ct);
            return new InboundApplied(true, null);
        }

        Guid? outboxId = null;
        var match = app.Match;
        switch (kind)
        {
            case InboundKind.HumanReply when match is not null:
                await StopAsync(match, EnrollmentStates.Replied, "replied");
                if (app.Qualification is { } q)
                {
                    await c.ExecuteAsync(new CommandDefinition(
                        """
                        insert into qualifications (id, workspace_id, enrollment_id, inbound_message_id, score, qualified, reasons, created_at)
                        values (@id, @workspaceId, @enrollmentId, @inboundId, @score, @qualified, @reasons, @now)
                        """,
                        new { id = Guid.CreateVersion7(now), workspaceId = match.WorkspaceId, enrollmentId = match.EnrollmentId, inboundId, score = q.Score, qualified = q.Qualified, reasons = q.ReasonsJson, now },
                        tx, cancellationToken: ct));
                    await Events.AppendAsync(c, tx, match.WorkspaceId, match.EnrollmentId, q.Qualified ? "qualified" : "not_qualified", q.Score.ToString(System.Globalization.CultureInfo.InvariantCulture), now, ct);
                }

                if (app.CrmEvent is { } crm)
                {
                    outboxId = await CrmStore.EnqueueAsync(c, tx, match.WorkspaceId, match.EnrollmentId, crm.EventType, crm.PayloadJson, now, ct);
                }

                break;
            case InboundKind.Unsubscribe when match is not null:
                await StopAsync(match, EnrollmentStates.Unsubscribed, "unsubscribe_reply");
                await SuppressionStore.AddAsync(c, tx, match.WorkspaceId, match.Email, "unsubscribe", now, ct);
                break;
            case InboundKind.Bounce when app.Classification.Bounce is { IsHard: true } bounce:
                if (match is not null)
                {
                    await StopAsync(match, EnrollmentStates.Bounced, "hard_bounce");
                    await SuppressionStore.AddAsync(c, tx, match.WorkspaceId, match.Email, "hard_bounce", now, ct);
                }

                if (bounce.Recipient is { Length: > 0 } recipient)
                {
                    await SuppressionStore.AddAsync(c, tx, app.WorkspaceId, recipient, "hard_bounce", now, ct);
                }

                break;
            case InboundKind.Bounce when match is not null:
                await Events.AppendAsync(c, tx, match.WorkspaceId, match.EnrollmentId, "soft_bounce", app.Classification.Bounce?.Status, now, ct);
                break;
            case InboundKind.AutoReply when match is not null:
                await Events.AppendAsync(c, tx, match.WorkspaceId, match.EnrollmentId, "auto_reply", null, now, ct);
                break;
        }

        await tx.CommitAsync(ct);
        return new InboundApplied(false, outboxId);

        async Task StopAsync(MatchedEnrollment m, string state, string reason)
        {
            // Only a running (or paused) enrollment changes state; the event is recorded either way.
            await c.ExecuteAsync(new CommandDefinition(
                """
                update enrollments set state = @state, stop_reason = @reason, next_due_at = null, lease_until = null, updated_at = @now
                where id = @id and state in ('active', 'paused')
                """, new { id = m.EnrollmentId, state, reason, now }, tx, cancellationToken: ct));
            await Events.AppendAsync(c, tx, m.WorkspaceId, m.EnrollmentId, reason, null, now, ct);
        }
    }
}
