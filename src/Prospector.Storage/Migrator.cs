using System.Data.Common;
using System.Globalization;
using System.Reflection;
using Dapper;
using Microsoft.Extensions.Logging;

namespace Prospector.Storage;

/// <summary>
/// Applies the numbered, forward-only migrations of the current dialect (embedded resources
/// Migrations/{Postgres,Sqlite}/NNNN_name.sql), each in its own transaction, under a lock so that several
/// processes starting together apply each migration once.
/// </summary>
public sealed class Migrator(Database database, ILogger<Migrator> logger)
{
    // Arbitrary but fixed: the advisory lock every Prospector process takes while migrating.
    private const long PostgresLockKey = 0x50_52_4F_53_50_45_43; // "PROSPEC"

    /// <summary>First line of a SQLite migration that must run with foreign keys off (a table rebuild).</summary>
    public const string RebuildMarker = "-- rebuild: foreign keys off";

    /// <summary>The migrations shipped for this dialect, in order.</summary>
    public IReadOnlyList<(int Version, string Name, string Sql)> Available()
    {
        var folder = database.Dialect == SqlDialect.Postgres ? ".Migrations.Postgres." : ".Migrations.Sqlite.";
        var assembly = typeof(Migrator).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.Contains(folder, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var file = n[(n.IndexOf(folder, StringComparison.Ordinal) + folder.Length)..^4];
                var version = int.Parse(file[..file.IndexOf('_', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
                return (version, file, Read(assembly, n));
            })
            .OrderBy(m => m.version)
            .ToList();
    }

    /// <summary>Brings the schema up to date. Returns the versions applied by this call.</summary>
    public async Task<IReadOnlyList<int>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await LockAsync(connection, cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                create table if not exists schema_version (
                    version integer primary key,
                    name text not null,
                    applied_at text not null
                )
                """, cancellationToken: cancellationToken)).ConfigureAwait(false);
            var applied = (await connection.QueryAsync<int>(new CommandDefinition(
                "select version from schema_version", cancellationToken: cancellationToken)).ConfigureAwait(false)).ToHashSet();

            var done = new List<int>();
            foreach (var (version, name, sql) in Available().Where(m => !applied.Contains(m.Version)))
            {
                // A SQLite migration that rebuilds a referenced table (the only way to drop a NOT NULL or a table
                // constraint there) declares it in its first line; foreign keys are switched off around it, as SQLite's
                // documented 12-step procedure requires, and checked before commit.
                var rebuild = database.Dialect == SqlDialect.Sqlite && sql.StartsWith(RebuildMarker, StringComparison.Ordinal);
                if (rebuild)
                {
                    await connection.ExecuteAsync(new CommandDefinition("pragma foreign_keys = off", cancellationToken: cancellationToken)).ConfigureAwait(false);
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await connection.ExecuteAsync(new CommandDefinition(sql, transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (rebuild)
                {
                    var violations = (await connection.QueryAsync(new CommandDefinition(
                        "pragma foreign_key_check", transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)).Count();
                    if (violations > 0)
                    {
                        throw new InvalidOperationException($"migration {version} {name} leaves {violations} foreign key violations");
                    }
                }

                await connection.ExecuteAsync(new CommandDefinition(
                    "insert into schema_version (version, name, applied_at) values (@version, @name, @at)",
                    new { version, name, at = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture) },
                    transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                if (rebuild)
                {
                    await connection.ExecuteAsync(new CommandDefinition("pragma foreign_keys = on", cancellationToken: cancellationToken)).ConfigureAwait(false);
                }

                logger.LogInformation("Applied migration {Version} {Name} ({Dialect})", version, name, database.Dialect);
                done.Add(version);
            }

            return done;
        }
        finally
        {
            await UnlockAsync(connection).ConfigureAwait(false);
        }
    }

    private async Task LockAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        if (database.Dialect == SqlDialect.Postgres)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "select pg_advisory_lock(@key)", new { key = PostgresLockKey }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        // SQLite: one process owns the file (the embedded store runs role "all" only) and each migration runs
        // in an IMMEDIATE transaction, which already excludes other writers.
    }

    private async Task UnlockAsync(DbConnection connection)
    {
        if (database.Dialect == SqlDialect.Postgres)
        {
            await connection.ExecuteAsync("select pg_advisory_unlock(@key)", new { key = PostgresLockKey }).ConfigureAwait(false);
        }
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
