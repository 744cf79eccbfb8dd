using Dapper;
using Npgsql;
using Prospector.Core.Scheduling;

namespace Prospector.Bench;

/// <summary>What the independent check found.</summary>
public sealed record B8Check(
    int Sends, int NotSent, int OutsideWindow, int NotSendingDay, int Holiday, int OverCap, IReadOnlyList<string> Examples,
    IReadOnlyDictionary<Guid, int> PerMailbox, IReadOnlyDictionary<string, double> MeanPerMailboxZone,
    IReadOnlyList<(DateOnly Day, int Sends)> PerUtcDay, int CappedMailboxDays, int MailboxDays, double MaxDeviationWithinZonePercent)
{
    public int Violations => OutsideWindow + NotSendingDay + Holiday + OverCap;

    public double Min => PerMailbox.Count == 0 ? 0 : PerMailbox.Values.Min();

    public double Max => PerMailbox.Count == 0 ? 0 : PerMailbox.Values.Max();

    public double Mean => PerMailbox.Count == 0 ? 0 : PerMailbox.Values.Average();

    /// <summary>The largest |total − mean| / mean over mailboxes, in %.</summary>
    public double MaxDeviationPercent => Mean == 0 ? 0 : PerMailbox.Values.Max(v => Math.Abs(v - Mean)) / Mean * 100;
}

/// <summary>
/// B8's checker, independent of the scheduler's functions: every send recomputed with <see cref="TimeZoneInfo"/> and
/// the holiday calendar — inside 09:00–17:00 Mon–Fri in the prospect's local time, not a public holiday of the
/// prospect's country — and per mailbox per mailbox-local day at most the cap.
/// </summary>
public static class B8Checker
{
    private sealed class SendFact
    {
        public Guid MailboxId { get; init; }
        public string MailboxZone { get; init; } = "";
        public string State { get; init; } = "";
        public DateTime? SentAt { get; init; }
        public string? ProspectZone { get; init; }
        public string? Country { get; init; }
    }

    public static async Task<B8Check> CheckAsync(string connectionString, Guid workspaceId, B8Config config, CancellationToken ct)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync(ct);
        var sends = (await c.QueryAsync<SendFact>(new CommandDefinition(
            """
            select s.mailbox_id, m.time_zone as mailbox_zone, s.state, s.sent_at, p.time_zone as prospect_zone, p.country
            from sends s join enrollments e on e.id = s.enrollment_id join prospects p on p.id = e.prospect_id join mailboxes m on m.id = s.mailbox_id
            where s.workspace_id = @workspaceId
            """, new { workspaceId }, cancellationToken: ct))).AsList();
        var mailboxes = (await c.QueryAsync<(Guid Id, string Zone)>(new CommandDefinition(
            "select id, time_zone from mailboxes where workspace_id = @workspaceId", new { workspaceId }, cancellationToken: ct))).ToList();

        var zones = new Dictionary<string, TimeZoneInfo>(StringComparer.Ordinal);
        TimeZoneInfo Zone(string id) => zones.TryGetValue(id, out var z) ? z : zones[id] = TimeZoneInfo.FindSystemTimeZoneById(id);

        int outside = 0, weekend = 0, holiday = 0, notSent = 0;
        var examples = new List<string>();
        var perDay = new Dictionary<(Guid, DateOnly), int>();
        var perMailbox = mailboxes.ToDictionary(m => m.Id, _ => 0);
        var perUtcDay = new SortedDictionary<DateOnly, int>();
        foreach (var s in sends)
        {
            if (s.State != "sent" || s.SentAt is not { } sentAt)
            {
                notSent++;
                continue;
            }

            var utc = DateTime.SpecifyKind(sentAt, DateTimeKind.Utc);
            var local = TimeZoneInfo.ConvertTimeFromUtc(utc, Zone(s.ProspectZone ?? "UTC"));
            var minute = local.Hour * 60 + local.Minute;
            var day = DateOnly.FromDateTime(local);
            void Violation(string kind, string expected)
            {
                if (examples.Count < 5)
                {
                    examples.Add($"{kind}: {utc:yyyy-MM-dd HH:mm:ss}Z mailbox {s.MailboxId} ({s.MailboxZone}), prospect {s.Country} {s.ProspectZone} local {local:ddd yyyy-MM-dd HH:mm:ss}; expected {expected}");
                }
            }

            if (minute < B8Config.WindowStartMinute || local.TimeOfDay >= TimeSpan.FromMinutes(B8Config.WindowEndMinute))
            {
                outside++;
                Violation("outside window", "09:00–17:00 local");
            }

            if (local.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
            {
                weekend++;
                Violation("not a sending day", "Mon–Fri local");
            }

            if (PublicHolidayCalendar.Instance.Holiday(s.Country, day) is { } name)
            {
                holiday++;
                Violation("holiday", $"no send on {name}");
            }

            var mailboxDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(utc, Zone(s.MailboxZone)));
            perDay[(s.MailboxId, mailboxDay)] = perDay.GetValueOrDefault((s.MailboxId, mailboxDay)) + 1;
            perMailbox[s.MailboxId]++;
            var utcDay = DateOnly.FromDateTime(utc);
            perUtcDay[utcDay] = perUtcDay.GetValueOrDefault(utcDay) + 1;
        }

        var overCap = 0;
        foreach (var ((mailbox, day), count) in perDay.Where(x => x.Value > config.Cap))
        {
            overCap++;
            if (examples.Count < 5)
            {
                examples.Add($"over cap: mailbox {mailbox} sent {count} on its local day {day:yyyy-MM-dd}; expected ≤ {config.Cap}");
            }
        }

        for (var d = config.Start; d < config.Start.AddDays(config.Days); d = d.AddDays(1))
        {
            perUtcDay.TryAdd(d, 0);
        }

        var byZone = mailboxes.GroupBy(m => m.Zone).ToDictionary(g => g.Key, g => g.Average(m => perMailbox[m.Id]), StringComparer.Ordinal);
        var withinZone = mailboxes.Count == 0 ? 0 : mailboxes.Max(m => byZone[m.Zone] == 0 ? 0 : Math.Abs(perMailbox[m.Id] - byZone[m.Zone]) / byZone[m.Zone] * 100);
        return new B8Check(
            sends.Count - notSent, notSent, outside, weekend, holiday, overCap, examples, perMailbox, byZone,
            perUtcDay.Select(x => (x.Key, x.Value)).ToList(), perDay.Count(x => x.Value == config.Cap), perDay.Count, withinZone);
    }
}
