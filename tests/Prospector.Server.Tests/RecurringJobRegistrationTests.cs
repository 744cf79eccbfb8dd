using System.Diagnostics;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Prospector.Server.Hosting;
using Prospector.Server.Jobs;
using Prospector.Storage;
using Prospector.Storage.Tests;

namespace Prospector.Server.Tests;

/// <summary>
/// A worker killed (kill -9) while holding a Hangfire lock leaves the lock row behind for DistributedLockTimeout (10 min
/// on PostgreSQL). Found by the R1 kill soak: every worker started meanwhile failed at startup ("Hosting failed to
/// start": the recurring-job registration timed out on that lock) and nothing was sent until the lock expired.
/// </summary>
public sealed class RecurringJobRegistrationTests
{
    [Fact]
    public async Task StartAsync_DoesNotFailAndRegistersOnceTheLockIsFree_WhenAKilledProcessLeftTheLockHeld()
    {
        await using var database = await TestDatabase.CreateAsync(SqlDialect.Postgres, migrate: false);
        var connectionString = database.PostgresConnectionString!;
        var storage = new PostgreSqlStorage(
            new NpgsqlConnectionFactory(connectionString, new PostgreSqlStorageOptions()),
            new PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = true });

        // What a process killed inside AddOrUpdate leaves behind: its lock row, as fresh as the kill.
        await using (var c = new NpgsqlConnection(connectionString))
        {
            await c.OpenAsync();
            await using var insert = new NpgsqlCommand(
                $"insert into hangfire.lock (resource, updatecount, acquired) values ('hangfire:lock:recurring-job:{MailboxSyncJob.RecurringId}', 0, now())", c);
            await insert.ExecuteNonQueryAsync();
        }

        using var registration = new RecurringJobRegistration(
            new RecurringJobManager(storage), Options.Create(new MailboxSyncOptions()), Options.Create(new CrmOptions()),
            TimeProvider.System, NullLogger<RecurringJobRegistration>.Instance) { RetryDelay = TimeSpan.FromSeconds(1) };

        // Before: the lock timeout escaped StartAsync and the host did not start.
        await registration.StartAsync(CancellationToken.None);
        Assert.False(registration.Registered.IsCompleted);
        Assert.Empty(RecurringIds(storage));

        await using (var c = new NpgsqlConnection(connectionString))
        {
            await c.OpenAsync();
            await using var delete = new NpgsqlCommand("delete from hangfire.lock", c);
            await delete.ExecuteNonQueryAsync();
        }

        var clock = Stopwatch.StartNew();
        await registration.Registered.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(
            new[] { CrmOutboxJob.RecurringId, DispatchJob.RecurringId, MailboxSyncJob.RecurringId },
            RecurringIds(storage).Order(StringComparer.Ordinal));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), $"registered {clock.Elapsed} after the lock was freed");
        await registration.StopAsync(CancellationToken.None);
    }

    private static List<string> RecurringIds(JobStorage storage)
    {
        using var connection = storage.GetConnection();
        return connection.GetRecurringJobs().Select(j => j.Id).ToList();
    }
}
