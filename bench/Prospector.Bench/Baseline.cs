using System.Diagnostics;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;

namespace Prospector.Bench;

/// <summary>What Hangfire's delayed-job scheduler did with M jobs scheduled at one instant.</summary>
public sealed record BaselineResult(int Jobs, TimeSpan Scheduling, TimeSpan Moving, int WorkerCount, TimeSpan SchedulePollingInterval, TimeSpan QueuePollInterval)
{
    /// <summary>Scheduled jobs moved out of the Scheduled state per second.</summary>
    public double Rate => Jobs / Moving.TotalSeconds;
}

/// <summary>The trivial job the baseline schedules.</summary>
public static class BaselineJob
{
    public static void Run()
    {
    }
}

/// <summary>
/// Hangfire.PostgreSql on the same database (its own schema): M jobs scheduled with <c>Schedule()</c> for one instant,
/// then a BackgroundJobServer started; measures how fast the scheduled set empties.
/// </summary>
public static class Baseline
{
    public const string Schema = "hangfire_baseline";

    public static async Task<BaselineResult> RunAsync(string connectionString, int jobs, TimeSpan timeout)
    {
        var storageOptions = new PostgreSqlStorageOptions
        {
            SchemaName = Schema, PrepareSchemaIfNecessary = true, QueuePollInterval = TimeSpan.FromMilliseconds(100),
        };
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, storageOptions), storageOptions);
        var client = new BackgroundJobClient(storage);

        // All due at one instant, already past when the server starts: only the scheduler's speed is measured.
        var due = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        Parallel.For(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ => client.Schedule(() => BaselineJob.Run(), due));
        var scheduling = clock.Elapsed;
        var monitoring = storage.GetMonitoringApi();
        var scheduled = monitoring.ScheduledCount();
        if (scheduled != jobs)
        {
            throw new InvalidOperationException($"expected {jobs} scheduled jobs, found {scheduled}");
        }

        var serverOptions = new BackgroundJobServerOptions
        {
            ServerName = "b4-baseline", WorkerCount = 10, SchedulePollingInterval = TimeSpan.FromSeconds(1),
        };
        TimeSpan moving;
        clock.Restart();
        using (var server = new BackgroundJobServer(serverOptions, storage))
        {
            while (monitoring.ScheduledCount() > 0)
            {
                if (clock.Elapsed > timeout)
                {
                    throw new TimeoutException($"Hangfire still had {monitoring.ScheduledCount()} scheduled jobs after {timeout}");
                }

                await Task.Delay(50);
            }

            moving = clock.Elapsed;
            server.SendStop();
        }

        return new BaselineResult(jobs, scheduling, moving, serverOptions.WorkerCount, serverOptions.SchedulePollingInterval, storageOptions.QueuePollInterval);
    }
}
