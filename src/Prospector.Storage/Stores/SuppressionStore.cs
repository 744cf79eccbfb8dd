using System.Data.Common;
using Dapper;
using Prospector.Core.Prospects;

namespace Prospector.Storage.Stores;

/// <summary>The workspace suppression list: hashed normalised addresses that must never be sent to.</summary>
public sealed class SuppressionStore(Database db)
{
    /// <summary>Adds an address (idempotent).</summary>
    public async Task AddAsync(Guid workspaceId, string email, string reason, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await AddAsync(c, tx, workspaceId, email, reason, now, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>True when the address is suppressed in the workspace.</summary>
    public async Task<bool> IsSuppressedAsync(Guid workspaceId, string email, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await IsSuppressedAsync(c, null, workspaceId, email, ct);
    }

    internal static async Task<bool> IsSuppressedAsync(DbConnection c, DbTransaction? tx, Guid workspaceId, string email, CancellationToken ct)
        => await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from suppressions where workspace_id = @workspaceId and address_hash = @hash",
            new { workspaceId, hash = EmailAddress.Hash(email) }, tx, cancellationToken: ct)) > 0;

    internal static Task AddAsync(DbConnection c, DbTransaction tx, Guid workspaceId, string email, string reason, DateTimeOffset now, CancellationToken ct)
        => c.ExecuteAsync(new CommandDefinition(
            "insert into suppressions (workspace_id, address_hash, reason, created_at) values (@workspaceId, @hash, @reason, @now) on conflict do nothing",
            new { workspaceId, hash = EmailAddress.Hash(email), reason, now }, tx, cancellationToken: ct));
}
