using System.Data.Common;
using System.Text.Json;
using Dapper;
using Prospector.Core.Email;

namespace Prospector.Storage.Stores;

/// <summary>Workspace-wide switches, stored as JSON in <c>workspaces.settings</c>. Absent members take these defaults.</summary>
/// <param name="AllowActiveInOtherSequences">When false (the default), enrolling skips a prospect already active in another sequence.</param>
/// <param name="FooterEnabled">When true (the default), every email ends with the footer: postal address and opt-out.</param>
/// <param name="FooterText">The footer's opt-out wording (<c>{unsubscribe}</c> marks the link); null for the default.</param>
public sealed record WorkspaceSettings(bool AllowActiveInOtherSequences = false, bool FooterEnabled = true, string? FooterText = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Reads the stored JSON; unknown or missing members fall back to the defaults.</summary>
    public static WorkspaceSettings Parse(string? json)
        => string.IsNullOrWhiteSpace(json) ? new() : JsonSerializer.Deserialize<WorkspaceSettings>(json, Json) ?? new();

    /// <summary>The footer of this workspace's emails, with its postal address.</summary>
    public FooterSettings Footer(string? postalAddress) => new(FooterEnabled, postalAddress, FooterText);

    /// <summary>The JSON to store.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <summary>Why a key could not be revoked.</summary>
public enum RevokeKeyResult
{
    /// <summary>Revoked now, or it already was.</summary>
    Revoked,
    /// <summary>No such key in this workspace.</summary>
    NotFound,
    /// <summary>It is the workspace's last active admin key.</summary>
    LastAdmin,
}

/// <summary>Workspaces and their API keys (stored as SHA-256 hashes; the key itself is shown once).</summary>
public sealed class WorkspaceStore(Database db)
{
    private const string KeyColumns = "id, workspace_id, name, role, prefix, created_at, revoked_at";

    /// <summary>The oldest workspace, created with <paramref name="name"/> if there is none.</summary>
    public async Task<Guid> EnsureDefaultAsync(string name, DateTimeOffset now, CancellationToken ct)
    {
        if (await GetDefaultIdAsync(ct) is { } id)
        {
            return id;
        }

        return await CreateAsync(name, now, ct);
    }

    /// <summary>The instance's first (default) workspace, whose admins operate the instance; null before the first start.</summary>
    public async Task<Guid?> GetDefaultIdAsync(CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<Guid?>(new CommandDefinition(
            "select id from workspaces order by created_at, id limit 1", cancellationToken: ct));
    }

    /// <summary>Creates a workspace.</summary>
    public async Task<Guid> CreateAsync(string name, DateTimeOffset now, CancellationToken ct)
    {
        var id = Guid.CreateVersion7(now);
        await using var c = await db.OpenAsync(ct);
        await InsertWorkspaceAsync(c, null, id, name, null, now, ct);
        return id;
    }

    /// <summary>Creates a workspace and its first admin key in one transaction. Returns the workspace and key ids.</summary>
    public async Task<(Guid WorkspaceId, Guid KeyId)> CreateWithAdminKeyAsync(
        string name, string? postalAddress, string keyName, string prefix, string keyHash, Guid? createdBy, DateTimeOffset now, CancellationToken ct)
    {
        var id = Guid.CreateVersion7(now);
        var keyId = Guid.CreateVersion7(now);
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await InsertWorkspaceAsync(c, tx, id, name, postalAddress, now, ct);
        await InsertKeyAsync(c, tx, keyId, id, keyName, "admin", prefix, keyHash, createdBy, now, ct);
        await tx.CommitAsync(ct);
        return (id, keyId);
    }

    /// <summary>A workspace, or null.</summary>
    public async Task<WorkspaceRow?> GetAsync(Guid workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<WorkspaceRow>(new CommandDefinition(
            "select id, name, postal_address, settings, created_at, state from workspaces where id = @workspaceId", new { workspaceId }, cancellationToken: ct));
    }

    /// <summary>Pauses (active → paused) or resumes (paused → active) all sending of a workspace. False when its state does not allow it.</summary>
    public async Task<bool> SetPausedAsync(Guid workspaceId, bool paused, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var (from, to) = paused ? ("active", "paused") : ("paused", "active");
        return await c.ExecuteAsync(new CommandDefinition(
            "update workspaces set state = @to where id = @workspaceId and state = @from", new { workspaceId, from, to }, cancellationToken: ct)) == 1;
    }

    /// <summary>The workspace's settings (defaults for anything never set). Other features read their switches here.</summary>
    public async Task<WorkspaceSettings> GetSettingsAsync(Guid workspaceId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var json = await c.QueryFirstOrDefaultAsync<string?>(new CommandDefinition(
            "select settings from workspaces where id = @workspaceId", new { workspaceId }, cancellationToken: ct));
        return WorkspaceSettings.Parse(json);
    }

    /// <summary>Replaces name, postal address and settings (the caller merges a partial update first).</summary>
    public async Task UpdateAsync(Guid workspaceId, string name, string? postalAddress, WorkspaceSettings settings, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "update workspaces set name = @name, postal_address = @postalAddress, settings = @settings where id = @workspaceId",
            new { workspaceId, name, postalAddress, settings = settings.ToJson() }, cancellationToken: ct));
    }

    /// <summary>Stores a key's hash unless that hash exists. Returns false when it already existed.</summary>
    public async Task<bool> AddApiKeyAsync(Guid workspaceId, string name, string role, string prefix, string keyHash, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await InsertKeyAsync(c, null, Guid.CreateVersion7(now), workspaceId, name, role, prefix, keyHash, null, now, ct);
    }

    /// <summary>Stores a new key made through the API. Returns its row.</summary>
    public async Task<ApiKeyRow> CreateApiKeyAsync(Guid workspaceId, string name, string role, string prefix, string keyHash, Guid? createdBy, DateTimeOffset now, CancellationToken ct)
    {
        var id = Guid.CreateVersion7(now);
        await using var c = await db.OpenAsync(ct);
        await InsertKeyAsync(c, null, id, workspaceId, name, role, prefix, keyHash, createdBy, now, ct);
        return new ApiKeyRow { Id = id, WorkspaceId = workspaceId, Name = name, Role = role, Prefix = prefix, CreatedAt = now };
    }

    /// <summary>The workspace's keys (revoked ones included), by id, after <paramref name="after"/>. Never the hash.</summary>
    public async Task<IReadOnlyList<ApiKeyRow>> ListApiKeysAsync(Guid workspaceId, Guid? after, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ApiKeyRow>(new CommandDefinition(
            $"select {KeyColumns} from api_keys where workspace_id = @workspaceId and (@after is null or id > @after) order by id limit @limit",
            new { workspaceId, after, limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>One key of the workspace, or null.</summary>
    public async Task<ApiKeyRow?> GetApiKeyAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<ApiKeyRow>(new CommandDefinition(
            $"select {KeyColumns} from api_keys where workspace_id = @workspaceId and id = @id", new { workspaceId, id }, cancellationToken: ct));
    }

    /// <summary>
    /// Revokes a key at once, unless it is the workspace's last active admin key. The workspace row is locked (PostgreSQL)
    /// or the write lock taken (SQLite) first, so two concurrent revocations cannot both pass the check.
    /// </summary>
    public async Task<RevokeKeyResult> RevokeApiKeyAsync(Guid workspaceId, Guid id, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            db.Sql("select id from workspaces where id = @workspaceId for update", "update workspaces set name = name where id = @workspaceId"),
            new { workspaceId }, tx, cancellationToken: ct));
        var key = await c.QueryFirstOrDefaultAsync<ApiKeyRow>(new CommandDefinition(
            $"select {KeyColumns} from api_keys where workspace_id = @workspaceId and id = @id", new { workspaceId, id }, tx, cancellationToken: ct));
        if (key is null)
        {
            return RevokeKeyResult.NotFound;
        }

        if (key.RevokedAt is not null)
        {
            return RevokeKeyResult.Revoked;
        }

        if (key.Role == "admin")
        {
            var admins = await c.ExecuteScalarAsync<long>(new CommandDefinition(
                "select count(*) from api_keys where workspace_id = @workspaceId and role = 'admin' and revoked_at is null",
                new { workspaceId }, tx, cancellationToken: ct));
            if (admins <= 1)
            {
                return RevokeKeyResult.LastAdmin;
            }
        }

        await c.ExecuteAsync(new CommandDefinition(
            "update api_keys set revoked_at = @now where id = @id and revoked_at is null", new { id, now }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return RevokeKeyResult.Revoked;
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
            $"select {KeyColumns} from api_keys where key_hash = @keyHash and revoked_at is null",
            new { keyHash }, cancellationToken: ct));
    }

    private static Task InsertWorkspaceAsync(DbConnection c, DbTransaction? tx, Guid id, string name, string? postalAddress, DateTimeOffset now, CancellationToken ct)
        => c.ExecuteAsync(new CommandDefinition(
            "insert into workspaces (id, name, postal_address, created_at) values (@id, @name, @postalAddress, @now)",
            new { id, name, postalAddress, now }, tx, cancellationToken: ct));

    private static async Task<bool> InsertKeyAsync(
        DbConnection c, DbTransaction? tx, Guid id, Guid workspaceId, string name, string role, string prefix, string keyHash, Guid? createdBy, DateTimeOffset now, CancellationToken ct)
        => await c.ExecuteAsync(new CommandDefinition(
            """
            insert into api_keys (id, workspace_id, name, prefix, key_hash, role, created_by, created_at)
            values (@id, @workspaceId, @name, @prefix, @keyHash, @role, @createdBy, @now)
            on conflict (key_hash) do nothing
            """,
            new { id, workspaceId, name, prefix, keyHash, role, createdBy, now }, tx, cancellationToken: ct)) == 1;
}
