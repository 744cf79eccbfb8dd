using System.Data.Common;
using Dapper;

namespace Prospector.Storage.Stores;

/// <summary>Companies, one per (workspace, domain).</summary>
public sealed class CompanyStore(Database db)
{
    /// <summary>
    /// Creates the companies of these domains that do not exist yet and names the unnamed ones (a given name overwrites);
    /// returns every domain's company id. Runs in the caller's transaction.
    /// </summary>
    internal async Task<IReadOnlyDictionary<string, Guid>> UpsertAsync(
        DbConnection c, DbTransaction tx, Guid workspaceId, IReadOnlyDictionary<string, string?> domains, DateTimeOffset now, CancellationToken ct)
    {
        var ids = new Dictionary<string, Guid>(StringComparer.Ordinal);
        if (domains.Count == 0)
        {
            return ids;
        }

        var keys = domains.Keys.ToArray();
        var existing = await c.QueryAsync<CompanyRow>(new CommandDefinition(
            db.Sql(
                "select id, domain, name from companies where workspace_id = @workspaceId and domain = any(@keys)",
                "select id, domain, name from companies where workspace_id = @workspaceId and domain in @keys"),
            new { workspaceId, keys }, tx, cancellationToken: ct));
        foreach (var (id, domain, name) in existing.Select(r => (r.Id, r.Domain, r.Name)))
        {
            ids[domain] = id;
            if (domains[domain] is { } newName && newName != name)
            {
                await c.ExecuteAsync(new CommandDefinition(
                    "update companies set name = @newName, updated_at = @now where id = @id", new { newName, now, id }, tx, cancellationToken: ct));
            }
        }

        foreach (var (domain, name) in domains)
        {
            if (ids.ContainsKey(domain))
            {
                continue;
            }

            // A concurrent import may have created it since the read: the conflict clause makes this a no-op, the select finds it.
            await c.ExecuteAsync(new CommandDefinition(
                """
                insert into companies (id, workspace_id, domain, name, created_at, updated_at)
                values (@id, @workspaceId, @domain, @name, @now, @now) on conflict (workspace_id, domain) do nothing
                """,
                new { id = Guid.CreateVersion7(now), workspaceId, domain, name, now }, tx, cancellationToken: ct));
            ids[domain] = await c.QuerySingleAsync<Guid>(new CommandDefinition(
                "select id from companies where workspace_id = @workspaceId and domain = @domain", new { workspaceId, domain }, tx, cancellationToken: ct));
        }

        return ids;
    }

    /// <summary>The companies of a workspace, by domain.</summary>
    public async Task<IReadOnlyList<CompanyRow>> ListAsync(Guid workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<CompanyRow>(new CommandDefinition(
            "select id, domain, name from companies where workspace_id = @workspaceId order by domain", new { workspaceId }, cancellationToken: ct))).AsList();
    }
}
