using System.Globalization;

namespace Prospector.Bench;

/// <summary>The knobs of B1 (defaults sized so each measured phase runs for seconds, not milliseconds).</summary>
public sealed record B1Options
{
    public const string Usage =
        """
        usage: b1 [--messages N] [--messages-nagle M] [--sizes 2048,8192] [--mailboxes K] [--parallelism P] [--batch B]
                  [--auto-prepare S] [--no-profile] [--no-doc] [--keep-db]

          --messages N        messages per measured phase with NoDelay on, raw and end to end (default 5000)
          --messages-nagle M  the same with NoDelay off (default 300: at 8 KB each message waits ~40 ms for a delayed ACK)
          --sizes S           message sizes in bytes, comma-separated (default 2048,8192)
          --mailboxes K       mailboxes the steps are spread over (default 10; all reach the sink through one pooled connection)
          --parallelism P     DispatcherOptions:Parallelism (default: the server's default)
          --batch B           DispatcherOptions:BatchSize (default: the server's default)
          --auto-prepare S    the worker's PostgreSQL connection string gets "Max Auto Prepare=S" (Npgsql prepares its S most
                              used statements per connection; default: off, as the server ships)
          --no-profile        skip the profiled end-to-end pass (Npgsql statement counts and times per send)
          --no-doc            print only; do not rewrite the B1 section of docs/benchmarks.md
          --keep-db           keep the benchmark database afterwards

        Needs /usr/sbin/smtp-sink (Postfix) and PostgreSQL as for b4 (PROSPECTOR_BENCH_PG / PROSPECTOR_TEST_PG, else
        .services/test.env).
        """;

    public int Messages { get; init; } = 5000;
    public int MessagesNagle { get; init; } = 300;
    public IReadOnlyList<int> Sizes { get; init; } = [2048, 8192];
    public int Mailboxes { get; init; } = 10;
    public int? Parallelism { get; init; }
    public int? BatchSize { get; init; }
    public int? AutoPrepare { get; init; }
    public bool Profile { get; init; } = true;
    public bool WriteDoc { get; init; } = true;
    public bool KeepDatabase { get; init; }

    /// <summary>The command line as given, for the report.</summary>
    public string CommandLine { get; init; } = "b1";

    public static B1Options Parse(string[] args)
    {
        var o = new B1Options { CommandLine = string.Join(' ', new[] { "b1" }.Concat(args)) };
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            int Next(int min) => i + 1 < args.Length && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min
                ? v
                : throw new FormatException($"{name} needs an integer ≥ {min}");
            IReadOnlyList<int> Sizes()
            {
                var parts = i + 1 < args.Length ? args[++i].Split(',') : [];
                var sizes = parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 512 ? v : -1).ToList();
                return sizes.Count > 0 && sizes.All(v => v > 0) ? sizes : throw new FormatException($"{name} needs sizes ≥ 512 bytes, comma-separated");
            }

            o = args[i] switch
            {
                "--messages" => o with { Messages = Next(10) },
                "--messages-nagle" => o with { MessagesNagle = Next(10) },
                "--sizes" => o with { Sizes = Sizes() },
                "--mailboxes" => o with { Mailboxes = Next(1) },
                "--parallelism" => o with { Parallelism = Next(1) },
                "--batch" => o with { BatchSize = Next(1) },
                "--auto-prepare" => o with { AutoPrepare = Next(1) },
                "--no-profile" => o with { Profile = false },
                "--no-doc" => o with { WriteDoc = false },
                "--keep-db" => o with { KeepDatabase = true },
                _ => throw new FormatException($"unknown option '{args[i]}'"),
            };
        }

        return o;
    }
}
