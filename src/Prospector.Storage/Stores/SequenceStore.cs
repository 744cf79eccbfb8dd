using Dapper;

namespace Prospector.Storage.Stores;

/// <summary>Sequences and their (validated) definitions.</summary>
public sealed class SequenceStore(Database db)
{
    private const string Columns = "id, workspace_id, name, state, version, definition, created_at";

    /// <summary>Inserts a sequence at version 1.</summary>
    public async Task CreateAsync(SequenceRow s, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            $"insert into sequences ({Columns}, updated_at) values (@Id, @WorkspaceId, @Name, @State, @Version, @Definition, @CreatedAt, @CreatedAt)",
            s, cancellationToken: ct));
    }

    /// <summary>A sequence of this workspace, or null.</summary>
    public async Task<SequenceRow?> GetAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<SequenceRow>(new CommandDefinition(
            $"select {Columns} from sequences where workspace_id = @workspaceId and id = @id", new { workspaceId, id }, cancellationToken: ct));
    }

    /// <summary>The workspace's sequences.</summary>
    public async Task<IReadOnlyList<SequenceRow>> ListAsync(Guid workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<SequenceRow>(new CommandDefinition(
            $"select {Columns} from sequences where workspace_id = @workspaceId order by created_at, id", new { workspaceId }, cancellationToken: ct))).AsList();
    }
}
