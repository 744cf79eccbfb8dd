using System.Text;

namespace Prospector.Bench;

/// <summary>B8: mailboxes at a daily cap on a simulated clock for N days; violations and per-mailbox spread.</summary>
public static class B8
{
    public static async Task<int> RunAsync(B8Options o)
    {
        var machine = await Machine.DescribeAsync();
        Console.WriteLine($"B8 on {machine.Summary}");
        await using var bench = await BenchDatabase.CreateAsync(o.KeepDatabase);
        Console.WriteLine($"database {bench.Name}");
        var pgVersion = await Seed.ServerVersionAsync(bench.ConnectionString);
        var config = new B8Config(o.Mailboxes, o.Cap, o.Days, o.Start);
        var run = await B8Simulation.RunAsync(bench.ConnectionString, config, Console.WriteLine, CancellationToken.None);
        var markdown = Markdown(run, o, machine, pgVersion);
        Console.WriteLine();
        Console.WriteLine(markdown);
        if (o.WriteDoc)
        {
            Console.WriteLine($"wrote {BenchmarksDoc.WriteSection("B8", markdown)}");
        }

        return run.Check.Violations == 0 ? 0 : 1;
    }

    /// <summary>The DST changes and public holidays of the prospects' zones and countries between start and end.</summary>
    private static string Inside(B8Config cfg, IReadOnlyList<B8Profile> profiles)
    {
        var items = new List<string>();
        foreach (var zone in profiles.Select(p => p.Zone).Concat(cfg.MailboxZoneList).Distinct(StringComparer.Ordinal))
        {
            var tz = TimeZoneInfo.FindSystemTimeZoneById(zone);
            for (var at = cfg.StartAt; at < cfg.EndAt; at = at.AddHours(1))
            {
                if (tz.GetUtcOffset(at) != tz.GetUtcOffset(at.AddHours(1)))
                {
                    items.Add($"DST change {zone} {at.AddHours(1):dd MMM}");
                }
            }
        }

        foreach (var country in profiles.Select(p => p.Country).Distinct(StringComparer.Ordinal))
        {
            for (var d = cfg.Start; d < cfg.Start.AddDays(cfg.Days); d = d.AddDays(1))
            {
                if (Prospector.Core.Scheduling.PublicHolidayCalendar.Instance.Holiday(country, d) is { } name)
                {
                    items.Add($"{country} holiday {d:ddd dd MMM} ({name})");
                }
            }
        }

        return items.Count == 0 ? "no DST change or holiday" : string.Join("; ", items);
    }

