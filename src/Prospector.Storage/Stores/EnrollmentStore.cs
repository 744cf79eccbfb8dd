using System.Data.Common;
using System.Text.Json;
using Dapper;
using Prospector.Core.Prospects;
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

    /// <summary>An enrolled prospect: its enrollment and the mailbox that sends to it for the whole thread.</summary>
    public sealed record Enrolled(Guid ProspectId, Guid EnrollmentId, Guid MailboxId)
    {
        /// <summary>Prospect and enrollment only.</summary>
        public void Deconstruct(out Guid prospectId, out Guid enrollmentId)
        {
            prospectId = ProspectId;
            enrollmentId = EnrollmentId;
        }
    }

    /// <summary>Which prospects were enrolled and which were skipped (in input order).</summary>
    public sealed record EnrollResult(IReadOnlyList<Enrolled> Enrolled, IReadOnlyList<Skipped> Skipped);

    /// <summary>
    /// Enrolls a list of prospects with one mailbox, skipping (with a reason) unknown prospects, suppressed addresses,
    /// prospects already in this sequence and, unless the workspace allows it, prospects active in another sequence.
    /// </summary>
    public Task<EnrollResult> EnrollAsync(
        Guid workspaceId, Guid sequenceId, int sequenceVersion, Guid mailboxId, IReadOnlyList<Guid> prospectIds,
        int firstStep, DateTimeOffset firstDueAt, DateTimeOffset now, CancellationToken ct)
        => EnrollAsync(new EnrollPlan(workspaceId, sequenceId, sequenceVersion, [mailboxId], firstStep, firstDueAt, now) { ProspectIds = prospectIds }, ct);

    /// <summary>
    /// Enrolls the plan's prospects (a list or an audience) in one transaction, with a fixed number of statements per
    /// chunk of prospects (no round trip per prospect). Skips with a reason, checked in this order:
    /// <c>prospect_not_found</c>, <c>suppressed</c>, <c>already_enrolled</c>, <c>active_in_other_sequence</c>,
    /// <c>same_company_replied</c>, <c>no_email</c>, <c>no_linkedin_url</c>, <c>missing_field:&lt;name&gt;</c>.
    /// Each enrolled prospect gets the least-loaded mailbox of the pool (active enrollments, counting those made here).
    /// </summary>
    public async Task<EnrollResult> EnrollAsync(EnrollPlan plan, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var ws = plan.WorkspaceId;

        var skipOthers = plan.SkipActiveInOtherSequences ?? !await AllowsActiveInOtherSequencesAsync(c, tx, ws, ct);
        List<Guid> ids;
        if (plan.AudienceId is { } audienceId)
        {
            ids = (await c.QueryAsync<Guid>(new CommandDefinition(
                """
                select m.prospect_id from audience_members m join audiences a on a.id = m.audience_id
                where a.workspace_id = @ws and m.audience_id = @audienceId order by m.prospect_id
                """, new { ws, audienceId }, tx, cancellationToken: ct))).AsList();
        }
        else
        {
            ids = (plan.ProspectIds ?? []).Distinct().ToList();
        }

        var load = new Dictionary<Guid, long>();
        foreach (var row in await c.QueryAsync<MailboxLoadRow>(new CommandDefinition(db.Sql(
            "select mailbox_id, count(*) as active from enrollments where mailbox_id = any(@pool) and state = @active group by mailbox_id",
            "select mailbox_id, count(*) as active from enrollments where mailbox_id in @pool and state = @active group by mailbox_id"),
            new { pool = plan.MailboxPool.ToArray(), active = EnrollmentStates.Active }, tx, cancellationToken: ct)))
        {
            load[row.MailboxId] = row.Active;
        }

        var rotation = new PriorityQueue<Guid, (long Load, int Order)>();
        for (var i = 0; i < plan.MailboxPool.Count; i++)
        {
            rotation.Enqueue(plan.MailboxPool[i], (load.GetValueOrDefault(plan.MailboxPool[i]), i));
        }

        var poolOrder = plan.MailboxPool.Select((m, i) => (m, i)).ToDictionary(x => x.m, x => x.i);
        var enrolled = new List<Enrolled>();
        var skipped = new List<Skipped>();
        foreach (var chunk in ids.Chunk(ChunkSize))
        {
            var facts = await LoadFactsAsync(c, tx, plan, chunk, skipOthers, ct);
            var rows = new List<(Guid Id, Guid ProspectId, Guid MailboxId, Guid? OwnerId)>();
            foreach (var prospectId in chunk)
            {
                var reason = facts.Reason(prospectId, plan);
                if (reason is not null)
                {
                    skipped.Add(new(prospectId, reason));
                    continue;
                }

                rotation.TryDequeue(out var mailbox, out var priority);
                rotation.Enqueue(mailbox, (priority.Load + 1, poolOrder[mailbox]));
                rows.Add((Guid.CreateVersion7(plan.Now), prospectId, mailbox, plan.OwnerId ?? facts.Prospects[prospectId].OwnerId));
            }

            var inserted = await InsertAsync(c, tx, plan, rows, ct);
            foreach (var row in rows)
            {
                if (inserted.Contains(row.Id))
                {
                    enrolled.Add(new(row.ProspectId, row.Id, row.MailboxId));
                }
                else
                {
                    // Enrolled by a concurrent call since the check: the unique (sequence, prospect) key kept it single.
                    skipped.Add(new(row.ProspectId, "already_enrolled"));
                }
            }
        }

        await tx.CommitAsync(ct);
        return new EnrollResult(enrolled, skipped);
    }

    private const int ChunkSize = 5_000;

    private static async Task<bool> AllowsActiveInOtherSequencesAsync(DbConnection c, DbTransaction tx, Guid ws, CancellationToken ct)
    {
        var settings = await c.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select settings from workspaces where id = @ws", new { ws }, tx, cancellationToken: ct));
        try
        {
            using var json = JsonDocument.Parse(string.IsNullOrWhiteSpace(settings) ? "{}" : settings);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("allowActiveInOtherSequences", out var allow)
                && allow.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private async Task<EnrollFacts> LoadFactsAsync(DbConnection c, DbTransaction tx, EnrollPlan plan, Guid[] ids, bool skipOthers, CancellationToken ct)
    {
        var ws = plan.WorkspaceId;
        var prospects = (await c.QueryAsync<EnrollProspectRow>(new CommandDefinition(db.Sql(
            $"select {ProspectColumns} from prospects p left join companies co on co.id = p.company_id where p.workspace_id = @ws and p.id = any(@ids)",
            $"select {ProspectColumns} from prospects p left join companies co on co.id = p.company_id where p.workspace_id = @ws and p.id in @ids"),
            new { ws, ids }, tx, cancellationToken: ct))).ToDictionary(p => p.Id);

        // Address and domain entries in one lookup: a domain entry suppresses every address at that domain.
        var hashes = prospects.Values.Where(p => !string.IsNullOrWhiteSpace(p.Email))
            .SelectMany(p => new[] { SuppressionKeys.ForAddress(p.Email!), SuppressionKeys.ForDomainOf(p.Email!) }).Distinct().ToArray();
        var suppressed = hashes.Length == 0 ? [] : (await c.QueryAsync<string>(new CommandDefinition(db.Sql(
            "select address_hash from suppressions where workspace_id = @ws and address_hash = any(@hashes)",
            "select address_hash from suppressions where workspace_id = @ws and address_hash in @hashes"),
            new { ws, hashes }, tx, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);

        var sequenceId = plan.SequenceId;
        var inThisSequence = (await c.QueryAsync<Guid>(new CommandDefinition(db.Sql(
            "select prospect_id from enrollments where sequence_id = @sequenceId and prospect_id = any(@ids)",
            "select prospect_id from enrollments where sequence_id = @sequenceId and prospect_id in @ids"),
            new { sequenceId, ids }, tx, cancellationToken: ct))).ToHashSet();

        var running = new { ids, sequenceId, active = EnrollmentStates.Active, paused = EnrollmentStates.Paused };
        var activeElsewhere = !skipOthers ? [] : (await c.QueryAsync<Guid>(new CommandDefinition(db.Sql(
            "select distinct prospect_id from enrollments where prospect_id = any(@ids) and sequence_id <> @sequenceId and state in (@active, @paused)",
            "select distinct prospect_id from enrollments where prospect_id in @ids and sequence_id <> @sequenceId and state in (@active, @paused)"),
            running, tx, cancellationToken: ct))).ToHashSet();

        var companies = prospects.Values.Where(p => p.CompanyId is not null).Select(p => p.CompanyId!.Value).Distinct().ToArray();
        var replied = companies.Length == 0 ? [] : (await c.QueryAsync<RepliedRow>(new CommandDefinition(db.Sql(
            """
            select distinct p.company_id, p.id as prospect_id from enrollments e join prospects p on p.id = e.prospect_id
            where p.workspace_id = @ws and p.company_id = any(@companies) and e.state = @replied
            """,
            """
            select distinct p.company_id, p.id as prospect_id from enrollments e join prospects p on p.id = e.prospect_id
            where p.workspace_id = @ws and p.company_id in @companies and e.state = @replied
            """), new { ws, companies, replied = EnrollmentStates.Replied }, tx, cancellationToken: ct))).AsList();
        var repliedByCompany = replied.GroupBy(r => r.CompanyId).ToDictionary(g => g.Key, g => g.Select(r => r.ProspectId).ToHashSet());

        return new EnrollFacts(prospects, suppressed, inThisSequence, activeElsewhere, repliedByCompany);
    }

    private const string ProspectColumns =
        """
        p.id, p.email, p.linkedin_url, p.company_id, p.owner_id, p.first_name, p.last_name, p.title, p.phone, p.country,
        coalesce(co.name, p.company) as company, coalesce(co.domain, p.company_domain) as company_domain, p.custom_fields
        """;

    private async Task<HashSet<Guid>> InsertAsync(
        DbConnection c, DbTransaction tx, EnrollPlan plan, List<(Guid Id, Guid ProspectId, Guid MailboxId, Guid? OwnerId)> rows, CancellationToken ct)
    {
        if (rows.Count == 0)
        {
            return [];
        }

        var common = new
        {
            ws = plan.WorkspaceId, sequenceId = plan.SequenceId, version = plan.SequenceVersion, state = EnrollmentStates.Active,
            firstStep = plan.FirstStep, firstDueAt = plan.FirstDueAt, now = plan.Now, channel = plan.FirstChannel,
        };
        HashSet<Guid> inserted;
        if (db.Dialect == SqlDialect.Postgres)
        {
            // One statement per chunk; a prospect enrolled concurrently since the check is left out by the unique key.
            inserted = (await c.QueryAsync<Guid>(new CommandDefinition(
                """
                insert into enrollments (id, workspace_id, sequence_id, sequence_version, prospect_id, mailbox_id, owner_id, state, current_step, next_due_at, wanted_at, step_channel, created_at, updated_at)
                select r.id, @ws, @sequenceId, @version, r.prospect_id, r.mailbox_id, nullif(r.owner_id, '00000000-0000-0000-0000-000000000000'::uuid),
                       @state, @firstStep, @firstDueAt, @firstDueAt, @channel, @now, @now
                from unnest(@ids, @prospectIds, @mailboxIds, @ownerIds) as r (id, prospect_id, mailbox_id, owner_id)
                on conflict (sequence_id, prospect_id) do nothing
                returning id
                """,
                new
                {
                    common.ws, common.sequenceId, common.version, common.state, common.firstStep, common.firstDueAt, common.now, common.channel,
                    ids = rows.Select(r => r.Id).ToArray(), prospectIds = rows.Select(r => r.ProspectId).ToArray(),
                    mailboxIds = rows.Select(r => r.MailboxId).ToArray(), ownerIds = rows.Select(r => r.OwnerId ?? Guid.Empty).ToArray(),
                }, tx, cancellationToken: ct))).ToHashSet();
            var enrolledIds = inserted.ToArray();
            await c.ExecuteAsync(new CommandDefinition(
                "insert into enrollment_events (workspace_id, enrollment_id, type, detail, occurred_at) select @ws, unnest(@enrolledIds), 'enrolled', null, @now",
                new { common.ws, enrolledIds, common.now }, tx, cancellationToken: ct));
            return inserted;
        }

        // SQLite runs in process: a prepared statement per row costs no round trip.
        inserted = [];
        foreach (var row in rows)
        {
            var added = await c.ExecuteAsync(new CommandDefinition(
                """
                insert into enrollments (id, workspace_id, sequence_id, sequence_version, prospect_id, mailbox_id, owner_id, state, current_step, next_due_at, wanted_at, step_channel, created_at, updated_at)
                values (@id, @ws, @sequenceId, @version, @prospectId, @mailboxId, @ownerId, @state, @firstStep, @firstDueAt, @firstDueAt, @channel, @now, @now)
                on conflict (sequence_id, prospect_id) do nothing
                """,
                new
                {
                    id = row.Id, common.ws, common.sequenceId, common.version, prospectId = row.ProspectId, mailboxId = row.MailboxId, ownerId = row.OwnerId, common.state,
                    common.firstStep, common.firstDueAt, common.now, common.channel,
                }, tx, cancellationToken: ct));
            if (added == 1)
            {
                inserted.Add(row.Id);
                await Events.AppendAsync(c, tx, plan.WorkspaceId, row.Id, "enrolled", null, plan.Now, ct);
            }
        }

        return inserted;
    }

    private sealed class MailboxLoadRow
    {
        public Guid MailboxId { get; init; }
        public long Active { get; init; }
    }

    private sealed class RepliedRow
    {
        public Guid CompanyId { get; init; }
        public Guid ProspectId { get; init; }
    }

    private sealed record EnrollFacts(
        Dictionary<Guid, EnrollProspectRow> Prospects, HashSet<string> Suppressed, HashSet<Guid> InThisSequence, HashSet<Guid> ActiveElsewhere,
        Dictionary<Guid, HashSet<Guid>> RepliedByCompany)
    {
        public string? Reason(Guid prospectId, EnrollPlan plan)
        {
            if (!Prospects.TryGetValue(prospectId, out var p))
            {
                return "prospect_not_found";
            }

            var hasEmail = !string.IsNullOrWhiteSpace(p.Email);
            if (hasEmail && (Suppressed.Contains(SuppressionKeys.ForAddress(p.Email!)) || Suppressed.Contains(SuppressionKeys.ForDomainOf(p.Email!))))
            {
                return "suppressed";
            }

            if (InThisSequence.Contains(prospectId))
            {
                return "already_enrolled";
            }

            if (ActiveElsewhere.Contains(prospectId))
            {
                return "active_in_other_sequence";
            }

            if (p.CompanyId is { } company && RepliedByCompany.TryGetValue(company, out var repliers) && repliers.Any(r => r != prospectId))
            {
                return "same_company_replied";
            }

            if (plan.NeedsEmail && !hasEmail)
            {
                return "no_email";
            }

            if (plan.NeedsLinkedInUrl && string.IsNullOrWhiteSpace(p.LinkedinUrl))
            {
                return "no_linkedin_url";
            }

            foreach (var field in plan.RequiredFields)
            {
                if (string.IsNullOrWhiteSpace(p.Field(field)))
                {
                    return "missing_field:" + field;
                }
            }

            return null;
        }
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
