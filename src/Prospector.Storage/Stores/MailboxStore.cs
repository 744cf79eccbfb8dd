using Dapper;
using Prospector.Core.Inbound;

namespace Prospector.Storage.Stores;

/// <summary>Sender mailboxes (passwords arrive here already encrypted) and their IMAP sync cursors.</summary>
public sealed class MailboxStore(Database db)
{
    private const string Columns =
        """
        id, workspace_id, name, from_address, from_name, daily_cap, smtp_host, smtp_port, smtp_security, smtp_username,
        smtp_password_protected, imap_host, imap_port, imap_security, imap_username, imap_password_protected, imap_folder, created_at
        """;

    /// <summary>Inserts a mailbox.</summary>
    public async Task CreateAsync(MailboxRow m, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            $"""
            insert into mailboxes ({Columns})
            values (@Id, @WorkspaceId, @Name, @FromAddress, @FromName, @DailyCap, @SmtpHost, @SmtpPort, @SmtpSecurity, @SmtpUsername,
                    @SmtpPasswordProtected, @ImapHost, @ImapPort, @ImapSecurity, @ImapUsername, @ImapPasswordProtected, @ImapFolder, @CreatedAt)
            """, m, cancellationToken: ct));
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
