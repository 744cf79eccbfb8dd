using System.Reflection;
using System.Text;
using Hangfire.PostgreSql;
using Prospector.Server.Hosting;

namespace Prospector.Bench;

/// <summary>The B4 section of docs/benchmarks.md.</summary>
public sealed record B4Report(
    B4Options Options, Machine Machine, string PostgresVersion, DispatcherOptions Dispatcher, BaselineResult Baseline,
    int Steps, double DrainSeconds, double DrainRate, int LatenessRate, int LatenessSteps, Lateness Lateness)
{
#if DEBUG
    private static readonly string Build = "Debug";
#else
    private static readonly string Build = "Release";
#endif

    public string Markdown()
    {
        var ratio = DrainRate / Baseline.Rate;
        var hangfire = typeof(PostgreSqlStorage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0];
        var loops = Options.Loops == 1 ? "the worker's own `DispatchLoop`" : $"the worker's own `DispatchLoop` plus {Options.Loops - 1} more loop(s) calling `Dispatcher.RunOnceAsync` (as {Options.Loops} worker processes would)";
        var s = new StringBuilder();
        s.AppendLine("## B4 — steps due at once: our dispatcher vs Hangfire's delayed-job scheduler").AppendLine();
        s.AppendLine($"Last run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Machine.Summary}; PostgreSQL {PostgresVersion} (the local test instance: fsync and synchronous_commit off).");
        if (Build != "Release")
        {
            s.AppendLine($"**{Build} build: not representative; run with `-c Release`.**");
        }

        s.AppendLine($"Command: `dotnet run -c Release --project bench/Prospector.Bench -- {Options.CommandLine}`").AppendLine();
        s.AppendLine("| | Count | Time | Rate |");
        s.AppendLine("|---|---:|---:|---:|");
        s.AppendLine($"| Ours: drain of steps due at one instant (no-op channel) | {Steps:N0} | {DrainSeconds:0.00} s | **{DrainRate:N0} steps/s** |");
        s.AppendLine($"| Baseline: Hangfire's delayed-job scheduler, Scheduled → Enqueued | {Baseline.Jobs:N0} | {Baseline.Moving.TotalSeconds:0.00} s | **{Baseline.Rate:N0} jobs/s** |");
        s.AppendLine($"| **Ratio ours / baseline** | | | **{ratio:0.0}×** (target ≥ 10×) |").AppendLine();
        s.AppendLine($"Lateness on a steady arrival rate ({LatenessSteps:N0} steps due evenly over {Options.LatenessSeconds} s = {LatenessRate:N0}/s, dispatcher live): " +
            $"**p50 {Lateness.P50:0.000} s, p99 {Lateness.P99:0.000} s**, max {Lateness.Max:0.000} s over {Lateness.Count:N0} steps (target p99 ≤ 2 s).").AppendLine();
        s.AppendLine("How it is measured:");
        s.AppendLine($"- **Ours**: the server's own composition (`AddProspector`, role `worker`: Hangfire server and {loops}; BatchSize {Dispatcher.BatchSize}, " +
            $"PollInterval {Dispatcher.PollInterval.TotalMilliseconds:0} ms, logging at Warning) with `IEmailSender` replaced by a **no-op channel** that answers Sent (250) at once. " +
            $"{Steps:N0} enrollments at step 0 of a one-email sequence over {Seed.MailboxCount} mailboxes (caps of 1,000,000/day, window 00:00–24:00 every day, UTC), " +
            "all due at one instant and committed in one binary-COPY transaction while the dispatcher runs. Time = last `sends.sent_at` − commit. " +
            "Every step takes the real path: claim, render, pre-send transaction (Message-ID stored), send, mark sent and advance.");
        s.AppendLine("- **Lateness** = `sends.sent_at` − the step's due time. With 100k steps due at once, lateness is just the drain time " +
            "(the last step waits for all the others), which is why it is measured on a steady arrival rate below the drain rate " +
            "(default: half the measured drain rate, at most 1,000/s).");
        s.AppendLine($"- **Baseline**: Hangfire.PostgreSql {hangfire} in its own schema (`{Bench.Baseline.Schema}`) of the same database. {Baseline.Jobs:N0} trivial jobs scheduled with " +
            $"`BackgroundJobClient.Schedule` for one instant (that took {Baseline.Scheduling.TotalSeconds:0.0} s on 8 threads, {Baseline.Jobs / Baseline.Scheduling.TotalSeconds:N0} `Schedule()`/s), " +
            $"then a `BackgroundJobServer` (SchedulePollingInterval {Baseline.SchedulePollingInterval.TotalSeconds:0} s, {Baseline.WorkerCount} workers, QueuePollInterval " +
            $"{Baseline.QueuePollInterval.TotalMilliseconds:0} ms). Time = server start → scheduled set empty (polled every 50 ms).").AppendLine();
        s.AppendLine("How to run: `bash deploy/local/services-start.sh` provides PostgreSQL (or set `PROSPECTOR_BENCH_PG` / `PROSPECTOR_TEST_PG` to an admin " +
            "connection string); each run creates a fresh database and drops it afterwards, prints the figures and rewrites this section. " +
            "`-- b4 --help` lists the options (`--steps`, `--baseline-jobs`, `--loops`, `--batch`, `--lateness-seconds`, `--no-doc`…). Not part of CI.");
        return s.ToString();
    }
}
