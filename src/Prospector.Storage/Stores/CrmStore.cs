using System.Data.Common;
using Dapper;

namespace Prospector.Storage.Stores;

/// <summary>CRM connections (secret encrypted by the caller) and the CRM outbox: the truth about every push.</summary>
public sealed class CrmStore(Database db)
{
    private const string OutboxColumns =
        "id, workspace_id, enrollment_id, event_type, payload, state, attempts, next_attempt_at, last_status, last_error, external_id, created_at, delivered_at";

    /// <summary>Creates or replaces the workspace's CRM connection.</summary>
    public async Task SaveConnectionAsync(CrmConnectionRow row, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            """
            insert into crm_connections (workspace_id, kind, endpoint, secret_protected, updated_at)
            values (@WorkspaceId, @Kind, @Endpoint, @SecretProtected, @UpdatedAt)
            on conflict (workspace_id) do update set kind = excluded.kind, endpoint = excluded.endpoint,
                secret_protected = excluded.secret_protected, updated_at = excluded.updated_at
            """, row, cancellationToken: ct));
    }

    /// <summary>The workspace's CRM connection, or null.</summary>
    public async Task<CrmConnectionRow?> GetConnectionAsync(Guid workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<CrmConnectionRow>(new CommandDefinition(
            "select workspace_id, kind, endpoint, secret_protected, updated_at from crm_connections where workspace_id = @workspaceId",
            new { workspaceId }, cancellationToken: ct));
    }

    /// <summary>One outbox row.</summary>
    public async Task<CrmOutboxRow?> GetAsync(Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<CrmOutboxRow>(new CommandDefinition(
            $"select {OutboxColumns} from crm_outbox where id = @id", new { id }, cancellationToken: ct));
    }

    /// <summary>The workspace's outbox rows, newest first.</summary>
    public async Task<IReadOnlyList<CrmOutboxRow>> ListAsync(Guid workspaceId, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<CrmOutboxRow>(new CommandDefinition(
            $"select {OutboxColumns} from crm_outbox where workspace_id = @workspaceId order by id desc limit @limit",
            new { workspaceId, limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>Ids of pending rows whose next attempt is due.</summary>
    public async Task<IReadOnlyList<Guid>> DueAsync(DateTimeOffset now, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<Guid>(new CommandDefinition(
            "select id from crm_outbox where state = 'pending' and next_attempt_at <= @now order by next_attempt_at limit @limit",
            new { now, limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// Takes the row for one attempt by pushing its next attempt time forward (a lease): two workers cannot push the
    /// same row at once. Returns false when the row is not pending and due.
    /// </summary>
    public async Task<bool> TryLeaseAsync(Guid id, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            "update crm_outbox set next_attempt_at = @leaseUntil where id = @id and state = 'pending' and next_attempt_at <= @now",
            new { id, now, leaseUntil }, cancellationToken: ct)) == 1;
    }

    /// <summary>The CRM accepted the event.</summary>
    public async Task MarkDeliveredAsync(Guid id, int? status, string? externalId, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            """
            update crm_outbox set state = 'delivered', attempts = attempts + 1, last_status = @status, last_error = null,
                external_id = @externalId, delivered_at = @now
            where id = @id
            """, new { id, status, externalId, now }, cancellationToken: ct));
    }

    /// <summary>An attempt failed: try again at <paramref name="nextAttemptAt"/>, or give up ('dead') when null.</summary>
    public async Task MarkFailedAsync(Guid id, int? status, string? error, DateTimeOffset? nextAttemptAt, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            """
            update crm_outbox set attempts = attempts + 1, last_status = @status, last_error = @error,
                state = @state, next_attempt_at = @next
            where id = @id
            """, new { id, status, error, state = nextAttemptAt is null ? "dead" : "pending", next = nextAttemptAt ?? now }, cancellationToken: ct));
    }

    internal static async Task<Guid?> EnqueueAsync(DbConnection c, DbTransaction tx, Guid workspaceId, Guid enrollmentId, string eventType, string payload, DateTimeOffset now, CancellationToken ct)
    {
        var id = Guid.CreateVersion7(now);
        var rows = await c.ExecuteAsync(new CommandDefinition(
            """
            insert into crm_outbox (id, workspace_id, enrollment_id, event_type, payload, state, attempts, next_attempt_at, created_at)
            values (@id, @workspaceId, @enrollmentId, @eventType, @payload, 'pending', 0, @now, @now)
            on conflict (enrollment_id, event_type) do nothing
            """, new { id, workspaceId, enrollmentId, eventType, payload, now }, tx, cancellationToken: ct));
        return rows == 1 ? id : null;
    }
}
