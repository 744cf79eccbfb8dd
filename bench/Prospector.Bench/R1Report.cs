using System.Text;

namespace Prospector.Bench;

/// <summary>The R1 section of docs/reliability.md: the last run's figures.</summary>
public sealed record R1Report(R1Options Options, Machine Machine, string PostgresVersion, R1Run Run, R1Verdict Verdict, TimeSpan Total)
{
#if DEBUG
    private static readonly string Build = "Debug";
#else
    private static readonly string Build = "Release";
#endif

    public string Markdown()
    {
        var v = Verdict;
        var kills = Run.Kills;
        var planned = v.Enrollments * 2;
        var s = new StringBuilder();
        s.AppendLine("### Last run").AppendLine();
        s.AppendLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Machine.Summary}; PostgreSQL {PostgresVersion}; {Build} build.");
        var arguments = Options.CommandLine.Length > 3 ? " " + Options.CommandLine[3..] : "";
        s.AppendLine($"Command: `bash deploy/local/soak-r1.sh{arguments}`");
        s.AppendLine($"({v.Enrollments:N0} enrollments × 2 emails = {planned:N0} planned sends; {Options.Workers} worker processes, BatchSize {Options.BatchSize}, " +
            $"Lease {Options.LeaseSeconds} s; first emails due evenly over {Run.Spread.TotalSeconds:0} s, follow-ups {Options.WaitSeconds} s after each first email; " +
            $"a kill after a pause of {Options.MinGapMilliseconds / 1000.0:0.0}–{Options.MaxGapMilliseconds / 1000.0:0.0} s (seed {Options.Seed}), of a worker that logged a send in the last 0.5 s; " +
            $"a worker took {Run.Start.TotalSeconds:0.0} s to start at the beginning.)").AppendLine();
        s.AppendLine("| | Result | Target |");
        s.AppendLine("|---|---:|---|");
        s.AppendLine($"| **Duplicates** outside `unknown` (a Message-ID or an (enrollment, step) delivered twice) | **{v.DuplicatesOutsideUnknown}** | 0 |");
        s.AppendLine($"| **Lost** steps | **{v.Lost}** | 0 |");
        s.AppendLine($"| `unknown` sends delivered more than once (resent) | {v.UnknownResent} | 0 |");
        s.AppendLine($"| Delivered messages with no row in our outbox | {v.Phantoms} | 0 |");
        s.AppendLine($"| `failed` sends that were delivered | {v.FailedDelivered} | 0 |");
        s.AppendLine($"| Sends `sent` | {v.Count("sent"):N0} | |");
        s.AppendLine($"| Sends `unknown` (a worker killed between the pre-send commit and marking the outcome) | {v.Count("unknown"):N0} | as few as the kills allow |");
        s.AppendLine($"| … of which delivered once / never delivered | {v.UnknownDeliveredOnce} / {v.UnknownNotDelivered} | ≤ 1 each |");
        s.AppendLine($"| Sends `failed` / left `planned` or `sending` | {v.Count("failed")} / {v.Count("planned") + v.Count("sending")} | |");
        s.AppendLine($"| Messages delivered (Dovecot INBOXes, over IMAP) | {v.Delivered:N0} | `sent` + delivered `unknown` |");
        s.AppendLine($"| Steps that waited ≥ {R1Verdict.HeldThreshold.TotalSeconds:0} s past due (held by a killed worker's claim until its lease expired) | {v.HeldByLease:N0} (max {v.MaxLatenessSeconds:0.0} s) | |");
        s.AppendLine($"| `kill -9` (SIGKILL) of a worker caught sending | {kills.Count} | {Options.Kills} |");
        s.AppendLine($"| … right after the kill: a send row still `sending` / claims still leased (any worker) | " +
            $"{kills.Count(k => k.SendingRows > 0)} / {kills.Count(k => k.OpenClaims > 0)} | |");
        s.AppendLine($"| Worker processes started (incl. restarts) / exits not caused by the soak | {Run.Incarnations} / {Run.UnexpectedExits.Count} | – / 0 |");
        s.AppendLine($"| Wall time: first due → settled (nothing active, nothing mid-send) | {Run.Wall.TotalSeconds:0} s{(Run.TimedOut ? " **(timed out)**" : "")} | |");
        s.AppendLine($"| Whole command (build excluded: seeding, soak, delivery wait, checks) | {Total.TotalSeconds:0} s | |").AppendLine();
        s.AppendLine($"Enrollments at the end: {string.Join(", ", v.EnrollmentStates.OrderByDescending(p => p.Value).Select(p => $"{p.Value:N0} {p.Key}"))}.");
        s.AppendLine($"Verdict: **{(v.Passed && !Run.TimedOut ? "pass" : "FAIL")}**.");
        foreach (var problem in v.Problems.Take(10))
        {
            s.AppendLine($"- {problem}");
        }

        if (v.Problems.Count > 10)
        {
            s.AppendLine($"- … and {v.Problems.Count - 10} more (printed by the run)");
        }

        return s.ToString();
    }
}
