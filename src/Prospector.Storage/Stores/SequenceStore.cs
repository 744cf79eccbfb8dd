using System.Data.Common;
using Dapper;
using Prospector.Core.Sequences;

namespace Prospector.Storage.Stores;

/// <summary>
/// Sequences and their immutable versions. <c>sequences.version/definition</c> mirror the newest row of
/// <c>sequence_versions</c>; enrollments point at the version they run on.
/// </summary>
public sealed class SequenceStore(Database db)
{
    private const string Columns = "id, workspace_id, name, state, version, definition, owner_id, created_at, updated_at, track_opens, track_clicks";

    /// <summary>Inserts a sequence and its first version (the row's <see cref="SequenceRow.Version"/>) in one transaction.</summary>
    public async Task CreateAsync(SequenceRow s, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            $"insert into sequences ({Columns}) values (@Id, @WorkspaceId, @Name, @State, @Version, @Definition, @OwnerId, @CreatedAt, @CreatedAt, @TrackOpens, @TrackClicks)",
            s, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition(
            "insert into sequence_versions (sequence_id, version, definition, created_at) values (@Id, @Version, @Definition, @CreatedAt)",
            s, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    /// <summary>A sequence of this workspace, or null.</summary>
    public async Task<SequenceRow?> GetAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<SequenceRow>(new CommandDefinition(
            $"select {Columns} from sequences where workspace_id = @workspaceId and id = @id", new { workspaceId, id }, cancellationToken: ct));
    }

    /// <summary>A page of the workspace's sequences in id (creation) order, optionally in one state.</summary>
    public async Task<IReadOnlyList<SequenceRow>> ListAsync(Guid workspaceId, string? state, Guid? after, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<SequenceRow>(new CommandDefinition(
            $"""
            select {Columns} from sequences
            where workspace_id = @workspaceId and (@state is null or state = @state) and (@after is null or id > @after)
            order by id limit @limit
            """, new { workspaceId, state, after, limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// Stores <paramref name="definition"/> as version N+1 (and the name, when given). Refused for an archived sequence.
    /// Running enrollments stay on the version they have. Tracking switches, when given, apply to every send from now on.
    /// </summary>
    public async Task<(SequenceChange Outcome, SequenceRow? Sequence)> AddVersionAsync(
        Guid workspaceId, Guid id, string? name, string definition, DateTimeOffset now, CancellationToken ct, bool? trackOpens = null, bool? trackClicks = null)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var row = await LockAsync(c, tx, workspaceId, id, ct);
        if (row is null)
        {
            return (SequenceChange.NotFound, null);
        }

        if (row.State == SequenceStates.Archived)
        {
            return (SequenceChange.Conflict, row);
        }

        var version = row.Version + 1;
        await c.ExecuteAsync(new CommandDefinition(
            "insert into sequence_versions (sequence_id, version, definition, created_at) values (@id, @version, @definition, @now)",
            new { id, version, definition, now }, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition(
            "update sequences set name = coalesce(@name, name), version = @version, definition = @definition, updated_at = @now where id = @id",
            new { id, name, version, definition, now }, tx, cancellationToken: ct));
        if (trackOpens is not null || trackClicks is not null)
        {
            await c.ExecuteAsync(new CommandDefinition(
                "update sequences set track_opens = @opens, track_clicks = @clicks where id = @id",
                new { id, opens = trackOpens ?? row.TrackOpens, clicks = trackClicks ?? row.TrackClicks }, tx, cancellationToken: ct));
        }
        var updated = await LockAsync(c, tx, workspaceId, id, ct);
        await tx.CommitAsync(ct);
        return (SequenceChange.Done, updated);
    }

    /// <summary>
    /// Pause (active → paused), resume (paused → active) or archive (active|paused → archived, final). Every running
    /// enrollment gets an event; archiving also ends them: state <c>stopped</c>, stop reason <c>sequence_archived</c>, open tasks skipped.
    /// </summary>
    public async Task<(SequenceChange Outcome, SequenceRow? Sequence)> ChangeStateAsync(
        Guid workspaceId, Guid id, SequenceTransition transition, DateTimeOffset now, CancellationToken ct)
    {
        var (from, to, eventType) = transition switch
        {
            SequenceTransition.Pause => (new[] { SequenceStates.Active }, SequenceStates.Paused, "sequence_paused"),
            SequenceTransition.Resume => (new[] { SequenceStates.Paused }, SequenceStates.Active, "sequence_resumed"),
            _ => (new[] { SequenceStates.Active, SequenceStates.Paused }, SequenceStates.Archived, "sequence_archived"),
        };
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var row = await LockAsync(c, tx, workspaceId, id, ct);
        if (row is null)
        {
            return (SequenceChange.NotFound, null);
        }

        if (!from.Contains(row.State))
        {
            return (SequenceChange.Conflict, row);
        }

        await c.ExecuteAsync(new CommandDefinition(
            "update sequences set state = @to, updated_at = @now where id = @id", new { id, to, now }, tx, cancellationToken: ct));
        var running = new { id, eventType, now, active = EnrollmentStates.Active, paused = EnrollmentStates.Paused, completed = EnrollmentStates.Stopped };
        if (transition != SequenceTransition.Archive)
        {
            await c.ExecuteAsync(new CommandDefinition(
                """
                insert into enrollment_events (workspace_id, enrollment_id, type, detail, occurred_at)
                select workspace_id, id, @eventType, null, @now from enrollments where sequence_id = @id and state in (@active, @paused)
                """, running, tx, cancellationToken: ct));
        }
        else
        {
            // The event and the end of each running enrollment, without a round trip per enrollment.
            await c.ExecuteAsync(new CommandDefinition(db.Sql(
                """
                with ended as (
                    update enrollments set state = @completed, stop_reason = @eventType, next_due_at = null, updated_at = @now
                    where sequence_id = @id and state in (@active, @paused)
                    returning workspace_id, id)
                insert into enrollment_events (workspace_id, enrollment_id, type, detail, occurred_at)
                select workspace_id, id, @eventType, null, @now from ended
                """,
                """
                insert into enrollment_events (workspace_id, enrollment_id, type, detail, occurred_at)
                select workspace_id, id, @eventType, null, @now from enrollments where sequence_id = @id and state in (@active, @paused);
                update enrollments set state = @completed, stop_reason = @eventType, next_due_at = null, updated_at = @now
                where sequence_id = @id and state in (@active, @paused);
                """), running, tx, cancellationToken: ct));
            await c.ExecuteAsync(new CommandDefinition(
                """
                update tasks set state = 'skipped', outcome = @eventType, completed_at = @now
                where state = 'open' and enrollment_id in (select id from enrollments where sequence_id = @id)
                """, running, tx, cancellationToken: ct));
        }

        var updated = await LockAsync(c, tx, workspaceId, id, ct);
        await tx.CommitAsync(ct);
        return (SequenceChange.Done, updated);
    }

    /// <summary>Every version of a sequence of this workspace, oldest first, with its running (active or paused) enrollments; empty when the sequence is not the workspace's.</summary>
    public async Task<IReadOnlyList<SequenceVersionRow>> VersionsAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<SequenceVersionRow>(new CommandDefinition(
            $"""
            {VersionSelect}
            where s.workspace_id = @workspaceId and v.sequence_id = @id
            order by v.version
            """, new { workspaceId, id, active = EnrollmentStates.Active, paused = EnrollmentStates.Paused }, cancellationToken: ct))).AsList();
    }

    /// <summary>One version of a sequence of this workspace, or null.</summary>
    public async Task<SequenceVersionRow?> GetVersionAsync(Guid workspaceId, Guid id, int version, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<SequenceVersionRow>(new CommandDefinition(
            $"""
            {VersionSelect}
            where s.workspace_id = @workspaceId and v.sequence_id = @id and v.version = @version
            """, new { workspaceId, id, version, active = EnrollmentStates.Active, paused = EnrollmentStates.Paused }, cancellationToken: ct));
    }

    private const string VersionSelect =
        """
        select v.sequence_id, v.version, v.definition, v.created_at,
               (select count(*) from enrollments e
                where e.sequence_id = v.sequence_id and e.sequence_version = v.version and e.state in (@active, @paused)) as running_enrollments
        from sequence_versions v join sequences s on s.id = v.sequence_id
        """;

    /// <summary>
    /// Moves the running (active and paused) enrollments of version <paramref name="fromVersion"/> to <paramref name="toVersion"/>
    /// in one transaction. <paramref name="moves"/> maps a step index of the old version to the index in the new one
    /// (null: end the enrollment, state <c>completed</c>, stop reason <c>migrated_to_end</c>) with the event detail to record.
    /// When any running enrollment sits on an index that <paramref name="moves"/> does not cover, nothing moves and the
    /// uncovered indexes are returned.
    /// </summary>
    public async Task<MoveResult> MoveEnrollmentsAsync(
        Guid workspaceId, Guid id, int fromVersion, int toVersion, IReadOnlyDictionary<int, StepMove> moves, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var row = await LockAsync(c, tx, workspaceId, id, ct);
        if (row is null)
        {
            return new MoveResult(SequenceChange.NotFound, 0, []);
        }

        if (row.State == SequenceStates.Archived)
        {
            return new MoveResult(SequenceChange.Conflict, 0, []);
        }

        var running = new { id, fromVersion, active = EnrollmentStates.Active, paused = EnrollmentStates.Paused };
        // Row locks on PostgreSQL so that no step advances between the check and the move.
        var steps = (await c.QueryAsync<int>(new CommandDefinition(db.Sql(
            "select current_step from enrollments where sequence_id = @id and sequence_version = @fromVersion and state in (@active, @paused) for update",
            "select current_step from enrollments where sequence_id = @id and sequence_version = @fromVersion and state in (@active, @paused)"),
            running, tx, cancellationToken: ct))).ToHashSet();
        var unmapped = steps.Where(s => !moves.ContainsKey(s)).Order().ToArray();
        if (unmapped.Length > 0)
        {
            return new MoveResult(SequenceChange.Conflict, 0, unmapped);
        }

        var moved = 0;
        foreach (var step in steps.Order())
        {
            var move = moves[step];
            var args = new
            {
                id, fromVersion, toVersion, step, to = move.ToStep, detail = move.Detail, channel = move.Channel, now,
                active = EnrollmentStates.Active, paused = EnrollmentStates.Paused, completed = EnrollmentStates.Completed,
            };
            await c.ExecuteAsync(new CommandDefinition(
                """
                insert into enrollment_events (workspace_id, enrollment_id, type, detail, occurred_at)
                select workspace_id, id, 'migrated', @detail, @now from enrollments
                where sequence_id = @id and sequence_version = @fromVersion and state in (@active, @paused) and current_step = @step
                """, args, tx, cancellationToken: ct));
            moved += await c.ExecuteAsync(new CommandDefinition(move.ToStep is null
                ? """
                  update enrollments set sequence_version = @toVersion, state = @completed, stop_reason = 'migrated_to_end', next_due_at = null, updated_at = @now
                  where sequence_id = @id and sequence_version = @fromVersion and state in (@active, @paused) and current_step = @step
                  """
                : """
                  update enrollments set sequence_version = @toVersion, current_step = @to, step_channel = @channel, updated_at = @now
                  where sequence_id = @id and sequence_version = @fromVersion and state in (@active, @paused) and current_step = @step
                  """, args, tx, cancellationToken: ct));
        }

        await tx.CommitAsync(ct);
        return new MoveResult(SequenceChange.Done, moved, []);
    }

    /// <summary>The workspace's custom field names (the scope template variables are checked against at save).</summary>
    public async Task<IReadOnlyList<string>> CustomFieldNamesAsync(Guid workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<string>(new CommandDefinition(
            "select name from custom_fields where workspace_id = @workspaceId order by name", new { workspaceId }, cancellationToken: ct))).AsList();
    }

    /// <summary>True when the owner exists in this workspace.</summary>
    public async Task<bool> OwnerExistsAsync(Guid workspaceId, Guid ownerId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from owners where workspace_id = @workspaceId and id = @ownerId", new { workspaceId, ownerId }, cancellationToken: ct)) > 0;
    }

    /// <summary>True when the audience exists in this workspace.</summary>
    public async Task<bool> AudienceExistsAsync(Guid workspaceId, Guid audienceId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from audiences where workspace_id = @workspaceId and id = @audienceId", new { workspaceId, audienceId }, cancellationToken: ct)) > 0;
    }

    /// <summary>Which of <paramref name="mailboxIds"/> are active mailboxes of this workspace.</summary>
    public async Task<IReadOnlySet<Guid>> ActiveMailboxesAsync(Guid workspaceId, IReadOnlyList<Guid> mailboxIds, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<Guid>(new CommandDefinition(db.Sql(
            "select id from mailboxes where workspace_id = @workspaceId and id = any(@ids) and state = 'active'",
            "select id from mailboxes where workspace_id = @workspaceId and id in @ids and state = 'active'"),
            new { workspaceId, ids = mailboxIds.ToArray() }, cancellationToken: ct))).ToHashSet();
    }

    /// <summary>Everything a preview renders with: the prospect, its company and owner, a mailbox, and what happened to its enrollment in this sequence.</summary>
    public async Task<PreviewContext?> PreviewContextAsync(Guid workspaceId, Guid sequenceId, Guid prospectId, Guid? mailboxId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var prospect = await c.QueryFirstOrDefaultAsync<PreviewProspectRow>(new CommandDefinition(
            """
            select p.id, p.email, p.first_name, p.last_name, p.title, p.phone, p.country, p.linkedin_url,
                   coalesce(co.name, p.company) as company, coalesce(co.domain, p.company_domain) as company_domain, p.custom_fields,
                   o.name as owner_name, o.email as owner_email
            from prospects p
            left join companies co on co.id = p.company_id
            left join owners o on o.id = p.owner_id
            where p.workspace_id = @workspaceId and p.id = @prospectId
            """, new { workspaceId, prospectId }, cancellationToken: ct));
        if (prospect is null)
        {
            return null;
        }

        // The requested mailbox, else the workspace's first active one (the sender variables need some mailbox).
        var mailbox = await c.QueryFirstOrDefaultAsync<PreviewMailboxRow>(new CommandDefinition(
            """
            select id, from_name, from_address, signature from mailboxes
            where workspace_id = @workspaceId and (id = @mailboxId or (@mailboxId is null and state = 'active'))
            order by created_at, id limit 1
            """, new { workspaceId, mailboxId }, cancellationToken: ct));
        var facts = (await c.QueryAsync<string>(new CommandDefinition(
            """
            select state from enrollments where sequence_id = @sequenceId and prospect_id = @prospectId
            union
            select ev.type from enrollment_events ev join enrollments e on e.id = ev.enrollment_id
            where e.sequence_id = @sequenceId and e.prospect_id = @prospectId
            """, new { sequenceId, prospectId }, cancellationToken: ct))).AsList();
        return new PreviewContext(prospect, mailbox, facts);
    }

    private async Task<SequenceRow?> LockAsync(DbConnection c, DbTransaction tx, Guid workspaceId, Guid id, CancellationToken ct)
        => await c.QueryFirstOrDefaultAsync<SequenceRow>(new CommandDefinition(db.Sql(
            $"select {Columns} from sequences where workspace_id = @workspaceId and id = @id for update",
            $"select {Columns} from sequences where workspace_id = @workspaceId and id = @id"), new { workspaceId, id }, tx, cancellationToken: ct));
}
