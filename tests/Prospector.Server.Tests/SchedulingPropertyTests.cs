using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CsCheck;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Prospector.Core.Scheduling;
using Prospector.Server.Engine;
using Prospector.Server.Simulation;
using Prospector.Storage;
using Prospector.Testing;

namespace Prospector.Server.Tests;

/// <summary>
/// Scheduling over random configurations, through the real engine: the simulation's timeline keeps every window,
/// sending day, holiday, daily and hourly cap and gap (checked here independently of the scheduler), and live dispatch
/// on PostgreSQL, through the real SMTP server, driven by a fake clock, gives exactly the simulation's timeline.
/// </summary>
public class SchedulingPropertyTests
{
    private static readonly string[] Zones = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Europe/London"];
    private static readonly string?[] Countries = ["FR", "US", "GB", "DE", "ES", "JP", null];
    private static readonly string[][] DaySets =
    [
        ["mon", "tue", "wed", "thu", "fri"],
        ["mon", "tue", "wed", "thu", "fri", "sat"],
        ["tue", "wed", "thu"],
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    ];

    private sealed record MailboxConfig(string Zone, int StartHour, int Hours, string[] Days, int DailyCap, int? HourlyCap, int GapSeconds);

    private sealed record ProspectConfig(string? Zone, string? Country);

    private sealed record Config(DateTimeOffset Start, MailboxConfig[] Mailboxes, ProspectConfig[] Prospects, int Wait1, bool Business1, int Wait2, bool Business2)
    {
        public override string ToString()
            => $"start {Start:u}, waits {Wait1}{(Business1 ? "b" : "")}/{Wait2}{(Business2 ? "b" : "")}, mailboxes [" +
               string.Join("; ", Mailboxes.Select(m => $"{m.Zone} {m.StartHour}h+{m.Hours} {string.Join(',', m.Days)} cap {m.DailyCap}/{m.HourlyCap?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"} gap {m.GapSeconds}")) +
               "], prospects [" + string.Join("; ", Prospects.Select(p => $"{p.Zone ?? "-"} {p.Country ?? "-"}")) + "]";
    }

    private static readonly Gen<MailboxConfig> GenMailbox =
        from zone in Gen.OneOf(Zones)
        from start in Gen.Int[6, 11]
        from hours in Gen.Int[3, 10]
        from days in Gen.OneOf(DaySets)
        from cap in Gen.Int[1, 4]
        from hourly in Gen.Int[0, 2]
        from gap in Gen.OneOf(0, 300, 1800)
        select new MailboxConfig(zone, start, hours, days, cap, hourly == 0 ? null : Math.Min(hourly, cap), gap);

    private static readonly Gen<ProspectConfig> GenProspect =
        from zone in Gen.OneOf<string?>([.. Zones, null])
        from country in Gen.OneOf(Countries)
        select new ProspectConfig(zone, country);

    // Instants over 2026–2027 (DST changes, Christmas, national days included), at any minute of the day.
    private static readonly Gen<Config> GenConfig =
        from day in Gen.Int[0, 700]
        from minute in Gen.Int[0, 1439]
        from mailboxes in GenMailbox.Array[1, 3]
        from prospects in GenProspect.Array[3, 7]
        from wait1 in Gen.Int[1, 3]
        from business1 in Gen.Bool
        from wait2 in Gen.Int[1, 4]
        from business2 in Gen.Bool
        select new Config(
            new DateTimeOffset(2026, 1, 5, 0, 0, 0, TimeSpan.Zero).AddDays(day).AddMinutes(minute),
            mailboxes, prospects, wait1, business1, wait2, business2);

