using System.Data.Common;
using System.Text.Json;
using Dapper;
using Prospector.Core.Prospects;

namespace Prospector.Storage.Stores;

/// <summary>
/// Prospects, deduplicated per workspace on the normalised email, else on the normalised LinkedIn profile URL.
/// Upserts merge: non-empty incoming values overwrite, empty ones never blank stored data, custom fields are merged.
/// </summary>
public sealed class ProspectStore(Database db, CompanyStore companies)
{
    internal const string Columns =
        "id, workspace_id, email, linkedin_url, first_name, last_name, title, phone, company, company_domain, company_id, country, time_zone, " +
        "owner_id, custom_fields, created_at, updated_at, email_normalized, linkedin_url_normalized";

    /// <summary>What an import did, per input position.</summary>
    public sealed record UpsertResult(IReadOnlyList<Guid> Ids, int Created, int Updated);

    /// <summary>The outcome of one input row: its prospect and whether it was created, or why it was refused.</summary>
    public sealed record RowOutcome(Guid? Id, bool Created, string? ErrorField, string? Error);

    /// <summary>Some rows were refused; nothing was written.</summary>
    public sealed class UpsertRejectedException(IReadOnlyList<(int Index, string Field, string Message)> errors)
        : Exception("some prospects were refused")
    {
        /// <summary>Input index, field and reason of each refused row.</summary>
        public IReadOnlyList<(int Index, string Field, string Message)> Errors { get; } = errors;
    }

    /// <summary>
    /// Inserts or updates the prospects in one transaction: all of them or none (a row matching two prospects or naming
    /// an unknown owner throws <see cref="UpsertRejectedException"/>).
    /// </summary>
    public async Task<UpsertResult> UpsertAsync(Guid workspaceId, IReadOnlyList<ProspectInput> prospects, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var ids = new List<Guid>(prospects.Count);
        var errors = new List<(int, string, string)>();
        int created = 0, updated = 0, offset = 0;
        foreach (var chunk in prospects.Chunk(1000))
        {
            var outcomes = await UpsertBatchAsync(c, tx, workspaceId, chunk, null, now, ct);
            for (var i = 0; i < outcomes.Count; i++)
            {
                var o = outcomes[i];
                if (o.Error is not null)
                {
                    errors.Add((offset + i, o.ErrorField!, o.Error));
                    continue;
                }

                ids.Add(o.Id!.Value);
                if (o.Created)
                {
                    created++;
                }
                else
                {
                    updated++;
                }
            }

            offset += chunk.Length;
        }

        if (errors.Count > 0)
        {
            throw new UpsertRejectedException(errors);
        }

        await tx.CommitAsync(ct);
        return new UpsertResult(ids, created, updated);
    }

