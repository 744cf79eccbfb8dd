using Dapper;
using Prospector.Core.Prospects;

namespace Prospector.Storage.Stores;

/// <summary>States of an owner (rep/SDR). Archived owners stay readable but take no new assignments.</summary>
public static class OwnerStates
{
    /// <summary>Can be assigned prospects, mailboxes, tasks.</summary>
    public const string Active = "active";

    /// <summary>Kept for history; refused for new assignments.</summary>
    public const string Archived = "archived";
}

/// <summary>Owners (reps/SDRs) of a workspace. Emails are unique per workspace, compared normalised.</summary>
public sealed class OwnerStore(Database db)
{
    private const string Columns = "id, workspace_id, name, email, state, created_at, updated_at";

    /// <summary>Inserts an owner. Returns false (nothing written) when another owner of the workspace has that email.</summary>
    public async Task<bool> CreateAsync(OwnerRow owner, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            $"""
            insert into owners ({Columns}, email_normalized)
            values (@Id, @WorkspaceId, @Name, @Email, @State, @CreatedAt, @UpdatedAt, @EmailNormalized)
            on conflict do nothing
            """,
            new { owner.Id, owner.WorkspaceId, owner.Name, owner.Email, owner.State, owner.CreatedAt, owner.UpdatedAt, EmailNormalized = Normalize(owner.Email) },
            cancellationToken: ct)) == 1;
    }

    /// <summary>An owner of this workspace, or null (also for another workspace's id).</summary>
    public async Task<OwnerRow?> GetAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<OwnerRow>(new CommandDefinition(
            $"select {Columns} from owners where workspace_id = @workspaceId and id = @id", new { workspaceId, id }, cancellationToken: ct));
    }

    /// <summary>True when the owner belongs to the workspace and is active: what every new assignment checks.</summary>
    public async Task<bool> IsAssignableAsync(Guid workspaceId, Guid id, CancellationToken ct)
        => await GetAsync(workspaceId, id, ct) is { State: OwnerStates.Active };

    /// <summary>A page of the workspace's owners by id, optionally of one state.</summary>
    public async Task<IReadOnlyList<OwnerRow>> ListAsync(Guid workspaceId, string? state, Guid? after, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<OwnerRow>(new CommandDefinition(
            $"""
            select {Columns} from owners
            where workspace_id = @workspaceId and (@state is null or state = @state) and (@after is null or id > @after)
            order by id limit @limit
            """,
            new { workspaceId, state, after, limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// Saves name and email. Returns false (nothing written) when another owner of the workspace has that email.
    /// </summary>
    public async Task<bool> UpdateAsync(Guid workspaceId, Guid id, string name, string? email, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        try
        {
            return await UpdateRowAsync(c, workspaceId, id, name, email, now, ct);
        }
        catch (System.Data.Common.DbException ex) when (Database.IsUniqueViolation(ex))
        {
            return false; // a concurrent update took the email between the check and the write
        }
    }

    private static async Task<bool> UpdateRowAsync(
        System.Data.Common.DbConnection c, Guid workspaceId, Guid id, string name, string? email, DateTimeOffset now, CancellationToken ct)
    {
        return await c.ExecuteAsync(new CommandDefinition(
            """
            update owners set name = @name, email = @email, email_normalized = @emailNormalized, updated_at = @now
            where workspace_id = @workspaceId and id = @id
              and (@emailNormalized is null or not exists (
                  select 1 from owners o where o.workspace_id = @workspaceId and o.email_normalized = @emailNormalized and o.id <> @id))
            """,
            new { workspaceId, id, name, email, emailNormalized = Normalize(email), now }, cancellationToken: ct)) == 1;
    }

    /// <summary>Archives the owner (idempotent). Returns false when the workspace has no such owner.</summary>
    public async Task<bool> ArchiveAsync(Guid workspaceId, Guid id, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "update owners set state = 'archived', updated_at = @now where workspace_id = @workspaceId and id = @id and state <> 'archived'",
            new { workspaceId, id, now }, cancellationToken: ct));
        return await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from owners where workspace_id = @workspaceId and id = @id", new { workspaceId, id }, cancellationToken: ct)) == 1;
    }

    private static string? Normalize(string? email) => email is null ? null : EmailAddress.Normalize(email);
}
