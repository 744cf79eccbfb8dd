using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Prospector.Storage;

/// <summary>The two stores Prospector runs on.</summary>
public enum SqlDialect
{
    /// <summary>Production and scale-out: N processes on one server.</summary>
    Postgres,
    /// <summary>The embedded single-node default: one file, one process.</summary>
    Sqlite,
}

/// <summary>
/// Our database: the dialect and a way to open connections. One instance per process (it owns the Npgsql data source).
/// Connections are opened late and disposed early by the stores.
/// </summary>
public sealed class Database : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _postgres;
    private readonly string? _sqliteConnectionString;

    private Database(SqlDialect dialect, NpgsqlDataSource? postgres, string? sqlite)
    {
        Dialect = dialect;
        _postgres = postgres;
        _sqliteConnectionString = sqlite;
        TypeHandlers.Register();
    }

    /// <summary>Which SQL dialect to speak.</summary>
    public SqlDialect Dialect { get; }

    /// <summary>True when <paramref name="exception"/> is a unique constraint violation (PostgreSQL 23505, SQLite CONSTRAINT_UNIQUE/PRIMARYKEY).</summary>
    public static bool IsUniqueViolation(DbException exception) => exception switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation,
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        _ => false,
    };

    /// <summary>A PostgreSQL database.</summary>
    public static Database ForPostgres(string connectionString)
        => new(SqlDialect.Postgres, NpgsqlDataSource.Create(connectionString), null);

    /// <summary>A SQLite file; its folder is created if needed.</summary>
    public static Database ForSqliteFile(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        };
        return new(SqlDialect.Sqlite, null, builder.ToString());
    }

    /// <summary>Opens a connection. SQLite connections get WAL, foreign keys and a busy timeout.</summary>
    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }

        var connection = new SqliteConnection(_sqliteConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "pragma journal_mode = wal; pragma foreign_keys = on; pragma busy_timeout = 30000; pragma synchronous = normal;";
        await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    /// <summary>Picks the statement for this dialect, where the two differ.</summary>
    public string Sql(string postgres, string sqlite) => Dialect == SqlDialect.Postgres ? postgres : sqlite;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync().ConfigureAwait(false);
        }
    }
}