    /// <summary>
    /// Upserts a batch inside the caller's transaction and says per row what happened. Rows are applied in order, so a
    /// prospect appearing twice is created once and then updated. <paramref name="defaultOwner"/> applies to rows without one.
    /// </summary>
    internal async Task<IReadOnlyList<RowOutcome>> UpsertBatchAsync(
        DbConnection c, DbTransaction tx, Guid workspaceId, IReadOnlyList<ProspectInput> items, Guid? defaultOwner, DateTimeOffset now, CancellationToken ct)
    {
        var outcomes = new RowOutcome[items.Count];
        var owners = items.Select(i => i.OwnerId ?? defaultOwner).OfType<Guid>().Distinct().ToArray();
        var activeOwners = owners.Length == 0 ? [] : (await c.QueryAsync<Guid>(new CommandDefinition(
                db.Sql(
                    "select id from owners where workspace_id = @workspaceId and state = 'active' and id = any(@owners)",
                    "select id from owners where workspace_id = @workspaceId and state = 'active' and id in @owners"),
                new { workspaceId, owners }, tx, cancellationToken: ct))).ToHashSet();

        var emails = items.Select(i => i.EmailNormalized).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        var links = items.Select(i => i.LinkedinNormalized).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        var existing = await c.QueryAsync<ProspectRow>(new CommandDefinition(
            db.Sql(
                $"""
                select {Columns} from prospects
                where workspace_id = @workspaceId and (email_normalized = any(@emails) or linkedin_url_normalized = any(@links))
                for update
                """,
                $"""
                select {Columns} from prospects
                where workspace_id = @workspaceId and (email_normalized in @emails or linkedin_url_normalized in @links)
                """),
            new { workspaceId, emails, links }, tx, cancellationToken: ct));
        var byEmail = new Dictionary<string, Working>(StringComparer.Ordinal);
        var byLink = new Dictionary<string, Working>(StringComparer.Ordinal);
        foreach (var row in existing)
        {
            var w = Working.From(row);
            if (w.EmailNormalized is not null)
            {
                byEmail[w.EmailNormalized] = w;
            }

            if (w.LinkedinNormalized is not null)
            {
                byLink[w.LinkedinNormalized] = w;
            }
        }

        var touched = new List<Working>();
        var companyNames = new Dictionary<string, string?>(StringComparer.Ordinal);
        var applied = new List<(int Index, Working Target)>();
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var owner = item.OwnerId ?? defaultOwner;
            if (owner is { } o && !activeOwners.Contains(o))
            {
                outcomes[i] = new RowOutcome(null, false, "owner_id", "is not an active owner of this workspace");
                continue;
            }

            var emailKey = item.EmailNormalized;
            var linkKey = item.LinkedinNormalized;
            var byE = emailKey is null ? null : byEmail.GetValueOrDefault(emailKey);
            var byL = linkKey is null ? null : byLink.GetValueOrDefault(linkKey);
            if (byE is not null && byL is not null && !ReferenceEquals(byE, byL))
            {
                outcomes[i] = new RowOutcome(null, false, "linkedin_url", "matches two prospects (one by email, another by LinkedIn URL)");
                continue;
            }

            var target = byE ?? byL;
            var created = target is null;
            if (target is null)
            {
                target = new Working { Id = Guid.CreateVersion7(now), IsNew = true, CreatedAt = now };
            }
            else
            {
                // A changed key frees the old one (it no longer leads to this prospect).
                if (target.EmailNormalized is { } oldEmail && emailKey is not null && oldEmail != emailKey)
                {
                    byEmail.Remove(oldEmail);
                }

                if (target.LinkedinNormalized is { } oldLink && linkKey is not null && oldLink != linkKey)
                {
                    byLink.Remove(oldLink);
                }
            }

            target.Merge(item, owner);
            if (emailKey is not null)
            {
                byEmail[emailKey] = target;
            }

            if (linkKey is not null)
            {
                byLink[linkKey] = target;
            }

            if (item.CompanyKey is { } domain)
            {
                companyNames[domain] = item.Company ?? companyNames.GetValueOrDefault(domain);
            }

            if (!target.Touched)
            {
                target.Touched = true;
                touched.Add(target);
            }

            applied.Add((i, target));
            outcomes[i] = new RowOutcome(target.Id, created, null, null);
        }

        var companyIds = await companies.UpsertAsync(c, tx, workspaceId, companyNames, now, ct);
        foreach (var (index, target) in applied)
        {
            if (items[index].CompanyKey is { } domain)
            {
                target.CompanyId = companyIds[domain];
            }
        }

        await WriteAsync(c, tx, workspaceId, touched, now, ct);
        var customNames = items.SelectMany(i => i.Custom.Keys).Distinct(StringComparer.Ordinal).ToArray();
        foreach (var name in customNames)
        {
            await c.ExecuteAsync(new CommandDefinition(
                "insert into custom_fields (workspace_id, name, created_at) values (@workspaceId, @name, @now) on conflict do nothing",
                new { workspaceId, name, now }, tx, cancellationToken: ct));
        }

