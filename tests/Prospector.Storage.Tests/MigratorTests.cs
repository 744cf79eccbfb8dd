using Dapper;
using Microsoft.Extensions.Logging.Abstractions;

namespace Prospector.Storage.Tests;

public abstract class MigratorTests(SqlDialect dialect)
{
    protected SqlDialect Dialect { get; } = dialect;

    private static async Task<long> SchemaVersionRowsAsync(Database db)
    {
        await using var c = await db.OpenAsync();
        return await c.ExecuteScalarAsync<long>("select count(*) from schema_version");
    }

    [Fact]
    public async Task MigrateAsync_AppliesInitialMigrationOnce_WhenDatabaseIsFresh()
    {
        await using var db = await TestDatabase.CreateAsync(Dialect, migrate: false);
        var migrator = new Migrator(db.Database, NullLogger<Migrator>.Instance);

        var applied = await migrator.MigrateAsync();

        Assert.Contains(1, applied);
        Assert.Equal(migrator.Available().Select(m => m.Version), applied);
        Assert.Equal(migrator.Available().Count, await SchemaVersionRowsAsync(db.Database));
    }

    [Fact]
    public async Task MigrateAsync_AppliesNothing_WhenCalledASecondTime()
    {
        await using var db = await TestDatabase.CreateAsync(Dialect, migrate: false);
        var migrator = new Migrator(db.Database, NullLogger<Migrator>.Instance);
        await migrator.MigrateAsync();

        var second = await migrator.MigrateAsync();

        Assert.Empty(second);
        Assert.Equal(migrator.Available().Count, await SchemaVersionRowsAsync(db.Database));
    }

    [Fact]
    public void Available_ListsInitialMigrationFirst_WhenReadFromResources()
    {
        var db = Dialect == SqlDialect.Postgres ? Database.ForPostgres("Host=127.0.0.1") : Database.ForSqliteFile(Path.Combine(Path.GetTempPath(), "unused-" + Guid.NewGuid().ToString("N"), "x.db"));
        var available = new Migrator(db, NullLogger<Migrator>.Instance).Available();

        Assert.NotEmpty(available);
        Assert.Equal(1, available[0].Version);
        Assert.StartsWith("0001_", available[0].Name, StringComparison.Ordinal);
        Assert.Contains("create table enrollments", available[0].Sql, StringComparison.Ordinal);
    }
}

public sealed class PostgresMigratorTests() : MigratorTests(SqlDialect.Postgres)
{
    [Fact]
    public async Task MigrateAsync_AppliesEachMigrationOnce_WhenThreeProcessesMigrateConcurrently()
    {
        await using var db = await TestDatabase.CreateAsync(Dialect, migrate: false);
        var available = new Migrator(db.Database, NullLogger<Migrator>.Instance).Available();

        // Separate Database instances: like separate processes, each with its own pool.
        var databases = Enumerable.Range(0, 3).Select(_ => Database.ForPostgres(db.PostgresConnectionString!)).ToList();
        try
        {
            var results = await Task.WhenAll(databases.Select(d => Task.Run(() => new Migrator(d, NullLogger<Migrator>.Instance).MigrateAsync())));

            Assert.Equal(available.Count, results.Sum(r => r.Count));
            Assert.Equal(available.Select(m => m.Version).Order(), results.SelectMany(r => r).Order());
            await using var c = await db.Database.OpenAsync();
            var rows = (await c.QueryAsync<(int Version, long N)>("select version, count(*) from schema_version group by version order by version")).AsList();
            Assert.Equal(available.Select(m => m.Version), rows.Select(r => r.Version));
            Assert.All(rows, r => Assert.Equal(1, r.N));
        }
        finally
        {
            foreach (var d in databases)
            {
                await d.DisposeAsync();
            }
        }
    }
}

public sealed class SqliteMigratorTests() : MigratorTests(SqlDialect.Sqlite);
