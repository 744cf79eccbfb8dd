using System.Globalization;

namespace Prospector.Bench;

/// <summary>The knobs of R1, the kill soak (defaults: DESIGN.md's figures).</summary>
public sealed record R1Options
{
    public const string Usage =
        """
        usage: r1 [--sends N] [--kills K] [--seed S] [--workers W] [--batch B] [--burst U] [--lease-seconds L] [--wait-seconds G]
                  [--spread-seconds D] [--min-gap-ms A] [--max-gap-ms Z] [--min-life-ms M] [--timeout-minutes T] [--server-dll PATH]
                  [--log-dir DIR] [--keep-mail] [--no-doc] [--keep-db]

          --sends N            email sends planned: N/2 enrollments of a 2-email sequence (default 2000)
          --kills K            kill -9 of a worker process caught sending, each restarted at once (default 50)
          --seed S             seeds the kill intervals and the choice of victim (default 1)
          --workers W          worker processes (`Prospector.Server --role worker`, default 2)
          --batch B            DispatcherOptions:BatchSize of the workers (default 4): at most B steps in flight per kill
          --burst U            the first emails fall due U at a time (default 2 × B), so a batch is in flight
          --lease-seconds L    DispatcherOptions:Lease of the workers (default 30, the minimum)
          --wait-seconds G     the wait between the two emails (default 20)
          --spread-seconds D   the first emails fall due evenly over D seconds (default: long enough for the kills,
                               K × max(mean pause, 1.5 × (a worker's measured start time + M) / W) − G, at least 10)
          --min-gap-ms A       shortest pause between two kills (default 500)
          --max-gap-ms Z       longest pause between two kills (default 3000); after the pause a kill is armed on a
                               random worker that logged its first send at least M ms ago, and fired by its next
                               send log line (written between the SMTP answer and marking the outcome)
          --min-life-ms M      see above (default 2000): a restarted worker sends for a while before it is a victim
          --timeout-minutes T  give up waiting for the run to settle after T minutes (default 20)
          --server-dll PATH    the built server (default src/Prospector.Server/bin/<this build's configuration>/net10.0)
          --log-dir DIR        where each worker incarnation's console log is written (default a new temp directory)
          --keep-mail          leave the run's messages in the mailboxes (default: expunged once counted)
          --no-doc             print only; do not rewrite the R1 section of docs/reliability.md
          --keep-db            keep the run's database afterwards

        PostgreSQL as for b4 (PROSPECTOR_BENCH_PG / PROSPECTOR_TEST_PG, else .services/test.env); SMTP and IMAP from
        PROSPECTOR_TEST_SMTP / PROSPECTOR_TEST_IMAP, else .services/test.env (the local Postfix and Dovecot).
        """;

    public int Sends { get; init; } = 2_000;
    public int Kills { get; init; } = 50;
    public int Seed { get; init; } = 1;
    public int Workers { get; init; } = 2;
    public int BatchSize { get; init; } = 4;
    public int? BurstSize { get; init; }
    public int LeaseSeconds { get; init; } = 30;
    public int WaitSeconds { get; init; } = 20;
    public int? SpreadSeconds { get; init; }
    public int MinGapMilliseconds { get; init; } = 500;
    public int MaxGapMilliseconds { get; init; } = 3_000;
    public int MinLifeMilliseconds { get; init; } = 2_000;
    public int TimeoutMinutes { get; init; } = 20;
    public string? ServerDll { get; init; }
    public string? LogDirectory { get; init; }
    public bool KeepMail { get; init; }
    public bool WriteDoc { get; init; } = true;
    public bool KeepDatabase { get; init; }

    /// <summary>The command line as given, for the report.</summary>
    public string CommandLine { get; init; } = "r1";

    /// <summary>First emails due at the same instant.</summary>
    public int Burst => BurstSize ?? 2 * BatchSize;

    /// <summary>Enrollments seeded: one per two planned sends.</summary>
    public int Enrollments => (Sends + 1) / 2;

    /// <summary>
    /// The first emails fall due over this span: by default about as long as the kills take, so there are sends in flight
    /// until the last one. A kill waits for a worker caught sending, and a killed worker needs <paramref name="start"/> to
    /// come back and send for <see cref="MinLifeMilliseconds"/>, so a kill takes the mean pause or that time shared by the
    /// workers (× 1.5: measured, the workers are rarely both eligible), whichever is longer.
    /// </summary>
    public TimeSpan Spread(TimeSpan start) => TimeSpan.FromSeconds(SpreadSeconds
        ?? Math.Max(10, Kills * Math.Max((MinGapMilliseconds + MaxGapMilliseconds) / 2000.0, 1.5 * (start.TotalSeconds + MinLifeMilliseconds / 1000.0) / Workers) - WaitSeconds));

    public static R1Options Parse(string[] args)
    {
        var o = new R1Options { CommandLine = string.Join(' ', new[] { "r1" }.Concat(args)) };
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            int Next(int min) => i + 1 < args.Length && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min
                ? v
                : throw new FormatException($"{name} needs an integer ≥ {min}");
            string Text() => i + 1 < args.Length && args[i + 1].Length > 0 ? args[++i] : throw new FormatException($"{name} needs a value");
            o = args[i] switch
            {
                "--sends" => o with { Sends = Next(2) },
                "--kills" => o with { Kills = Next(0) },
                "--seed" => o with { Seed = Next(0) },
                "--workers" => o with { Workers = Next(1) },
                "--batch" => o with { BatchSize = Next(1) },
                "--burst" => o with { BurstSize = Next(1) },
                "--lease-seconds" => o with { LeaseSeconds = Next(30) },
                "--wait-seconds" => o with { WaitSeconds = Next(1) },
                "--spread-seconds" => o with { SpreadSeconds = Next(1) },
                "--min-gap-ms" => o with { MinGapMilliseconds = Next(50) },
                "--max-gap-ms" => o with { MaxGapMilliseconds = Next(50) },
                "--min-life-ms" => o with { MinLifeMilliseconds = Next(0) },
                "--timeout-minutes" => o with { TimeoutMinutes = Next(1) },
                "--server-dll" => o with { ServerDll = Text() },
                "--log-dir" => o with { LogDirectory = Text() },
                "--keep-mail" => o with { KeepMail = true },
                "--no-doc" => o with { WriteDoc = false },
                "--keep-db" => o with { KeepDatabase = true },
                _ => throw new FormatException($"unknown option '{args[i]}'"),
            };
        }

        return o.MaxGapMilliseconds < o.MinGapMilliseconds
            ? throw new FormatException("--max-gap-ms must be at least --min-gap-ms")
            : o;
    }
}
