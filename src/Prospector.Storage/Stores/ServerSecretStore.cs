using Dapper;

namespace Prospector.Storage.Stores;

/// <summary>Instance-wide secrets (already encrypted by the caller), created once and shared by every process.</summary>
public sealed class ServerSecretStore(Database db)
{
    /// <summary>
    /// The stored value of <paramref name="name"/>; when there is none yet, stores <paramref name="create"/>'s value.
    /// Processes racing to create it all end up with the one value that was inserted first.
    /// </summary>
    public async Task<string> GetOrCreateAsync(string name, Func<string> create, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(create);
        await using var c = await db.OpenAsync(ct);
        var existing = await c.QueryFirstOrDefaultAsync<string>(new CommandDefinition(
            "select value_protected from server_secrets where name = @name", new { name }, cancellationToken: ct));
        if (existing is not null)
        {
            return existing;
        }

        await c.ExecuteAsync(new CommandDefinition(
            "insert into server_secrets (name, value_protected, created_at) values (@name, @value, @now) on conflict do nothing",
            new { name, value = create(), now }, cancellationToken: ct));
        return await c.QuerySingleAsync<string>(new CommandDefinition(
            "select value_protected from server_secrets where name = @name", new { name }, cancellationToken: ct));
    }
}