        return outcomes;
    }

    private async Task WriteAsync(DbConnection c, DbTransaction tx, Guid workspaceId, List<Working> touched, DateTimeOffset now, CancellationToken ct)
    {
        const string insertColumns =
            "id, workspace_id, email, email_normalized, linkedin_url, linkedin_url_normalized, first_name, last_name, title, phone, company, " +
            "company_domain, company_id, country, time_zone, owner_id, custom_fields, created_at, updated_at";
        var inserts = touched.Where(t => t.IsNew).ToArray();
        var updates = touched.Where(t => !t.IsNew).ToArray();
        if (db.Dialect == SqlDialect.Postgres)
        {
            // One statement per batch: arrays of column values, unnested server side.
            if (inserts.Length > 0)
            {
                await c.ExecuteAsync(new CommandDefinition(
                    $"""
                    insert into prospects ({insertColumns})
                    select u.id, @workspaceId, u.email, u.email_normalized, u.linkedin_url, u.linkedin_url_normalized, u.first_name, u.last_name,
                           u.title, u.phone, u.company, u.company_domain, u.company_id, u.country, u.time_zone, u.owner_id, u.custom_fields, @now, @now
                    from unnest(@ids, @emails, @emailKeys, @links, @linkKeys, @firstNames, @lastNames, @titles, @phones, @companies, @domains,
                                @companyIds, @countries, @zones, @owners, @customs)
                         as u(id, email, email_normalized, linkedin_url, linkedin_url_normalized, first_name, last_name, title, phone, company,
                              company_domain, company_id, country, time_zone, owner_id, custom_fields)
                    """,
                    Arrays(inserts, workspaceId, now), tx, cancellationToken: ct));
            }

            if (updates.Length > 0)
            {
                await c.ExecuteAsync(new CommandDefinition(
                    """
                    update prospects p set
                        email = u.email, email_normalized = u.email_normalized, linkedin_url = u.linkedin_url,
                        linkedin_url_normalized = u.linkedin_url_normalized, first_name = u.first_name, last_name = u.last_name, title = u.title,
                        phone = u.phone, company = u.company, company_domain = u.company_domain, company_id = u.company_id, country = u.country,
                        time_zone = u.time_zone, owner_id = u.owner_id, custom_fields = u.custom_fields, updated_at = @now
                    from unnest(@ids, @emails, @emailKeys, @links, @linkKeys, @firstNames, @lastNames, @titles, @phones, @companies, @domains,
                                @companyIds, @countries, @zones, @owners, @customs)
                         as u(id, email, email_normalized, linkedin_url, linkedin_url_normalized, first_name, last_name, title, phone, company,
                              company_domain, company_id, country, time_zone, owner_id, custom_fields)
                    where p.id = u.id and p.workspace_id = @workspaceId
                    """,
                    Arrays(updates, workspaceId, now), tx, cancellationToken: ct));
            }

            return;
        }

        foreach (var t in inserts)
        {
            await c.ExecuteAsync(new CommandDefinition(
                $"""
                insert into prospects ({insertColumns})
                values (@Id, @workspaceId, @Email, @EmailNormalized, @LinkedinUrl, @LinkedinNormalized, @FirstName, @LastName, @Title, @Phone,
                        @Company, @CompanyDomain, @CompanyId, @Country, @TimeZone, @OwnerId, @CustomJson, @now, @now)
                """,
                Parameters(t, workspaceId, now), tx, cancellationToken: ct));
        }

        foreach (var t in updates)
        {
            await c.ExecuteAsync(new CommandDefinition(
                """
                update prospects set
                    email = @Email, email_normalized = @EmailNormalized, linkedin_url = @LinkedinUrl, linkedin_url_normalized = @LinkedinNormalized,
                    first_name = @FirstName, last_name = @LastName, title = @Title, phone = @Phone, company = @Company, company_domain = @CompanyDomain,
                    company_id = @CompanyId, country = @Country, time_zone = @TimeZone, owner_id = @OwnerId, custom_fields = @CustomJson, updated_at = @now
                where id = @Id and workspace_id = @workspaceId
                """,
                Parameters(t, workspaceId, now), tx, cancellationToken: ct));
        }
    }

    private static DynamicParameters Parameters(Working t, Guid workspaceId, DateTimeOffset now)
    {
        var p = new DynamicParameters(new
        {
            t.Id, t.Email, t.EmailNormalized, t.LinkedinUrl, t.LinkedinNormalized, t.FirstName, t.LastName, t.Title, t.Phone, t.Company,
            t.CompanyDomain, t.CompanyId, t.Country, t.TimeZone, t.OwnerId, CustomJson = JsonSerializer.Serialize(t.Custom),
        });
        p.Add("workspaceId", workspaceId);
        p.Add("now", now);
        return p;
    }

    private static object Arrays(Working[] rows, Guid workspaceId, DateTimeOffset now) => new
    {
        workspaceId, now,
        ids = rows.Select(r => r.Id).ToArray(),
        emails = rows.Select(r => r.Email).ToArray(),
        emailKeys = rows.Select(r => r.EmailNormalized).ToArray(),
        links = rows.Select(r => r.LinkedinUrl).ToArray(),
        linkKeys = rows.Select(r => r.LinkedinNormalized).ToArray(),
        firstNames = rows.Select(r => r.FirstName).ToArray(),
        lastNames = rows.Select(r => r.LastName).ToArray(),
        titles = rows.Select(r => r.Title).ToArray(),
        phones = rows.Select(r => r.Phone).ToArray(),
        companies = rows.Select(r => r.Company).ToArray(),
        domains = rows.Select(r => r.CompanyDomain).ToArray(),
        companyIds = rows.Select(r => r.CompanyId).ToArray(),
        countries = rows.Select(r => r.Country).ToArray(),
        zones = rows.Select(r => r.TimeZone).ToArray(),
        owners = rows.Select(r => r.OwnerId).ToArray(),
        customs = rows.Select(r => JsonSerializer.Serialize(r.Custom)).ToArray(),
    };

    /// <summary>A prospect of this workspace, or null.</summary>
    public async Task<ProspectRow?> GetAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<ProspectRow>(new CommandDefinition(
            $"select {Columns} from prospects where workspace_id = @workspaceId and id = @id", new { workspaceId, id }, cancellationToken: ct));
    }

    /// <summary>Filters of the prospect list; every one is optional.</summary>
    public sealed record ListFilter(string? Email = null, Guid? AudienceId = null, Guid? CompanyId = null, Guid? OwnerId = null);

    /// <summary>A page of the workspace's prospects in id order, optionally filtered on the exact (normalised) email.</summary>
    public Task<IReadOnlyList<ProspectRow>> ListAsync(Guid workspaceId, string? email, Guid? after, int limit, CancellationToken ct)
        => FindAsync(workspaceId, new ListFilter(email), after, limit, ct);

    /// <summary>A page of the workspace's prospects in id order, filtered.</summary>
    public async Task<IReadOnlyList<ProspectRow>> FindAsync(Guid workspaceId, ListFilter filter, Guid? after, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ProspectRow>(new CommandDefinition(
            $"""
            select {Columns} from prospects
            where workspace_id = @workspaceId and (@email is null or email_normalized = @email) and (@after is null or id > @after)
              and (@companyId is null or company_id = @companyId) and (@ownerId is null or owner_id = @ownerId)
              and (@audienceId is null or exists (select 1 from audience_members m where m.audience_id = @audienceId and m.prospect_id = prospects.id))
            order by id limit @limit
            """,
            new
            {
                workspaceId, email = filter.Email is null ? null : EmailAddress.Normalize(filter.Email), after, limit,
                companyId = filter.CompanyId, ownerId = filter.OwnerId, audienceId = filter.AudienceId,
            }, cancellationToken: ct))).AsList();
    }

    /// <summary>True when <paramref name="ownerId"/> is an active owner of the workspace.</summary>
    public async Task<bool> IsActiveOwnerAsync(Guid workspaceId, Guid ownerId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<Guid?>(new CommandDefinition(
            "select id from owners where workspace_id = @workspaceId and id = @ownerId and state = 'active'", new { workspaceId, ownerId }, cancellationToken: ct)) is not null;
    }

    /// <summary>The workspace's custom field names, sorted.</summary>
    public async Task<IReadOnlyList<string>> CustomFieldNamesAsync(Guid workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<string>(new CommandDefinition(
            "select name from custom_fields where workspace_id = @workspaceId order by name", new { workspaceId }, cancellationToken: ct))).AsList();
    }

    // The prospect as it will be written at the end of the batch.
    private sealed class Working
    {
        public Guid Id { get; init; }
        public bool IsNew { get; init; }
        public bool Touched { get; set; }
        public DateTimeOffset CreatedAt { get; init; }
        public string? Email { get; set; }
        public string? EmailNormalized { get; set; }
        public string? LinkedinUrl { get; set; }
        public string? LinkedinNormalized { get; set; }
        public string? FirstName { get; set; }
        public string? LastName { get; set; }
        public string? Title { get; set; }
        public string? Phone { get; set; }
        public string? Company { get; set; }
        public string? CompanyDomain { get; set; }
        public Guid? CompanyId { get; set; }
        public string? Country { get; set; }
        public string? TimeZone { get; set; }
        public Guid? OwnerId { get; set; }
        public Dictionary<string, string> Custom { get; set; } = new(StringComparer.Ordinal);

        public static Working From(ProspectRow p) => new()
        {
            Id = p.Id, CreatedAt = p.CreatedAt, Email = p.Email, EmailNormalized = p.EmailNormalized, LinkedinUrl = p.LinkedinUrl,
            LinkedinNormalized = p.LinkedinUrlNormalized, FirstName = p.FirstName, LastName = p.LastName, Title = p.Title, Phone = p.Phone,
            Company = p.Company, CompanyDomain = p.CompanyDomain, CompanyId = p.CompanyId, Country = p.Country, TimeZone = p.TimeZone,
            OwnerId = p.OwnerId, Custom = JsonSerializer.Deserialize<Dictionary<string, string>>(p.CustomFields) ?? new(StringComparer.Ordinal),
        };

        public void Merge(ProspectInput p, Guid? owner)
        {
            // The identity keys keep their stored spelling when they mean the same address or profile.
            if (p.Email is not null && p.EmailNormalized != EmailNormalized)
            {
                (Email, EmailNormalized) = (p.Email.Trim(), p.EmailNormalized);
            }

            if (p.LinkedinUrl is not null && p.LinkedinNormalized != LinkedinNormalized)
            {
                (LinkedinUrl, LinkedinNormalized) = (p.LinkedinUrl.Trim(), p.LinkedinNormalized);
            }

            FirstName = p.FirstName ?? FirstName;
            LastName = p.LastName ?? LastName;
            Title = p.Title ?? Title;
            Phone = p.Phone ?? Phone;
            Company = p.Company ?? Company;
            CompanyDomain = p.CompanyDomain ?? CompanyDomain;
            Country = p.Country ?? Country;
            TimeZone = p.TimeZone ?? TimeZone;
            OwnerId = owner ?? OwnerId;
            foreach (var (key, value) in p.Custom)
            {
                Custom[key] = value;
            }
        }
    }
}
