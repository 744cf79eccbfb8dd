using System.Data.Common;
using Dapper;
using Prospector.Core.Prospects;

namespace Prospector.Storage.Stores;

/// <summary>One suppression list entry: a hash (never the clear address or domain), its kind and why it is there.</summary>
public sealed class SuppressionRow
{
    public string AddressHash { get; init; } = "";
    public string Kind { get; init; } = SuppressionKeys.AddressKind;
    public string Reason { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>What removing an entry did.</summary>
public enum SuppressionRemoval
{
    /// <summary>Removed.</summary>
    Removed,
    /// <summary>No such entry in the workspace.</summary>
    NotFound,
    /// <summary>The entry records the recipient's own objection or a hard bounce and the caller may not lift it.</summary>
    Protected,
}

/// <summary>
/// The workspace suppression list: hashed normalised addresses (kind 'address') and hashed domains (kind 'domain', every
/// address at that domain) that must never be sent to.
/// </summary>
public sealed class SuppressionStore(Database db)
{
    /// <summary>The reason of entries added by hand through the API; the only ones an SDR may remove.</summary>
    public const string ManualReason = "manual";

    private const string Columns = "address_hash, kind, reason, created_at";

    /// <summary>Adds an address (idempotent).</summary>
    public async Task AddAsync(Guid workspaceId, string email, string reason, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await AddAsync(c, tx, workspaceId, email, reason, now, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// Adds an entry by key and kind unless one exists; returns the stored entry and whether it was created now (an
    /// existing entry keeps its own kind, reason and date).
    /// </summary>
    public async Task<(SuppressionRow Row, bool Created)> AddKeyAsync(Guid workspaceId, string hash, string kind, string reason, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var created = await InsertAsync(c, tx, workspaceId, hash, kind, reason, now, ct) > 0;
        var row = await c.QuerySingleAsync<SuppressionRow>(new CommandDefinition(
            $"select {Columns} from suppressions where workspace_id = @workspaceId and address_hash = @hash", new { workspaceId, hash }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return (row, created);
    }

    /// <summary>The entries with these keys (any kind), in key order.</summary>
    public async Task<IReadOnlyList<SuppressionRow>> FindAsync(Guid workspaceId, IReadOnlyList<string> hashes, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<SuppressionRow>(new CommandDefinition(db.Sql(
            $"select {Columns} from suppressions where workspace_id = @workspaceId and address_hash = any(@hashes) order by address_hash",
            $"select {Columns} from suppressions where workspace_id = @workspaceId and address_hash in @hashes order by address_hash"),
            new { workspaceId, hashes = hashes.ToArray() }, cancellationToken: ct))).AsList();
    }

    /// <summary>A page of the workspace's entries in key order, after <paramref name="after"/> (keyset).</summary>
    public async Task<IReadOnlyList<SuppressionRow>> ListAsync(Guid workspaceId, string? after, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<SuppressionRow>(new CommandDefinition(
            $"""
            select {Columns} from suppressions
            where workspace_id = @workspaceId and (@after is null or address_hash > @after)
            order by address_hash limit @limit
            """, new { workspaceId, after, limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// Removes an entry. Only <see cref="ManualReason"/> entries go unless <paramref name="mayLiftProtected"/>: the others
    /// record a recipient's objection (unsubscribe) or a hard bounce.
    /// </summary>
    public async Task<SuppressionRemoval> RemoveAsync(Guid workspaceId, string hash, bool mayLiftProtected, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var reason = await c.QueryFirstOrDefaultAsync<string>(new CommandDefinition(
            "select reason from suppressions where workspace_id = @workspaceId and address_hash = @hash", new { workspaceId, hash }, tx, cancellationToken: ct));
        if (reason is null)
        {
            return SuppressionRemoval.NotFound;
        }

        if (reason != ManualReason && !mayLiftProtected)
        {
            return SuppressionRemoval.Protected;
        }

        await c.ExecuteAsync(new CommandDefinition(
            "delete from suppressions where workspace_id = @workspaceId and address_hash = @hash", new { workspaceId, hash }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return SuppressionRemoval.Removed;
    }

    /// <summary>True when the address, or its whole domain, is suppressed in the workspace.</summary>
    public async Task<bool> IsSuppressedAsync(Guid workspaceId, string email, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await IsSuppressedAsync(c, null, workspaceId, email, ct);
    }

    internal static async Task<bool> IsSuppressedAsync(DbConnection c, DbTransaction? tx, Guid workspaceId, string email, CancellationToken ct)
        => await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from suppressions where workspace_id = @workspaceId and address_hash in (@address, @domain)",
            new { workspaceId, address = SuppressionKeys.ForAddress(email), domain = SuppressionKeys.ForDomainOf(email) }, tx, cancellationToken: ct)) > 0;

    internal static Task AddAsync(DbConnection c, DbTransaction tx, Guid workspaceId, string email, string reason, DateTimeOffset now, CancellationToken ct)
        => InsertAsync(c, tx, workspaceId, SuppressionKeys.ForAddress(email), SuppressionKeys.AddressKind, reason, now, ct);

    private static Task<int> InsertAsync(DbConnection c, DbTransaction tx, Guid workspaceId, string hash, string kind, string reason, DateTimeOffset now, CancellationToken ct)
        => c.ExecuteAsync(new CommandDefinition(
            "insert into suppressions (workspace_id, address_hash, kind, reason, created_at) values (@workspaceId, @hash, @kind, @reason, @now) on conflict do nothing",
            new { workspaceId, hash, kind, reason, now }, tx, cancellationToken: ct));
}