    public static string Markdown(B8Run run, B8Options o, Machine machine, string pgVersion)
    {
        var k = run.Check;
        var cfg = run.Config;
        var s = new StringBuilder();
        s.AppendLine("## B8 — mailboxes at their daily cap on an accelerated clock: violations and per-mailbox spread").AppendLine();
        s.AppendLine($"Last run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {machine.Summary}; PostgreSQL {pgVersion}.");
        s.AppendLine($"Command: `dotnet run -c Release --project bench/Prospector.Bench -- {o.CommandLine}`").AppendLine();
        s.AppendLine($"{cfg.Mailboxes} mailboxes × cap {cfg.Cap}/day, {cfg.Days} simulated days from {cfg.Start:yyyy-MM-dd} 00:00 UTC " +
            $"({run.Prospects:N0} prospects enrolled, {k.Sends:N0} sends, {run.Events:N0} clock events). " +
            $"Wall time {run.Wall.TotalSeconds:0.0} s = **{run.SimulatedDaysPerSecond:0.00} simulated days/s**.").AppendLine();
        s.AppendLine("| Violations (independent check) | Count | Target |");
        s.AppendLine("|---|---:|---:|");
        s.AppendLine($"| Send outside 09:00–17:00 in the prospect's local time | {k.OutsideWindow} | 0 |");
        s.AppendLine($"| Send on a Saturday/Sunday in the prospect's local time | {k.NotSendingDay} | 0 |");
        s.AppendLine($"| Send on a public holiday of the prospect's country | {k.Holiday} | 0 |");
        s.AppendLine($"| Mailbox-local days over the cap | {k.OverCap} | 0 |");
        s.AppendLine($"| **Total** | **{k.Violations}** | 0 |").AppendLine();
        foreach (var example in k.Examples)
        {
            s.AppendLine($"- {example}");
        }

        s.AppendLine($"Per-mailbox totals: min {k.Min:N0}, mean {k.Mean:N1}, max {k.Max:N0}; **max deviation from the mean {k.MaxDeviationPercent:0.0} %** (target ±10 %). " +
            $"Mean by mailbox zone: {string.Join(", ", k.MeanPerMailboxZone.Select(z => $"{z.Key} {z.Value:N1}"))}; " +
            $"**within one mailbox zone, max deviation from the zone's mean {k.MaxDeviationWithinZonePercent:0.0} %**. " +
            $"{k.CappedMailboxDays:N0} of {k.MailboxDays:N0} mailbox-local days with a send reached the cap exactly; sends not 'sent': {k.NotSent}.").AppendLine();
        s.AppendLine("Sends per simulated day (UTC date):").AppendLine();
        s.AppendLine("| Day | Sends | Day | Sends | Day | Sends |");
        s.AppendLine("|---|---:|---|---:|---|---:|");
        var days = k.PerUtcDay;
        var rows = (days.Count + 2) / 3;
        for (var r = 0; r < rows; r++)
        {
            var cells = Enumerable.Range(0, 3).Select(col => r + col * rows).Select(i => i < days.Count ? $"{days[i].Day:ddd dd MMM} | {days[i].Sends:N0}" : " | ");
            s.AppendLine($"| {string.Join(" | ", cells)} |");
        }

        s.AppendLine();
        s.AppendLine("How it is measured:");
        s.AppendLine($"- Mailboxes: daily cap {cfg.Cap}, no hourly cap or gap, window Mon–Fri 09:00–17:00 (applied in the prospect's zone), " +
            $"zones {string.Join(", ", cfg.MailboxZoneList)} round-robin (the cap counts in the mailbox's own day). " +
            $"Prospects round-robin over {string.Join(", ", run.Profiles.Select(p => $"{p.Country} {p.Zone}"))} ({run.UnsupportedCountry}: no holiday calendar). " +
            "Sequence: email → wait 2 business days → email → wait 3 days → email. " +
            $"Inside the run: {Inside(cfg, run.Profiles)}.");
        s.AppendLine($"- Demand ≥ supply all run: at each simulated midnight UTC, new prospects (`ProspectStore.UpsertAsync`) are enrolled with `EnrollmentStore.EnrollAsync` " +
            $"(pool = all mailboxes, least-loaded rotation) so that {B8Config.BacklogDays} days of the pool's supply wait at step 0, on top of the follow-ups.");
        s.AppendLine("- The server's own composition (`AddProspector`, role worker) built but not started — no DispatchLoop or Hangfire racing the clock — " +
            "with `TimeProvider` replaced by a simulated clock and `IEmailSender` by a no-op channel answering Sent. The harness calls the real " +
            "`Dispatcher.RunOnceAsync` until nothing due is left, then jumps to the next instant anything can happen (an active enrollment due whose mailbox " +
            "is not blocked then, a mailbox's `blocked_until`, the next midnight top-up), never past the end.");
        s.AppendLine("- The check reads the database afterwards and recomputes with `TimeZoneInfo` and `PublicHolidayCalendar` (not the scheduler's functions). " +
            "The spread across zones comes from the rules, not from rotation: the cap counts in the mailbox's day while windows apply in the prospect's, " +
            "so a mailbox whose local day straddles two prospect business days around a weekend gets an extra capped day " +
            "(an Asia/Tokyo mailbox's local Saturday, Fri 15:00–Sat 15:00 UTC, holds US Friday afternoons: 6 capped days a week). " +
            "A violation makes the command exit 1. Not part of CI; `B8HarnessTests` runs it scaled down.");
        return s.ToString();
    }
}
