using Dapper;
using Prospector.Core.Prospects;
using Prospector.Core.Sequences;

namespace Prospector.Storage.Stores;

/// <summary>A send as the public link endpoints see it: whose it is, which step, when it went out, to which address.</summary>
public sealed class TrackedSend
{
    public Guid SendId { get; init; }
    public Guid WorkspaceId { get; init; }
    public Guid EnrollmentId { get; init; }
    public Guid ProspectId { get; init; }
    public string StepId { get; init; } = "";
    public DateTimeOffset? SentAt { get; init; }
    public string? Email { get; init; }
}

/// <summary>One recorded open or click.</summary>
public sealed class TrackingHitRow
{
    public Guid Id { get; init; }
    public Guid SendId { get; init; }
    public Guid EnrollmentId { get; init; }
    public string Kind { get; init; } = "";
    public string? Url { get; init; }
    public bool Machine { get; init; }
    public string? MachineReason { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>What a one-click unsubscribe did.</summary>
/// <param name="Found">False when the send does not exist (nothing was done).</param>
/// <param name="Suppressed">True when the address was added now (false: it already was on the list).</param>
/// <param name="Stopped">The enrollments stopped now (the send's own first when it was running).</param>
public sealed record UnsubscribeOutcome(bool Found, bool Suppressed, IReadOnlyList<Guid> Stopped);

/// <summary>Tracking hits (opens, clicks) and one-click unsubscribes arriving on the public link endpoints.</summary>
public sealed class TrackingStore(Database db)
{
    /// <summary>The hit kind of an open-pixel fetch.</summary>
    public const string OpenKind = "open";

    /// <summary>The hit kind of a followed link.</summary>
    public const string ClickKind = "click";

    /// <summary>The reason recorded for the suppression and the stop (stop_reason) of a one-click unsubscribe.</summary>
    public const string UnsubscribeReason = "unsubscribe_link";

    /// <summary>The send a link token names, or null.</summary>
    public async Task<TrackedSend?> FindSendAsync(Guid sendId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<TrackedSend>(new CommandDefinition(
            """
            select s.id as send_id, s.workspace_id, s.enrollment_id, e.prospect_id, s.step_id, s.sent_at, p.email
            from sends s join enrollments e on e.id = s.enrollment_id join prospects p on p.id = e.prospect_id
            where s.id = @sendId
            """, new { sendId }, cancellationToken: ct));
    }

    /// <summary>
    /// Records a hit. The first human hit of its kind on a send appends the enrollment event <c>opened</c> or
    /// <c>clicked</c> (detail: the step id), which branches test; machine hits are only recorded. Returns true when
    /// that event was appended.
    /// </summary>
    public async Task<bool> RecordHitAsync(TrackedSend send, string kind, string? url, bool machine, string? machineReason, DateTimeOffset now, CancellationToken ct)
    {
        if (kind is not (OpenKind or ClickKind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "open or click");
        }

        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        if (db.Dialect == SqlDialect.Postgres && !machine)
        {
            // Concurrent human hits of one send take turns here, so exactly one of them sees itself as the first.
            await c.ExecuteAsync(new CommandDefinition("select id from sends where id = @id for update", new { id = send.SendId }, tx, cancellationToken: ct));
        }

        // (SQLite transactions begin immediate: they hold the write lock throughout.)
        await c.ExecuteAsync(new CommandDefinition(
            """
            insert into tracking_hits (id, workspace_id, send_id, enrollment_id, kind, url, machine, machine_reason, created_at)
            values (@id, @WorkspaceId, @SendId, @EnrollmentId, @kind, @url, @machine, @machineReason, @now)
            """,
            new { id = Guid.CreateVersion7(now), send.WorkspaceId, send.SendId, send.EnrollmentId, kind, url, machine, machineReason, now }, tx, cancellationToken: ct));
        var first = false;
        if (!machine)
        {
            var humans = await c.ExecuteScalarAsync<long>(new CommandDefinition(
                "select count(*) from tracking_hits where send_id = @SendId and kind = @kind and machine = @machine",
                new { send.SendId, kind, machine = false }, tx, cancellationToken: ct));
            first = humans == 1;
            if (first)
            {
                await Events.AppendAsync(c, tx, send.WorkspaceId, send.EnrollmentId, kind == OpenKind ? "opened" : "clicked", send.StepId, now, ct);
            }
        }

        await tx.CommitAsync(ct);
        return first;
    }

    /// <summary>
    /// The one-click unsubscribe of the send's recipient, in one transaction: the address goes on the workspace's
    /// suppression list (reason <c>unsubscribe_link</c>), and every running (active or paused) enrollment of the prospect
    /// in the workspace stops as <c>unsubscribed</c> with its open tasks skipped and an <c>unsubscribed</c> event (detail:
    /// the step id for the send's own enrollment, <c>via:&lt;enrollment id&gt;</c> for the others). Doing it again changes nothing.
    /// </summary>
    public async Task<UnsubscribeOutcome> UnsubscribeAsync(Guid sendId, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var send = await c.QueryFirstOrDefaultAsync<TrackedSend>(new CommandDefinition(
            """
            select s.id as send_id, s.workspace_id, s.enrollment_id, e.prospect_id, s.step_id, s.sent_at, p.email
            from sends s join enrollments e on e.id = s.enrollment_id join prospects p on p.id = e.prospect_id
            where s.id = @sendId
            """, new { sendId }, tx, cancellationToken: ct));
        if (send is null)
        {
            return new UnsubscribeOutcome(false, false, []);
        }

        // Enrollments before the suppression row, in id order: the same lock order as the dispatcher's (enrollment, then a
        // hard bounce's suppression), so an unsubscribe and a send of the same prospect never wait on each other in a cycle.
        var running = new { send.WorkspaceId, send.ProspectId, active = EnrollmentStates.Active, paused = EnrollmentStates.Paused };
        var stopped = (await c.QueryAsync<Guid>(new CommandDefinition(db.Sql(
            "select id from enrollments where workspace_id = @WorkspaceId and prospect_id = @ProspectId and state in (@active, @paused) order by id for update",
            "select id from enrollments where workspace_id = @WorkspaceId and prospect_id = @ProspectId and state in (@active, @paused) order by id"),
            running, tx, cancellationToken: ct))).OrderBy(id => id != send.EnrollmentId).ToList();
        await c.ExecuteAsync(new CommandDefinition(
            """
            update enrollments set state = @unsubscribed, stop_reason = @reason, next_due_at = null, lease_until = null, updated_at = @now
            where workspace_id = @WorkspaceId and prospect_id = @ProspectId and state in (@active, @paused)
            """,
            new { send.WorkspaceId, send.ProspectId, unsubscribed = EnrollmentStates.Unsubscribed, reason = UnsubscribeReason, now, running.active, running.paused },
            tx, cancellationToken: ct));
        var suppressed = false;
        if (!string.IsNullOrWhiteSpace(send.Email))
        {
            suppressed = await c.ExecuteAsync(new CommandDefinition(
                "insert into suppressions (workspace_id, address_hash, kind, reason, created_at) values (@WorkspaceId, @hash, @kind, @reason, @now) on conflict do nothing",
                new { send.WorkspaceId, hash = SuppressionKeys.ForAddress(send.Email), kind = SuppressionKeys.AddressKind, reason = UnsubscribeReason, now },
                tx, cancellationToken: ct)) > 0;
        }

        foreach (var id in stopped)
        {
            await c.ExecuteAsync(new CommandDefinition(
                "update tasks set state = 'skipped', outcome = 'unsubscribed', completed_at = @now where enrollment_id = @id and state = 'open'",
                new { id, now }, tx, cancellationToken: ct));
            var detail = id == send.EnrollmentId ? send.StepId : $"via:{send.EnrollmentId}";
            await Events.AppendAsync(c, tx, send.WorkspaceId, id, "unsubscribed", detail, now, ct);
        }

        await tx.CommitAsync(ct);
        return new UnsubscribeOutcome(true, suppressed, stopped);
    }

    /// <summary>The hits of one send, oldest first.</summary>
    public async Task<IReadOnlyList<TrackingHitRow>> HitsForSendAsync(Guid sendId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<TrackingHitRow>(new CommandDefinition(
            "select id, send_id, enrollment_id, kind, url, machine, machine_reason, created_at from tracking_hits where send_id = @sendId order by id",
            new { sendId }, cancellationToken: ct))).AsList();
    }

    /// <summary>The hits of an enrollment of this workspace, oldest first (empty for another workspace's).</summary>
    public async Task<IReadOnlyList<TrackingHitRow>> HitsForEnrollmentAsync(Guid workspaceId, Guid enrollmentId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<TrackingHitRow>(new CommandDefinition(
            """
            select id, send_id, enrollment_id, kind, url, machine, machine_reason, created_at from tracking_hits
            where workspace_id = @workspaceId and enrollment_id = @enrollmentId order by id
            """, new { workspaceId, enrollmentId }, cancellationToken: ct))).AsList();
    }
}
