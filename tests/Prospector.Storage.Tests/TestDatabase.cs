using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Prospector.Storage;
using Prospector.Testing;

namespace Prospector.Storage.Tests;

/// <summary>
/// A fresh, migrated database of either dialect: a uniquely named PostgreSQL database on the local test server
/// (dropped afterwards), or a SQLite file in a temp folder (deleted afterwards).
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string? _postgresName;

    private TestDatabase(SqlDialect dialect, Database database, string? postgresConnectionString, string? dataDirectory, string? postgresName)
    {
        Dialect = dialect;
        Database = database;
        PostgresConnectionString = postgresConnectionString;
        DataDirectory = dataDirectory;
        _postgresName = postgresName;
    }

    /// <summary>The dialect.</summary>
    public SqlDialect Dialect { get; }

    /// <summary>The migrated database.</summary>
    public Database Database { get; }

    /// <summary>PostgreSQL only: the connection string of the test database.</summary>
    public string? PostgresConnectionString { get; }

    /// <summary>SQLite only: the data folder (prospector.db inside).</summary>
    public string? DataDirectory { get; }

    /// <summary>Creates and migrates a database.</summary>
    public static async Task<TestDatabase> CreateAsync(SqlDialect dialect, bool migrate = true)
    {
        TestDatabase db;
        if (dialect == SqlDialect.Postgres)
        {
            var name = "prospector_test_" + Guid.NewGuid().ToString("N");
            await using (var admin = new NpgsqlConnection(TestServices.PostgresAdmin))
            {
                await admin.OpenAsync();
                await using var create = new NpgsqlCommand($"create database {name}", admin);
                await create.ExecuteNonQueryAsync();
            }

            var connectionString = new NpgsqlConnectionStringBuilder(TestServices.PostgresAdmin) { Database = name, MaxPoolSize = 50 }.ToString();
            db = new TestDatabase(dialect, Database.ForPostgres(connectionString), connectionString, null, name);
        }
        else
        {
            var dir = Path.Combine(Path.GetTempPath(), "prospector-test-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            db = new TestDatabase(dialect, Database.ForSqliteFile(Path.Combine(dir, "prospector.db")), null, dir, null);
        }

        if (migrate)
        {
            await new Migrator(db.Database, NullLogger<Migrator>.Instance).MigrateAsync();
        }

        return db;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        if (_postgresName is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(TestServices.PostgresAdmin);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"drop database if exists {_postgresName} with (force)", admin);
            await drop.ExecuteNonQueryAsync();
        }
        else if (DataDirectory is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A pooled handle may linger a moment; the temp folder is harmless.
            }
        }
    }
}
