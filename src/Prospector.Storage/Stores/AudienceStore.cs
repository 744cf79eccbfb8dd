using System.Data.Common;
using Dapper;

namespace Prospector.Storage.Stores;

/// <summary>Audiences: named lists of a workspace's prospects. Deleting one removes the membership, never the prospects.</summary>
public sealed class AudienceStore(Database db)
{
    private const string Select =
        """
        select a.id, a.workspace_id, a.name, a.created_at, a.updated_at,
               (select count(*) from audience_members m where m.audience_id = a.id) as members
        from audiences a
        """;

    /// <summary>Creates an audience.</summary>
    public async Task<AudienceRow> CreateAsync(Guid workspaceId, string name, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var id = Guid.CreateVersion7(now);
        await c.ExecuteAsync(new CommandDefinition(
            "insert into audiences (id, workspace_id, name, created_at, updated_at) values (@id, @workspaceId, @name, @now, @now)",
            new { id, workspaceId, name, now }, cancellationToken: ct));
        return new AudienceRow { Id = id, WorkspaceId = workspaceId, Name = name, CreatedAt = now, UpdatedAt = now };
    }

    /// <summary>The audience of this name in the workspace (the oldest if several), created if there is none.</summary>
    internal async Task<Guid> FindOrCreateAsync(DbConnection c, DbTransaction tx, Guid workspaceId, string name, DateTimeOffset now, CancellationToken ct)
    {
        var found = await c.QueryFirstOrDefaultAsync<Guid?>(new CommandDefinition(
            "select id from audiences where workspace_id = @workspaceId and name = @name order by id limit 1", new { workspaceId, name }, tx, cancellationToken: ct));
        if (found is { } id)
        {
            return id;
        }

        id = Guid.CreateVersion7(now);
        await c.ExecuteAsync(new CommandDefinition(
            "insert into audiences (id, workspace_id, name, created_at, updated_at) values (@id, @workspaceId, @name, @now, @now)",
            new { id, workspaceId, name, now }, tx, cancellationToken: ct));
        return id;
    }

    /// <summary>An audience of this workspace with its member count, or null.</summary>
    public async Task<AudienceRow?> GetAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<AudienceRow>(new CommandDefinition(
            $"{Select} where a.workspace_id = @workspaceId and a.id = @id", new { workspaceId, id }, cancellationToken: ct));
    }

    /// <summary>A page of the workspace's audiences in id order.</summary>
    public async Task<IReadOnlyList<AudienceRow>> ListAsync(Guid workspaceId, Guid? after, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<AudienceRow>(new CommandDefinition(
            $"{Select} where a.workspace_id = @workspaceId and (@after is null or a.id > @after) order by a.id limit @limit",
            new { workspaceId, after, limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>Renames an audience; false when it is not this workspace's.</summary>
    public async Task<bool> RenameAsync(Guid workspaceId, Guid id, string name, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            "update audiences set name = @name, updated_at = @now where workspace_id = @workspaceId and id = @id",
            new { workspaceId, id, name, now }, cancellationToken: ct)) == 1;
    }

    /// <summary>Deletes an audience and its membership (the prospects stay); imports that targeted it keep their history without it.</summary>
    public async Task<bool> DeleteAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var exists = await c.QueryFirstOrDefaultAsync<Guid?>(new CommandDefinition(
            "select id from audiences where workspace_id = @workspaceId and id = @id", new { workspaceId, id }, tx, cancellationToken: ct));
        if (exists is null)
        {
            return false;
        }

        await c.ExecuteAsync(new CommandDefinition("delete from audience_members where audience_id = @id", new { id }, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition("update imports set audience_id = null where audience_id = @id", new { id }, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition("delete from audiences where id = @id", new { id }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>Which of these ids are not prospects of this workspace.</summary>
    public async Task<IReadOnlyList<Guid>> UnknownProspectsAsync(Guid workspaceId, IReadOnlyList<Guid> prospectIds, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var ids = prospectIds.Distinct().ToArray();
        var known = (await c.QueryAsync<Guid>(new CommandDefinition(
            db.Sql(
                "select id from prospects where workspace_id = @workspaceId and id = any(@ids)",
                "select id from prospects where workspace_id = @workspaceId and id in @ids"),
            new { workspaceId, ids }, cancellationToken: ct))).ToHashSet();
        return prospectIds.Where(p => !known.Contains(p)).ToArray();
    }

    /// <summary>Adds prospects (already checked to be the workspace's) to an audience; returns how many were new members.</summary>
    public async Task<int> AddMembersAsync(Guid audienceId, IReadOnlyList<Guid> prospectIds, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var added = await AddMembersAsync(c, tx, audienceId, prospectIds.Distinct().ToArray(), now, ct);
        await tx.CommitAsync(ct);
        return added;
    }

    internal async Task<int> AddMembersAsync(DbConnection c, DbTransaction tx, Guid audienceId, Guid[] prospectIds, DateTimeOffset now, CancellationToken ct)
    {
        if (db.Dialect == SqlDialect.Postgres)
        {
            return await c.ExecuteAsync(new CommandDefinition(
                """
                insert into audience_members (audience_id, prospect_id, added_at) select @audienceId, u.id, @now from unnest(@prospectIds) as u(id)
                on conflict do nothing
                """, new { audienceId, prospectIds, now }, tx, cancellationToken: ct));
        }

        var added = 0;
        foreach (var prospectId in prospectIds)
        {
            added += await c.ExecuteAsync(new CommandDefinition(
                "insert into audience_members (audience_id, prospect_id, added_at) values (@audienceId, @prospectId, @now) on conflict do nothing",
                new { audienceId, prospectId, now }, tx, cancellationToken: ct));
        }

        return added;
    }

    /// <summary>Removes prospects from an audience; returns how many were members.</summary>
    public async Task<int> RemoveMembersAsync(Guid audienceId, IReadOnlyList<Guid> prospectIds, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var ids = prospectIds.Distinct().ToArray();
        return await c.ExecuteAsync(new CommandDefinition(
            db.Sql(
                "delete from audience_members where audience_id = @audienceId and prospect_id = any(@ids)",
                "delete from audience_members where audience_id = @audienceId and prospect_id in @ids"),
            new { audienceId, ids }, cancellationToken: ct));
    }
}
