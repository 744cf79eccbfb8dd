using Dapper;
using Prospector.Storage;

namespace Prospector.Server.Simulation;

// The simulation's own statements: copying the inputs from the live database into the scratch one, injecting facts, and
// reading the outcome back. They stay here (not in Prospector.Storage) because nothing but the simulation may run them:
// every write goes to the scratch database, and the live database is only read.

/// <summary>An active enrollment's next instant (and the lease that may hold it a little longer).</summary>
internal sealed class WaitingRow
{
    public DateTimeOffset NextDueAt { get; init; }
    public DateTimeOffset? LeaseUntil { get; init; }
}

/// <summary>An open task of the scratch workspace.</summary>
internal sealed class OpenTaskRow
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public Guid ProspectId { get; init; }
    public string Type { get; init; } = "";
}

/// <summary>Something the engine did to one prospect, for the timeline.</summary>
internal sealed class ActionRow
{
    public DateTimeOffset At { get; init; }
    public Guid ProspectId { get; init; }
    public string StepId { get; init; } = "";
    public Guid? MailboxId { get; init; }
    public DateTimeOffset? WantedAt { get; init; }
    public string? Reasons { get; init; }
    public string Kind { get; init; } = "";
}

/// <summary>How an enrollment ended (or where it stands).</summary>
internal sealed class OutcomeRow
{
    public Guid ProspectId { get; init; }
    public string State { get; init; } = "";
    public string? StopReason { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A mailbox's zone, to count emails per local day.</summary>
internal sealed class MailboxZoneRow
{
    public Guid Id { get; init; }
    public string TimeZone { get; init; } = "UTC";
}

/// <summary>The label of a prospect in results: its email, else its LinkedIn URL.</summary>
internal sealed class ProspectLabelRow
{
    public Guid Id { get; init; }
    public string? Email { get; init; }
    public string? LinkedinUrl { get; init; }
}

internal static class ScratchData
{
    /// <summary>
    /// Copies the rows of <paramref name="table"/> that <paramref name="where"/> selects in the live database into the same
    /// table of the scratch database: every column the scratch schema has, except <paramref name="blank"/> (written null).
    /// </summary>
    public static async Task<int> CopyAsync(
        Database live, Database scratch, string table, (string Postgres, string Sqlite) where, object args, CancellationToken ct, params string[] blank)
    {
        List<IDictionary<string, object?>> rows;
        await using (var from = await live.OpenAsync(ct))
        {
            rows = (await from.QueryAsync(new CommandDefinition($"select * from {table} where {live.Sql(where.Postgres, where.Sqlite)}", args, cancellationToken: ct)))
                .Cast<IDictionary<string, object?>>().ToList();
        }

        if (rows.Count == 0)
        {
            return 0;
        }

        await using var to = await scratch.OpenAsync(ct);
        var columns = (await to.QueryAsync<string>(new CommandDefinition($"select name from pragma_table_info('{table}')", cancellationToken: ct)))
            .ToHashSet(StringComparer.Ordinal);
        var names = rows[0].Keys.Where(columns.Contains).ToArray();
        var insert = $"insert into {table} ({string.Join(", ", names)}) values ({string.Join(", ", names.Select((_, i) => "@p" + i))}) on conflict do nothing";
        await using var tx = await to.BeginTransactionAsync(ct);
        foreach (var row in rows)
        {
            var parameters = new DynamicParameters();
            for (var i = 0; i < names.Length; i++)
            {
                parameters.Add("p" + i, blank.Contains(names[i], StringComparer.Ordinal) ? null : Value(row[names[i]]));
            }

            await to.ExecuteAsync(new CommandDefinition(insert, parameters, tx, cancellationToken: ct));
        }

        await tx.CommitAsync(ct);
        return rows.Count;
    }

    // Instants are written as UTC DateTimeOffset, as the stores write them (text that sorts in time order on SQLite).
    private static object? Value(object? value) => value switch
    {
        DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
        DateTimeOffset d => d.ToUniversalTime(),
        _ => value,
    };

    /// <summary>The members of a workspace's audience in the live database, in id order; null when there is no such audience.</summary>
    public static async Task<IReadOnlyList<Guid>?> AudienceMembersAsync(Database live, Guid workspaceId, Guid audienceId, CancellationToken ct)
    {
        await using var c = await live.OpenAsync(ct);
        if (await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from audiences where workspace_id = @workspaceId and id = @audienceId", new { workspaceId, audienceId }, cancellationToken: ct)) == 0)
        {
            return null;
        }

        return (await c.QueryAsync<Guid>(new CommandDefinition(
            "select prospect_id from audience_members where audience_id = @audienceId order by prospect_id", new { audienceId }, cancellationToken: ct))).AsList();
    }

    /// <summary>The workspace's active mailboxes in the live database, oldest first.</summary>
    public static async Task<IReadOnlyList<Guid>> ActiveMailboxesAsync(Database live, Guid workspaceId, CancellationToken ct)
    {
        await using var c = await live.OpenAsync(ct);
        return (await c.QueryAsync<Guid>(new CommandDefinition(
            "select id from mailboxes where workspace_id = @workspaceId and state = 'active' order by created_at, id", new { workspaceId }, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// Lets the scratch copies of the workspace and the sequence run whatever their live state: a paused sequence or workspace
    /// is simulated as if resumed at the start.
    /// </summary>
    public static async Task ActivateAsync(Database scratch, Guid workspaceId, Guid sequenceId, CancellationToken ct)
    {
        await using var c = await scratch.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "update workspaces set state = 'active' where id = @workspaceId; update sequences set state = 'active' where id = @sequenceId",
            new { workspaceId, sequenceId }, cancellationToken: ct));
    }

    /// <summary>Sets the scheduling limits of a scratch mailbox (the CLI's mailboxes; the API copies every column).</summary>
    public static async Task SetLimitsAsync(
        Database scratch, Guid mailboxId, int? hourlyCap, int minGapSeconds, int? rampStart, int? rampStep, DateTimeOffset? rampStartedAt, CancellationToken ct)
    {
        await using var c = await scratch.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            """
            update mailboxes set hourly_cap = @hourlyCap, min_gap_seconds = @minGapSeconds, ramp_start = @rampStart, ramp_step = @rampStep,
                ramp_started_at = @rampStartedAt
            where id = @mailboxId
            """, new { mailboxId, hourlyCap, minGapSeconds, rampStart, rampStep, rampStartedAt = rampStartedAt?.ToUniversalTime() }, cancellationToken: ct));
    }

    /// <summary>The enrollment of each prospect in the scratch database.</summary>
    public static async Task<IReadOnlyDictionary<Guid, (Guid EnrollmentId, Guid WorkspaceId, Guid MailboxId)>> EnrollmentsAsync(Database scratch, CancellationToken ct)
    {
        await using var c = await scratch.OpenAsync(ct);
        var rows = await c.QueryAsync<(Guid ProspectId, Guid Id, Guid WorkspaceId, Guid MailboxId)>(new CommandDefinition(
            "select prospect_id, id, workspace_id, mailbox_id from enrollments", cancellationToken: ct));
        return rows.ToDictionary(r => r.ProspectId, r => (r.Id, r.WorkspaceId, r.MailboxId));
    }

    /// <summary>Message-IDs sent to an enrollment, newest first: what a reply or a bounce would reference.</summary>
    public static async Task<IReadOnlyList<string>> SentMessageIdsAsync(Database scratch, Guid enrollmentId, CancellationToken ct)
    {
        await using var c = await scratch.OpenAsync(ct);
        return (await c.QueryAsync<string>(new CommandDefinition(
            "select message_id from sends where enrollment_id = @enrollmentId and state = 'sent' order by sent_at desc, id desc",
            new { enrollmentId }, cancellationToken: ct))).AsList();
    }

    /// <summary>Appends a fact branches read (opened, clicked, linkedin_connected) as the live producers will.</summary>
    public static async Task AppendEventAsync(Database scratch, Guid workspaceId, Guid enrollmentId, string type, DateTimeOffset at, CancellationToken ct)
    {
        await using var c = await scratch.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "insert into enrollment_events (workspace_id, enrollment_id, type, detail, occurred_at) values (@workspaceId, @enrollmentId, @type, 'simulated', @at)",
            new { workspaceId, enrollmentId, type, at = at.ToUniversalTime() }, cancellationToken: ct));
    }

    public static async Task<IReadOnlyList<OpenTaskRow>> OpenTasksAsync(Database scratch, CancellationToken ct)
    {
        await using var c = await scratch.OpenAsync(ct);
        return (await c.QueryAsync<OpenTaskRow>(new CommandDefinition(
            """
            select t.id, t.workspace_id, e.prospect_id, t.type from tasks t join enrollments e on e.id = t.enrollment_id
            where t.state = 'open' order by t.created_at, t.id
            """, cancellationToken: ct))).AsList();
    }

    public static async Task<IReadOnlyList<WaitingRow>> WaitingAsync(Database scratch, CancellationToken ct)
    {
        await using var c = await scratch.OpenAsync(ct);
        return (await c.QueryAsync<WaitingRow>(new CommandDefinition(
            "select next_due_at, lease_until from enrollments where state = 'active' and next_due_at is not null", cancellationToken: ct))).AsList();
    }

    /// <summary>Until when mailboxes have no free email slot (written by the dispatcher's capacity-aware claim).</summary>
    public static async Task<IReadOnlyList<DateTimeOffset>> BlockedUntilAsync(Database scratch, CancellationToken ct)
    {
        await using var c = await scratch.OpenAsync(ct);
        return (await c.QueryAsync<DateTimeOffset>(new CommandDefinition(
            "select blocked_until from mailboxes where blocked_until is not null", cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// Every email sent (with the 'used' slot's wanted time and reasons when the dispatcher wrote one), task created and
    /// webhook called.
    /// </summary>
    public static async Task<IReadOnlyList<ActionRow>> ActionsAsync(Database scratch, CancellationToken ct)
    {
        await using var c = await scratch.OpenAsync(ct);
        return (await c.QueryAsync<ActionRow>(new CommandDefinition(
            """
            select s.sent_at as at, e.prospect_id, s.step_id, s.mailbox_id, ms.wanted_at, ms.reasons, 'email' as kind
            from sends s join enrollments e on e.id = s.enrollment_id
            left join mailbox_slots ms on ms.enrollment_id = s.enrollment_id and ms.step_id = s.step_id and ms.state = 'used'
            where s.state = 'sent'
            union all
            select t.created_at as at, e.prospect_id, t.step_id, null, null, null, 'task' from tasks t join enrollments e on e.id = t.enrollment_id
            union all
            select w.created_at as at, e.prospect_id, w.step_id, null, null, null, 'webhook' from webhook_calls w join enrollments e on e.id = w.enrollment_id
            """, cancellationToken: ct))).AsList();
    }

    public static async Task<IReadOnlyList<OutcomeRow>> OutcomesAsync(Database scratch, CancellationToken ct)
    {
        await using var c = await scratch.OpenAsync(ct);
        return (await c.QueryAsync<OutcomeRow>(new CommandDefinition(
            "select prospect_id, state, stop_reason, updated_at from enrollments order by prospect_id", cancellationToken: ct))).AsList();
    }

    public static async Task<IReadOnlyList<MailboxZoneRow>> MailboxZonesAsync(Database scratch, CancellationToken ct)
    {
        await using var c = await scratch.OpenAsync(ct);
        return (await c.QueryAsync<MailboxZoneRow>(new CommandDefinition("select id, time_zone from mailboxes", cancellationToken: ct))).AsList();
    }

    public static async Task<IReadOnlyList<ProspectLabelRow>> ProspectLabelsAsync(Database scratch, CancellationToken ct)
    {
        await using var c = await scratch.OpenAsync(ct);
        return (await c.QueryAsync<ProspectLabelRow>(new CommandDefinition("select id, email, linkedin_url from prospects", cancellationToken: ct))).AsList();
    }

    /// <summary>Closes every pooled connection to the scratch file so it can be deleted.</summary>
    public static async Task ReleaseAsync(Database scratch)
    {
        await using var c = await scratch.OpenAsync();
        if (c is Microsoft.Data.Sqlite.SqliteConnection sqlite)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearPool(sqlite);
        }
    }

}
