using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;
using Prospector.Core.Email;
using Prospector.Server.Engine;
using Prospector.Server.Hosting;
using Prospector.Server.Security;
using Prospector.Storage;

namespace Prospector.Bench;

/// <summary>
/// B4: N steps due at one instant drained by our dispatcher (the real DI graph of a worker, no-op channel), lateness on
/// a steady arrival rate, and Hangfire's own delayed-job scheduler moving M scheduled jobs on the same PostgreSQL.
/// </summary>
public static class B4
{
    public static async Task<int> RunAsync(B4Options o)
    {
        var machine = await Machine.DescribeAsync();
        Console.WriteLine($"B4 on {machine.Summary}");
        var timeout = TimeSpan.FromMinutes(o.TimeoutMinutes);
        await using var bench = await BenchDatabase.CreateAsync(o.KeepDatabase);
        Console.WriteLine($"database {bench.Name}");
        await using var database = Database.ForPostgres(bench.ConnectionString);
        await new Migrator(database, NullLogger<Migrator>.Instance).MigrateAsync();
        var pgVersion = await Seed.ServerVersionAsync(bench.ConnectionString);

        // The baseline first: Hangfire's static loggers then stay unbound (silent) instead of following our host's.
        Console.WriteLine($"baseline: scheduling {o.BaselineJobs:N0} Hangfire jobs due at one instant…");
        var baseline = await Baseline.RunAsync(bench.ConnectionString, o.BaselineJobs, timeout);
        Console.WriteLine($"baseline: {baseline.Jobs:N0} scheduled jobs moved in {baseline.Moving.TotalSeconds:0.00} s = {baseline.Rate:N0} jobs/s");

        var setup = await Seed.SetupAsync(database);
        var sender = new NoOpEmailSender();
        await using var app = await StartWorkerAsync(bench.ConnectionString, o, sender);
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DispatcherOptions>>().Value;
        using var stopLoops = new CancellationTokenSource();
        var loops = Enumerable.Range(1, o.Loops - 1).Select(_ => ExtraLoopAsync(app.Services.GetRequiredService<Dispatcher>(), options.PollInterval, stopLoops.Token)).ToList();

        try
        {
            // Drain: N steps due at one instant, visible at once (one COPY transaction), the dispatcher already running.
            Console.WriteLine($"ours: seeding {o.Steps:N0} steps due at one instant…");
            var due = DateTimeOffset.UtcNow;
            var seeding = Stopwatch.StartNew();
            var visibleAt = await Seed.AddDueAsync(bench.ConnectionString, setup, Enumerable.Repeat(due, o.Steps).ToList(), "drain");
            Console.WriteLine($"ours: seeded in {seeding.Elapsed.TotalSeconds:0.0} s; draining…");
            var drained = await Seed.WaitForSentAsync(bench.ConnectionString, o.Steps, timeout);
            var drainSeconds = (drained.LastSentAt - visibleAt).TotalSeconds;
            var drainRate = o.Steps / drainSeconds;
            Console.WriteLine($"ours: {o.Steps:N0} steps sent in {drainSeconds:0.00} s = {drainRate:N0} steps/s (no-op channel saw {sender.Count:N0})");

            // Lateness: a steady arrival rate below the drain rate, the dispatcher live.
            var rate = o.LatenessRate ?? (int)Math.Clamp(drainRate / 2, 1, 1000);
            var count = rate * o.LatenessSeconds;
            var start = DateTimeOffset.UtcNow.AddSeconds(3);
            var dues = Enumerable.Range(0, count).Select(i => start.AddTicks(TimeSpan.TicksPerSecond * i / rate)).ToList();
            Console.WriteLine($"ours: lateness phase, {count:N0} steps due over {o.LatenessSeconds} s ({rate:N0}/s)…");
            var committed = await Seed.AddDueAsync(bench.ConnectionString, setup, dues, "late");
            if (committed > start)
            {
                Console.WriteLine($"warning: the lateness rows were visible {(committed - start).TotalSeconds:0.00} s after the first was due");
            }

            await Seed.WaitForSentAsync(bench.ConnectionString, o.Steps + count, timeout + TimeSpan.FromSeconds(o.LatenessSeconds));
            var lateness = await Seed.LatenessAsync(bench.ConnectionString, "late");
            Console.WriteLine($"ours: lateness p50 {lateness.P50:0.000} s, p99 {lateness.P99:0.000} s, max {lateness.Max:0.000} s over {lateness.Count:N0} steps");

            var report = new B4Report(o, machine, pgVersion, options, baseline, o.Steps, drainSeconds, drainRate, rate, count, lateness);
            var markdown = report.Markdown();
            Console.WriteLine();
            Console.WriteLine(markdown);
            if (o.WriteDoc)
            {
                Console.WriteLine($"wrote {BenchmarksDoc.WriteSection("B4", markdown)}");
            }

            return 0;
        }
        finally
        {
            await stopLoops.CancelAsync();
            await Task.WhenAll(loops);
            await app.StopAsync();
        }
    }

    /// <summary>The server's own composition (role worker: Hangfire server + DispatchLoop) with the no-op channel.</summary>
    private static async Task<WebApplication> StartWorkerAsync(string connectionString, B4Options o, NoOpEmailSender sender)
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["role"] = "worker",
            ["StorageOptions:PostgresConnectionString"] = connectionString,
            ["urls"] = "http://127.0.0.1:0",
            ["ApiOptions:BootstrapApiKey"] = ApiKeys.Generate(), // so no generated key is printed
            // One Information line per send would measure the console, not the dispatcher.
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error", // "no XML encryptor": irrelevant here
        };
        if (o.BatchSize is { } batch)
        {
            settings["DispatcherOptions:BatchSize"] = batch.ToString(CultureInfo.InvariantCulture);
        }

        if (o.PollMilliseconds is { } poll)
        {
            settings["DispatcherOptions:PollInterval"] = TimeSpan.FromMilliseconds(poll).ToString("c", CultureInfo.InvariantCulture);
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddProspector();
        builder.Services.Replace(ServiceDescriptor.Singleton<IEmailSender>(sender));
        var app = builder.Build();
        app.MapProspector();
        await app.StartAsync();
        return app;
    }

    /// <summary>Another dispatcher loop in this process, as a further worker process would run one.</summary>
    private static async Task ExtraLoopAsync(Dispatcher dispatcher, TimeSpan poll, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (await dispatcher.RunOnceAsync(ct) == 0)
                {
                    await Task.Delay(poll, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
