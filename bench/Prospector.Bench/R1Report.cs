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

    public bool Passed => Verdict.Passed && !Run.TimedOut && Run.UnexpectedExits.Count == 0;

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
            $"Lease {Options.LeaseSeconds} s; first emails due in bursts of {Options.Burst} evenly over {Run.Spread.TotalSeconds:0} s, follow-ups {Options.WaitSeconds} s after each first email; " +
            $"after each pause of {Options.MinGapMilliseconds / 1000.0:0.0}–{Options.MaxGapMilliseconds / 1000.0:0.0} s (seed {Options.Seed}) a kill is armed on a random worker sending for ≥ {Options.MinLifeMilliseconds / 1000.0:0.0} s and fired by its next send log line; " +
            $"a worker took {Run.Start.TotalSeconds:0.0} s to start at the beginning.)").AppendLine();
        s.AppendLine("| | Result | Target |");
        s.AppendLine("|---|---:|---|");
        s.AppendLine($"| **Duplicates** outside `unknown` (a Message-ID or an (enrollment, step) delivered twice) | **{v.DuplicatesOutsideUnknown}** | 0 |");
        s.AppendLine($"| **Lost** steps | **{v.Lost}** | 0 |");
        s.AppendLine($"| `unknown` sends delivered more than once (resent) | {v.UnknownResent} | 0 |");
        s.AppendLine($"| Delivered messages with no row in our outbox | {v.Phantoms} | 0 |");
        s.AppendLine($"| `failed` sends that were delivered | {v.FailedDelivered} | 0 |");
        s.AppendLine($"| Sends `sent` | {v.Count("sent"):N0} | |");
        s.AppendLine($"| Follow-ups never attempted (their first email ended `unknown`: the enrollment is paused) | {planned - v.SendStates.Values.Sum():N0} | |");
        s.AppendLine($"| Sends `unknown` (a worker killed between the pre-send commit and marking the outcome) | {v.Count("unknown"):N0} | as few as the kills allow |");
        s.AppendLine($"| … of which delivered once / never delivered | {v.UnknownDeliveredOnce} / {v.UnknownNotDelivered} | ≤ 1 each |");
        s.AppendLine($"| … by step, {string.Join(" and ", v.UnknownByStep.Keys.Select(k => $"`{k}`"))} (delivered once / never) | " +
            $"{string.Join("; ", v.UnknownByStep.Values.Select(x => $"{x.Delivered} / {x.NotDelivered}"))} | |");
        s.AppendLine($"| Sends `failed` / left `planned` or `sending` | {v.Count("failed")} / {v.Count("planned") + v.Count("sending")} | |");
        s.AppendLine($"| Messages delivered (Dovecot INBOXes, over IMAP) | {v.Delivered:N0} | `sent` + delivered `unknown` |");
        s.AppendLine($"| Step started after its due time (backlog while workers restart, plus the lease of an orphaned claim): p50 / p90 / max | " +
            $"{v.LatenessSeconds.P50:0.0} / {v.LatenessSeconds.P90:0.0} / {v.LatenessSeconds.Max:0.0} s | |");
        s.AppendLine($"| `kill -9` (SIGKILL) of a worker, fired by its send log line | {kills.Count} | {Options.Kills} |");
        s.AppendLine($"| … that orphaned claimed steps / that left a send mid-SMTP (→ `unknown`) | {v.KillsThatOrphaned} / {v.KillsThatLeftUnknown} | all / – |");
        s.AppendLine($"| Claimed steps orphaned by the kills (each waited for its lease, or ended `unknown`) | {v.OrphanedClaims:N0} | |");
        s.AppendLine($"| Worker processes started (incl. restarts) / exits not caused by the soak | {Run.Incarnations} / {Run.UnexpectedExits.Count} | – / 0 |");
        s.AppendLine($"| Wall time: first due → settled (nothing active, nothing mid-send) | {Run.Wall.TotalSeconds:0} s{(Run.TimedOut ? " **(timed out)**" : "")} | |");
        s.AppendLine($"| Whole command (build excluded: seeding, soak, delivery wait, checks) | {Total.TotalSeconds:0} s | |").AppendLine();
        s.AppendLine($"Enrollments at the end: {string.Join(", ", v.EnrollmentStates.OrderByDescending(p => p.Value).Select(p => $"{p.Value:N0} {p.Key}"))}.");
        s.AppendLine($"Verdict: **{(Passed ? "pass" : "FAIL")}** (0 duplicates, 0 lost, no worker exit the soak did not cause, no timeout).");
        foreach (var exit in Run.UnexpectedExits.Take(3))
        {
            s.AppendLine($"- {exit}");
        }

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
