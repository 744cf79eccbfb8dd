using System.Globalization;

namespace Prospector.Bench;

/// <summary>The knobs of B8 (defaults: the figures).</summary>
public sealed record B8Options
{
    public const string Usage =
        """
        usage: b8 [--mailboxes N] [--cap C] [--days D] [--start yyyy-MM-dd] [--no-doc] [--keep-db]

          --mailboxes N   mailboxes in the pool (default 200)
          --cap C         each mailbox's daily cap (default 30)
          --days D        simulated days from the start, 00:00 UTC (default 30)
          --start DATE    first simulated day (default 2026-10-19: US/EU DST ends, FR 11 Nov and US 26 Nov inside)
          --no-doc        print only; do not rewrite the B8 section of docs/benchmarks.md
          --keep-db       keep the benchmark database afterwards

        PostgreSQL as for b4 (PROSPECTOR_BENCH_PG / PROSPECTOR_TEST_PG, else .services/test.env).
        """;

    public int Mailboxes { get; init; } = 200;
    public int Cap { get; init; } = 30;
    public int Days { get; init; } = 30;
    public DateOnly Start { get; init; } = new(2026, 10, 19);
    public bool WriteDoc { get; init; } = true;
    public bool KeepDatabase { get; init; }

    /// <summary>The command line as given, for the report.</summary>
    public string CommandLine { get; init; } = "b8";

    public static B8Options Parse(string[] args)
    {
        var o = new B8Options { CommandLine = string.Join(' ', new[] { "b8" }.Concat(args)) };
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            int Next(int min) => i + 1 < args.Length && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min
                ? v
                : throw new FormatException($"{name} needs an integer ≥ {min}");
            o = args[i] switch
            {
                "--mailboxes" => o with { Mailboxes = Next(1) },
                "--cap" => o with { Cap = Next(1) },
                "--days" => o with { Days = Next(1) },
                "--start" => o with
                {
                    Start = i + 1 < args.Length && DateOnly.TryParseExact(args[++i], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
                        ? d
                        : throw new FormatException("--start needs a date yyyy-MM-dd"),
                },
                "--no-doc" => o with { WriteDoc = false },
                "--keep-db" => o with { KeepDatabase = true },
                _ => throw new FormatException($"unknown option '{args[i]}'"),
            };
        }

        return o;
    }
}
