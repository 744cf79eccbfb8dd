using Dapper;
using Prospector.Core.Inbound;

namespace Prospector.Storage.Stores;

/// <summary>Sender mailboxes (passwords arrive here already encrypted) and their IMAP sync cursors.</summary>
public sealed class MailboxStore(Database db)
{
    private const string Columns =
        """
        id, workspace_id, name, from_address, from_name, daily_cap, smtp_host, smtp_port, smtp_security, smtp_username,
        smtp_password_protected, imap_host, imap_port, imap_security, imap_username, imap_password_protected, imap_folder, created_at,
        owner_id, signature, time_zone, window_start_minute, window_end_minute, window_days, state, updated_at,
        hourly_cap, min_gap_seconds, ramp_start, ramp_step, ramp_started_at
        """;

    /// <summary>Inserts a mailbox.</summary>
    public async Task CreateAsync(MailboxRow m, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            $"""
            insert into mailboxes ({Columns})
            values (@Id, @WorkspaceId, @Name, @FromAddress, @FromName, @DailyCap, @SmtpHost, @SmtpPort, @SmtpSecurity, @SmtpUsername,
                    @SmtpPasswordProtected, @ImapHost, @ImapPort, @ImapSecurity, @ImapUsername, @ImapPasswordProtected, @ImapFolder, @CreatedAt,
                    @OwnerId, @Signature, @TimeZone, @WindowStartMinute, @WindowEndMinute, @WindowDays, @State, @UpdatedAt,
                    @HourlyCap, @MinGapSeconds, @RampStart, @RampStep, @RampStartedAt)
            """, m, cancellationToken: ct));
    }

    /// <summary>Saves every editable column of a mailbox of <see cref="MailboxRow.WorkspaceId"/>. Returns false when there is no such mailbox.</summary>
    public async Task<bool> UpdateAsync(MailboxRow m, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            """
            update mailboxes set name = @Name, from_address = @FromAddress, from_name = @FromName, daily_cap = @DailyCap,
                smtp_host = @SmtpHost, smtp_port = @SmtpPort, smtp_security = @SmtpSecurity, smtp_username = @SmtpUsername,
                smtp_password_protected = @SmtpPasswordProtected, imap_host = @ImapHost, imap_port = @ImapPort, imap_security = @ImapSecurity,
                imap_username = @ImapUsername, imap_password_protected = @ImapPasswordProtected, imap_folder = @ImapFolder,
                owner_id = @OwnerId, signature = @Signature, time_zone = @TimeZone, window_start_minute = @WindowStartMinute,
                window_end_minute = @WindowEndMinute, window_days = @WindowDays, updated_at = @UpdatedAt,
                hourly_cap = @HourlyCap, min_gap_seconds = @MinGapSeconds, ramp_start = @RampStart, ramp_step = @RampStep,
                ramp_started_at = @RampStartedAt, blocked_until = null
            where workspace_id = @WorkspaceId and id = @Id
            """, m, cancellationToken: ct)) == 1;
    }

    /// <summary>Archives a mailbox (idempotent). Returns false when the workspace has no such mailbox.</summary>
    public async Task<bool> ArchiveAsync(Guid workspaceId, Guid id, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "update mailboxes set state = 'archived', updated_at = @now where workspace_id = @workspaceId and id = @id and state <> 'archived'",
            new { workspaceId, id, now }, cancellationToken: ct));
        return await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from mailboxes where workspace_id = @workspaceId and id = @id", new { workspaceId, id }, cancellationToken: ct)) == 1;
    }

    /// <summary>
    /// Pauses an active mailbox or resumes a paused one (its due email steps wait meanwhile). Returns false when the
    /// workspace has no such mailbox, null when its state does not allow it.
    /// </summary>
    public async Task<bool?> SetPausedAsync(Guid workspaceId, Guid id, bool paused, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var state = await c.QueryFirstOrDefaultAsync<string>(new CommandDefinition(
            "select state from mailboxes where workspace_id = @workspaceId and id = @id", new { workspaceId, id }, cancellationToken: ct));
        if (state is null)
        {
            return false;
        }

        var (from, to) = paused ? ("active", "paused") : ("paused", "active");
        var changed = await c.ExecuteAsync(new CommandDefinition(
            "update mailboxes set state = @to, blocked_until = null, updated_at = @now where workspace_id = @workspaceId and id = @id and state = @from",
            new { workspaceId, id, from, to, now }, cancellationToken: ct));
        return changed == 1 ? true : null;
    }

    /// <summary>A page of the workspace's mailboxes by id, optionally of one state.</summary>
    public async Task<IReadOnlyList<MailboxRow>> ListAsync(Guid workspaceId, string? state, Guid? after, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<MailboxRow>(new CommandDefinition(
            $"""
            select {Columns} from mailboxes
            where workspace_id = @workspaceId and (@state is null or state = @state) and (@after is null or id > @after)
            order by id limit @limit
            """,
            new { workspaceId, state, after, limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>A mailbox of this workspace, or null (also for another workspace's id).</summary>
    public async Task<MailboxRow?> GetAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<MailboxRow>(new CommandDefinition(
            $"select {Columns} from mailboxes where workspace_id = @workspaceId and id = @id", new { workspaceId, id }, cancellationToken: ct));
    }

    /// <summary>The workspace's mailboxes.</summary>
    public async Task<IReadOnlyList<MailboxRow>> ListAsync(Guid workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<MailboxRow>(new CommandDefinition(
            $"select {Columns} from mailboxes where workspace_id = @workspaceId order by created_at, id", new { workspaceId }, cancellationToken: ct))).AsList();
    }

    /// <summary>Every mailbox, of every workspace, that has IMAP settings: what the sync job reads.</summary>
    public async Task<IReadOnlyList<MailboxRow>> ListSyncableAsync(CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<MailboxRow>(new CommandDefinition(
            $"select {Columns} from mailboxes where imap_host is not null order by id", cancellationToken: ct))).AsList();
    }

    /// <summary>Where the last sync of this mailbox stopped, or null if it never ran.</summary>
    public async Task<SyncCursor?> GetCursorAsync(Guid mailboxId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QueryFirstOrDefaultAsync<(long UidValidity, long LastUid)?>(new CommandDefinition(
            "select uid_validity, last_uid from mailbox_sync where mailbox_id = @mailboxId", new { mailboxId }, cancellationToken: ct));
        return row is { } r ? new SyncCursor((uint)r.UidValidity, (uint)r.LastUid) : null;
    }

    /// <summary>Stores the cursor after a batch is processed.</summary>
    public async Task SaveCursorAsync(Guid mailboxId, SyncCursor cursor, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            """
            insert into mailbox_sync (mailbox_id, uid_validity, last_uid, synced_at) values (@mailboxId, @uidValidity, @lastUid, @now)
            on conflict (mailbox_id) do update set uid_validity = excluded.uid_validity, last_uid = excluded.last_uid, synced_at = excluded.synced_at
            """,
            new { mailboxId, uidValidity = (long)cursor.UidValidity, lastUid = (long)cursor.LastUid, now }, cancellationToken: ct));
    }
}
