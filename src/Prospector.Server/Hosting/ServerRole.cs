namespace Prospector.Server.Hosting;

/// <summary>What this process runs: the HTTP API (and dashboard), the background workers, or both.</summary>
public enum ServerRole
{
    /// <summary>API, dashboard, Hangfire server and dispatcher: the single-node default.</summary>
    All,
    /// <summary>Config API and dashboard only.</summary>
    Api,
    /// <summary>Hangfire server and dispatcher only (plus a health endpoint).</summary>
    Worker,
}

internal static class ServerRoles
{
    /// <summary>Reads <c>--role</c> (configuration key "role"). The embedded store only supports <see cref="ServerRole.All"/>.</summary>
    public static ServerRole Read(IConfiguration configuration, bool usesPostgres)
    {
        var text = configuration["role"];
        var role = string.IsNullOrWhiteSpace(text) ? ServerRole.All
            : Enum.TryParse<ServerRole>(text, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed
            : throw new InvalidOperationException($"--role must be api, worker or all (got '{text}')");
        if (role != ServerRole.All && !usesPostgres)
        {
            throw new InvalidOperationException(
                "--role api/worker needs PostgreSQL (StorageOptions:PostgresConnectionString): the embedded SQLite store belongs to one process.");
        }

        return role;
    }

    public static bool RunsApi(this ServerRole role) => role is ServerRole.All or ServerRole.Api;

    public static bool RunsWorkers(this ServerRole role) => role is ServerRole.All or ServerRole.Worker;
}
