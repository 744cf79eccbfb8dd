using System.Globalization;

namespace Prospector.Bench;

/// <summary>The knobs of B4 (defaults: the figures and the server's own dispatcher settings).</summary>
public sealed record B4Options
{
    public const string Usage =
        """
        usage: b4 [--steps N] [--baseline-jobs M] [--lateness-seconds S] [--lateness-rate R] [--loops K]
                  [--batch B] [--poll-ms P] [--timeout-minutes T] [--no-doc] [--keep-db]

          --steps N             due steps drained at once by our dispatcher (default 100000)
          --baseline-jobs M     jobs scheduled for Hangfire's delayed-job scheduler (default 10000)
          --lateness-seconds S  steady-arrival phase: due times spread over S seconds (default 30)
          --lateness-rate R     steps due per second in that phase (default: half the measured drain rate, at most 1000)
          --loops K             dispatcher loops in the process (default 1: the worker's own DispatchLoop;
                                K > 1 adds K-1 loops calling Dispatcher.RunOnceAsync, like K worker processes)
          --batch B             DispatcherOptions:BatchSize (default: the server's default)
          --poll-ms P           DispatcherOptions:PollInterval in ms (default: the server's default)
          --timeout-minutes T   give up on a phase after T minutes (default 20)
          --no-doc              print only; do not rewrite the B4 section of docs/benchmarks.md
          --keep-db             keep the benchmark database afterwards

        PostgreSQL: PROSPECTOR_BENCH_PG or PROSPECTOR_TEST_PG (an admin connection string; a fresh database is
        created per run and dropped afterwards), else .services/test.env as written by
        `bash deploy/local/services-start.sh`.
        """;

    public int Steps { get; init; } = 100_000;
    public int BaselineJobs { get; init; } = 10_000;
    public int LatenessSeconds { get; init; } = 30;
    public int? LatenessRate { get; init; }
    public int Loops { get; init; } = 1;
    public int? BatchSize { get; init; }
    public int? PollMilliseconds { get; init; }
    public int TimeoutMinutes { get; init; } = 20;
    public bool WriteDoc { get; init; } = true;
    public bool KeepDatabase { get; init; }

    /// <summary>The command line as given, for the report.</summary>
    public string CommandLine { get; init; } = "b4";

    public static B4Options Parse(string[] args)
    {
        var o = new B4Options { CommandLine = string.Join(' ', new[] { "b4" }.Concat(args)) };
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            int Next(int min) => i + 1 < args.Length && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min
                ? v
                : throw new FormatException($"{name} needs an integer ≥ {min}");
            o = args[i] switch
            {
                "--steps" => o with { Steps = Next(1) },
                "--baseline-jobs" => o with { BaselineJobs = Next(1) },
                "--lateness-seconds" => o with { LatenessSeconds = Next(1) },
                "--lateness-rate" => o with { LatenessRate = Next(1) },
                "--loops" => o with { Loops = Next(1) },
                "--batch" => o with { BatchSize = Next(1) },
                "--poll-ms" => o with { PollMilliseconds = Next(50) },
                "--timeout-minutes" => o with { TimeoutMinutes = Next(1) },
                "--no-doc" => o with { WriteDoc = false },
                "--keep-db" => o with { KeepDatabase = true },
                _ => throw new FormatException($"unknown option '{args[i]}'"),
            };
        }

        return o;
    }
}
