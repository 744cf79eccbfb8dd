using System.Data.Common;
using Dapper;
using Prospector.Core.Sequences;

namespace Prospector.Storage.Stores;

/// <summary>Enrolling prospects into sequences, and reading an enrollment's state, sends and events.</summary>
public sealed class EnrollmentStore(Database db)
{
    private const string Columns =
        """
        id, workspace_id, sequence_id, sequence_version, prospect_id, mailbox_id, state, stop_reason, current_step, next_due_at,
        thread_message_id, thread_subject, created_at, updated_at
        """;

    /// <summary>A prospect that was not enrolled, and why.</summary>
    public sealed record Skipped(Guid ProspectId, string Reason);

    /// <summary>Which prospects were enrolled (enrollment ids) and which were skipped.</summary>
    public sealed record EnrollResult(IReadOnlyList<(Guid ProspectId, Guid EnrollmentId)> Enrolled, IReadOnlyList<Skipped> Skipped);

    /// <summary>
    /// Enrolls each prospect in one transaction, skipping (with a reason) unknown prospects, suppressed addresses,
    /// prospects already in this sequence and prospects active in another sequence.
    /// </summary>
    public async Task<EnrollResult> EnrollAsync(
        Guid workspaceId, Guid sequenceId, int sequenceVersion, Guid mailboxId, IReadOnlyList<Guid> prospectIds,
        int firstStep, DateTimeOffset firstDueAt, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var enrolled = new List<(Guid, Guid)>();
        var skipped = new List<Skipped>();
        foreach (var prospectId in prospectIds.Distinct())
        {
            var email = await c.QueryFirstOrDefaultAsync<string>(new CommandDefinition(
                "select email from prospects where workspace_id = @workspaceId and id = @prospectId", new { workspaceId, prospectId }, tx, cancellationToken: ct));
            var reason = email is null ? "prospect_not_found"
                : await SuppressionStore.IsSuppressedAsync(c, tx, workspaceId, email, ct) ? "suppressed"
                : await c.ExecuteScalarAsync<long>(new CommandDefinition(
                    "select count(*) from enrollments where prospect_id = @prospectId and sequence_id = @sequenceId", new { prospectId, sequenceId }, tx, cancellationToken: ct)) > 0 ? "already_enrolled"
                : await c.ExecuteScalarAsync<long>(new CommandDefinition(
                    "select count(*) from enrollments where prospect_id = @prospectId and state in ('active', 'paused')", new { prospectId }, tx, cancellationToken: ct)) > 0 ? "active_in_other_sequence"
                : null;
            if (reason is not null)
            {
                skipped.Add(new(prospectId, reason));
                continue;
            }

            var id = Guid.CreateVersion7(now);
            await c.ExecuteAsync(new CommandDefinition(
                """
                insert into enrollments (id, workspace_id, sequence_id, sequence_version, prospect_id, mailbox_id, state, current_step, next_due_at, created_at, updated_at)
                values (@id, @workspaceId, @sequenceId, @sequenceVersion, @prospectId, @mailboxId, @state, @firstStep, @firstDueAt, @now, @now)
                """,
                new { id, workspaceId, sequenceId, sequenceVersion, prospectId, mailboxId, state = EnrollmentStates.Active, firstStep, firstDueAt, now }, tx, cancellationToken: ct));
            await Events.AppendAsync(c, tx, workspaceId, id, "enrolled", null, now, ct);
            enrolled.Add((prospectId, id));
        }

        await tx.CommitAsync(ct);
        return new EnrollResult(enrolled, skipped);
    }

    /// <summary>An enrollment of this workspace, or null.</summary>
    public async Task<EnrollmentRow?> GetAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<EnrollmentRow>(new CommandDefinition(
            $"select {Columns} from enrollments where workspace_id = @workspaceId and id = @id", new { workspaceId, id }, cancellationToken: ct));
    }

    /// <summary>The workspace's enrollments matching <paramref name="filter"/>, in id order after <paramref name="after"/>.</summary>
    public async Task<IReadOnlyList<EnrollmentRow>> ListAsync(Guid workspaceId, EnrollmentFilter filter, Guid? after, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<EnrollmentRow>(new CommandDefinition(
            $"""
            select {Columns} from enrollments
            where workspace_id = @workspaceId
              and (@state is null or state = @state)
              and (@sequenceId is null or sequence_id = @sequenceId)
              and (@ownerId is null or owner_id = @ownerId)
              and (@prospectId is null or prospect_id = @prospectId)
              and (@after is null or id > @after)
            order by id limit @limit
            """, new { workspaceId, state = filter.State, sequenceId = filter.SequenceId, ownerId = filter.OwnerId, prospectId = filter.ProspectId, after, limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>Every send of an enrollment, oldest first.</summary>
    public async Task<IReadOnlyList<SendRow>> SendsAsync(Guid enrollmentId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<SendRow>(new CommandDefinition(
            """
            select id, enrollment_id, step_id, mailbox_id, message_id, state, attempts, subject, smtp_status, last_error, created_at, sent_at
            from sends where enrollment_id = @enrollmentId order by created_at, id
            """, new { enrollmentId }, cancellationToken: ct))).AsList();
    }

    /// <summary>The enrollment's event log, oldest first.</summary>
    public async Task<IReadOnlyList<EventRow>> EventsAsync(Guid enrollmentId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<EventRow>(new CommandDefinition(
            "select id, enrollment_id, type, detail, occurred_at from enrollment_events where enrollment_id = @enrollmentId order by id",
            new { enrollmentId }, cancellationToken: ct))).AsList();
    }

    /// <summary>The enrollment's qualification decisions, oldest first.</summary>
    public async Task<IReadOnlyList<QualificationRow>> QualificationsAsync(Guid enrollmentId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<QualificationRow>(new CommandDefinition(
            "select id, enrollment_id, score, qualified, reasons, created_at from qualifications where enrollment_id = @enrollmentId order by created_at, id",
            new { enrollmentId }, cancellationToken: ct))).AsList();
    }
}

/// <summary>Filters of the enrollment list; null means "any".</summary>
public sealed record EnrollmentFilter(string? State = null, Guid? SequenceId = null, Guid? OwnerId = null, Guid? ProspectId = null);

/// <summary>The append-only enrollment event log (what KPIs are computed from later).</summary>
internal static class Events
{
    public static Task AppendAsync(DbConnection c, DbTransaction tx, Guid workspaceId, Guid enrollmentId, string type, string? detail, DateTimeOffset now, CancellationToken ct)
        => c.ExecuteAsync(new CommandDefinition(
            "insert into enrollment_events (workspace_id, enrollment_id, type, detail, occurred_at) values (@workspaceId, @enrollmentId, @type, @detail, @now)",
            new { workspaceId, enrollmentId, type, detail, now }, tx, cancellationToken: ct));
}