    [Fact]
    public async Task Simulation_KeepsWindowsHolidaysCapsAndGaps_OverRandomConfigurations()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Sqlite, new Dictionary<string, string?> { ["role"] = "all" });
        var http = app.Client();
        var run = 0;
        await GenConfig.SampleAsync(async config =>
        {
            var setup = await SetUpAsync(http, config, $"r{Interlocked.Increment(ref run)}");
            var result = await SimulateAsync(http, setup, config);
            var emails = Emails(result);
            // Every prospect gets the three emails within the 60-day horizon unless the caps hold them past it.
            Assert.True(emails.Count > 0, "nothing was sent");
            Check(config, setup, emails);
        }, iter: 25, threads: 1);
    }

    [Fact]
    public async Task LiveDispatchOnAFakeClock_GivesTheSimulationsTimeline()
    {
        var (smtpHost, smtpPort) = TestServices.Smtp;
        var config = new Config(
            new DateTimeOffset(2026, 12, 24, 15, 30, 0, TimeSpan.Zero), // Christmas Eve, afternoon: holidays, a weekend, windows
            [
                new MailboxConfig("Europe/Paris", 9, 8, ["mon", "tue", "wed", "thu", "fri"], 3, 2, 300),
                new MailboxConfig("America/New_York", 8, 9, ["mon", "tue", "wed", "thu", "fri", "sat"], 2, null, 0),
            ],
            [
                new("Europe/Paris", "FR"), new("America/New_York", "US"), new("Asia/Tokyo", "JP"), new(null, "GB"),
                new("Europe/Berlin", "DE"), new("Australia/Sydney", null), new(null, null),
            ],
            1, true, 2, false);
        var clock = new VirtualClock(config.Start);
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, new Dictionary<string, string?> { ["role"] = "api" }, clock);
        var http = app.Client();
        var setup = await SetUpAsync(http, config, "live", (smtpHost, smtpPort));

        var simulated = Emails(await SimulateAsync(http, setup, config));

        // Live: enroll at the same instant through the API, then let the app's own dispatcher (its DI, PostgreSQL, the
        // MailKit sender to the local Postfix) run whatever is due, moving the clock to the next instant each time.
        await http.PostJsonAsync($"/api/sequences/{setup.SequenceId}/enrollments", new { prospectIds = setup.ProspectIds, mailboxIds = setup.MailboxIds }, HttpStatusCode.OK);
        var dispatcher = app.Services.GetRequiredService<Dispatcher>();
        var end = config.Start.AddDays(60);
        await using var c = await app.Database.Database.OpenAsync();
        for (var moves = 0; moves < 2_000; moves++)
        {
            while (await dispatcher.RunOnceAsync(CancellationToken.None) > 0)
            {
            }

            var next = await c.ExecuteScalarAsync<DateTimeOffset?>(
                """
                select min(t) from (
                    select case when e.step_channel = 'email' and m.blocked_until > e.next_due_at then m.blocked_until else e.next_due_at end as t
                    from enrollments e join mailboxes m on m.id = e.mailbox_id
                    where e.state = 'active' and e.next_due_at is not null) x
                where t > @now
                """, new { now = clock.GetUtcNow() });
            if (next is not { } at || at > end)
            {
                break;
            }

            clock.Set(at);
        }

        var live = (await c.QueryAsync<(Guid ProspectId, string StepId, Guid MailboxId, DateTimeOffset SentAt, string State)>(
            """
            select e.prospect_id, s.step_id, s.mailbox_id, s.sent_at, s.state
            from sends s join enrollments e on e.id = s.enrollment_id
            """)).ToList();
        Assert.All(live, s => Assert.Equal("sent", s.State));
        Assert.True(simulated.Count >= 10, $"only {simulated.Count} emails simulated");
        Assert.Equal(
            simulated.Select(e => (e.ProspectId, e.StepId, e.MailboxId, e.At)).Order(),
            live.Select(s => (s.ProspectId, s.StepId, s.MailboxId, s.SentAt.ToUniversalTime())).Order());
        Check(config, setup, simulated);
    }

    private sealed record Setup(Guid SequenceId, Guid[] MailboxIds, Guid[] ProspectIds);

    private sealed record Email(DateTimeOffset At, Guid ProspectId, string StepId, Guid MailboxId, string[] Waited);

    private static async Task<Setup> SetUpAsync(HttpClient http, Config config, string tag, (string Host, int Port)? smtp = null)
    {
        var mailboxIds = new List<Guid>();
        var index = 0;
        foreach (var m in config.Mailboxes)
        {
            index++;
            var end = Math.Min(24, m.StartHour + m.Hours);
            var created = await http.PostJsonAsync("/api/mailboxes", new
            {
                name = $"{tag}-{index}",
                fromAddress = TestServices.MailUser(30 + index),
                dailyCap = m.DailyCap,
                hourlyCap = m.HourlyCap,
                minGapSeconds = m.GapSeconds,
                timeZone = m.Zone,
                sendingWindow = new { start = $"{m.StartHour:00}:00", end = $"{end:00}:00", days = m.Days },
                smtp = new { host = smtp?.Host ?? "127.0.0.1", port = smtp?.Port ?? 2525, security = "none" },
            }, HttpStatusCode.Created);
            mailboxIds.Add(created.GetProperty("id").GetGuid());
        }

        var prospects = config.Prospects.Select((p, i) => new
        {
            email = TestServices.MailUser(1 + (i % 20), $"{tag}-{i}"),
            firstName = "P" + i,
            timeZone = p.Zone,
            country = p.Country,
        }).ToArray();
        var imported = await http.PostJsonAsync("/api/prospects", new { prospects }, HttpStatusCode.OK);
        var prospectIds = imported.GetProperty("ids").EnumerateArray().Select(i => i.GetGuid()).ToArray();
        object[] steps =
        [
            new { id = "a", type = "email", subject = "Hi {{ first_name }}", body = "Hello" },
            new { id = "w1", type = "wait", days = config.Wait1, business_days = config.Business1 },
            new { id = "b", type = "email", body = "Following up" },
            new { id = "w2", type = "wait", days = config.Wait2, business_days = config.Business2 },
            new { id = "c", type = "email", body = "Last note" },
        ];
        var sequenceId = (await http.PostJsonAsync("/api/sequences", new { name = "Property " + tag, steps }, HttpStatusCode.Created)).GetProperty("id").GetGuid();
        return new Setup(sequenceId, [.. mailboxIds], prospectIds);
    }

    private static Task<JsonElement> SimulateAsync(HttpClient http, Setup setup, Config config)
        => http.PostJsonAsync($"/api/sequences/{setup.SequenceId}/simulate", new
        {
            prospectIds = setup.ProspectIds,
            mailboxIds = setup.MailboxIds,
            start = config.Start,
            horizonDays = 60,
        }, HttpStatusCode.OK);

    private static List<Email> Emails(JsonElement result)
        => result.GetProperty("timeline").EnumerateArray()
            .Where(t => t.GetProperty("stepType").GetString() == "email")
            .Select(t => new Email(
                t.GetProperty("at").GetDateTimeOffset().ToUniversalTime(), t.GetProperty("prospectId").GetGuid(), t.GetProperty("stepId").GetString()!,
                t.GetProperty("mailboxId").GetGuid(), t.GetProperty("waited").EnumerateArray().Select(w => w.GetString()!).ToArray()))
            .ToList();

    // The independent check: plain TimeZoneInfo arithmetic and the holiday data, not the scheduler's functions.
    private static void Check(Config config, Setup setup, List<Email> emails)
    {
        var mailboxes = setup.MailboxIds.Select((id, i) => (id, config.Mailboxes[i])).ToDictionary(x => x.id, x => x.Item2);
        var prospects = setup.ProspectIds.Select((id, i) => (id, config.Prospects[i])).ToDictionary(x => x.id, x => x.Item2);
        foreach (var e in emails)
        {
            var m = mailboxes[e.MailboxId];
            var p = prospects[e.ProspectId];
            var zone = TimeZoneInfo.FindSystemTimeZoneById(p.Zone ?? m.Zone);
            var local = TimeZoneInfo.ConvertTime(e.At, zone);
            var what = $"{e.StepId} to prospect {Array.IndexOf(setup.ProspectIds, e.ProspectId)} at {e.At:u} ({local:yyyy-MM-dd ddd HH:mm} in {zone.Id}) from a {m} mailbox, config {config}";
            Assert.True(local.TimeOfDay >= TimeSpan.FromHours(m.StartHour) && local.TimeOfDay < TimeSpan.FromHours(Math.Min(24, m.StartHour + m.Hours)), "outside the window: " + what);
            Assert.True(m.Days.Contains(local.DayOfWeek.ToString()[..3].ToLowerInvariant()), "not a sending day: " + what);
            Assert.True(PublicHolidayCalendar.Instance.Holiday(p.Country, DateOnly.FromDateTime(local.DateTime)) is null, "on a holiday: " + what);
        }

        foreach (var group in emails.GroupBy(e => e.MailboxId))
        {
            var m = mailboxes[group.Key];
            var zone = TimeZoneInfo.FindSystemTimeZoneById(m.Zone);
            var sends = group.OrderBy(e => e.At).ToList();
            foreach (var day in sends.GroupBy(e => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(e.At, zone).DateTime)))
            {
                Assert.True(day.Count() <= m.DailyCap, $"{day.Count()} sends on {day.Key} over the daily cap {m.DailyCap}: config {config}");
            }

            for (var i = 0; i < sends.Count; i++)
            {
                if (m.HourlyCap is { } hourly)
                {
                    var inHour = sends.Count(s => s.At > sends[i].At.AddHours(-1) && s.At <= sends[i].At);
                    Assert.True(inHour <= hourly, $"{inHour} sends in the hour up to {sends[i].At:u} over the hourly cap {hourly}: config {config}");
                }

                if (i > 0)
                {
                    Assert.True(sends[i].At - sends[i - 1].At >= TimeSpan.FromSeconds(m.GapSeconds),
                        $"sends at {sends[i - 1].At:u} and {sends[i].At:u} closer than the gap {m.GapSeconds}s: config {config}");
                }
            }
        }

        // Each prospect's emails go out in sequence order, one mailbox per thread, and never twice.
        foreach (var thread in emails.GroupBy(e => e.ProspectId))
        {
            var ordered = thread.OrderBy(e => e.At).Select(e => e.StepId).ToArray();
            Assert.Equal(new[] { "a", "b", "c" }.Take(ordered.Length), ordered);
            Assert.Single(thread.Select(e => e.MailboxId).Distinct());
        }
    }
}
