using System.Text.Json;
using Dapper;
using Prospector.Core.Prospects;

namespace Prospector.Storage.Stores;

/// <summary>Prospects, deduplicated per workspace on the normalised email.</summary>
public sealed class ProspectStore(Database db)
{
    private const string Columns = "id, workspace_id, email, first_name, last_name, company, company_domain, time_zone, custom_fields, created_at";

    /// <summary>What an import did, per input position.</summary>
    public sealed record UpsertResult(IReadOnlyList<Guid> Ids, int Created, int Updated);

    /// <summary>
    /// Inserts or updates the prospects in one transaction: all of them or none. An existing prospect keeps the
    /// fields the import leaves empty; custom fields are merged (imported values win).
    /// </summary>
    public async Task<UpsertResult> UpsertAsync(Guid workspaceId, IReadOnlyList<ProspectInput> prospects, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var ids = new List<Guid>(prospects.Count);
        int created = 0, updated = 0;
        foreach (var chunk in prospects.Chunk(500))
        {
            var emails = chunk.Select(p => EmailAddress.Normalize(p.Email)).Distinct().ToArray();
            var existing = (await c.QueryAsync<(Guid Id, string EmailNormalized, string CustomFields)>(new CommandDefinition(
                    db.Sql(
                        "select id, email_normalized, custom_fields from prospects where workspace_id = @workspaceId and email_normalized = any(@emails)",
                        "select id, email_normalized, custom_fields from prospects where workspace_id = @workspaceId and email_normalized in @emails"),
                    new { workspaceId, emails }, tx, cancellationToken: ct)))
                .ToDictionary(r => r.EmailNormalized, r => (r.Id, r.CustomFields), StringComparer.Ordinal);

            foreach (var p in chunk)
            {
                var normalized = EmailAddress.Normalize(p.Email);
                if (existing.TryGetValue(normalized, out var found))
                {
                    var merged = JsonSerializer.Deserialize<Dictionary<string, string>>(found.CustomFields) ?? [];
                    foreach (var (key, value) in p.Custom)
                    {
                        merged[key] = value;
                    }

                    await c.ExecuteAsync(new CommandDefinition(
                        """
                        update prospects set
                            first_name = coalesce(@FirstName, first_name), last_name = coalesce(@LastName, last_name),
                            company = coalesce(@Company, company), company_domain = coalesce(@CompanyDomain, company_domain),
                            time_zone = coalesce(@TimeZone, time_zone), custom_fields = @custom, updated_at = @now
                        where id = @id
                        """,
                        new { p.FirstName, p.LastName, p.Company, p.CompanyDomain, p.TimeZone, custom = JsonSerializer.Serialize(merged), now, id = found.Id },
                        tx, cancellationToken: ct));
                    ids.Add(found.Id);
                    updated++;
                    continue;
                }

                var id = Guid.CreateVersion7(now);
                await c.ExecuteAsync(new CommandDefinition(
                    """
                    insert into prospects (id, workspace_id, email, email_normalized, first_name, last_name, company, company_domain,
                                           time_zone, custom_fields, created_at, updated_at)
                    values (@id, @workspaceId, @Email, @normalized, @FirstName, @LastName, @Company, @CompanyDomain, @TimeZone, @custom, @now, @now)
                    """,
                    new { id, workspaceId, Email = p.Email.Trim(), normalized, p.FirstName, p.LastName, p.Company, p.CompanyDomain, p.TimeZone, custom = JsonSerializer.Serialize(p.Custom), now },
                    tx, cancellationToken: ct));
                existing[normalized] = (id, JsonSerializer.Serialize(p.Custom));
                ids.Add(id);
                created++;
            }
        }

        await tx.CommitAsync(ct);
        return new UpsertResult(ids, created, updated);
    }

    /// <summary>A prospect of this workspace, or null.</summary>
    public async Task<ProspectRow?> GetAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<ProspectRow>(new CommandDefinition(
            $"select {Columns} from prospects where workspace_id = @workspaceId and id = @id", new { workspaceId, id }, cancellationToken: ct));
    }

    /// <summary>A page of the workspace's prospects in id order, optionally filtered on the exact (normalised) email.</summary>
    public async Task<IReadOnlyList<ProspectRow>> ListAsync(Guid workspaceId, string? email, Guid? after, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ProspectRow>(new CommandDefinition(
            $"""
            select {Columns} from prospects
            where workspace_id = @workspaceId and (@email is null or email_normalized = @email) and (@after is null or id > @after)
            order by id limit @limit
            """,
            new { workspaceId, email = email is null ? null : EmailAddress.Normalize(email), after, limit }, cancellationToken: ct))).AsList();
    }
}
