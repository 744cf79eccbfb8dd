using Dapper;

namespace Prospector.Storage.Stores;

/// <summary>Workspaces and their API keys (stored as SHA-256 hashes; the key itself is shown once).</summary>
public sealed class WorkspaceStore(Database db)
{
    /// <summary>The oldest workspace, created with <paramref name="name"/> if there is none.</summary>
    public async Task<Guid> EnsureDefaultAsync(string name, DateTimeOffset now, CancellationToken ct)
    {
        await using (var c = await db.OpenAsync(ct))
        {
            var existing = await c.QueryFirstOrDefaultAsync<Guid?>(new CommandDefinition(
                "select id from workspaces order by created_at, id limit 1", cancellationToken: ct));
            if (existing is { } id)
            {
                return id;
            }
        }

        return await CreateAsync(name, now, ct);
    }

    /// <summary>Creates a workspace.</summary>
    public async Task<Guid> CreateAsync(string name, DateTimeOffset now, CancellationToken ct)
    {
        var id = Guid.CreateVersion7(now);
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "insert into workspaces (id, name, created_at) values (@id, @name, @now)", new { id, name, now }, cancellationToken: ct));
        return id;
    }

    /// <summary>Stores a key's hash unless that hash exists. Returns false when it already existed.</summary>
    public async Task<bool> AddApiKeyAsync(Guid workspaceId, string name, string role, string prefix, string keyHash, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.ExecuteAsync(new CommandDefinition(
            """
            insert into api_keys (id, workspace_id, name, prefix, key_hash, role, created_at)
            values (@id, @workspaceId, @name, @prefix, @keyHash, @role, @now)
            on conflict (key_hash) do nothing
            """,
            new { id = Guid.CreateVersion7(now), workspaceId, name, prefix, keyHash, role, now }, cancellationToken: ct));
        return rows == 1;
    }

    /// <summary>True when the workspace has at least one key that is not revoked.</summary>
    public async Task<bool> HasActiveApiKeyAsync(Guid workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from api_keys where workspace_id = @workspaceId and revoked_at is null", new { workspaceId }, cancellationToken: ct)) > 0;
    }

    /// <summary>The live key with this hash, or null.</summary>
    public async Task<ApiKeyRow?> FindApiKeyAsync(string keyHash, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<ApiKeyRow>(new CommandDefinition(
            "select id, workspace_id, name, role from api_keys where key_hash = @keyHash and revoked_at is null",
            new { keyHash }, cancellationToken: ct));
    }
}
