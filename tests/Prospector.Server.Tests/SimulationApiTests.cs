using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

/// <summary>POST /api/sequences/{id}/simulate: the real engine on a scratch database; the workspace is only read.</summary>
public class SimulationApiTests
{
    // Friday 10:00 UTC: the follow-up after 2 business days falls on Tuesday.
    private static readonly DateTimeOffset Friday = new(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);

    private static object[] EmailWaitEmail() =>
    [
        new { id = "intro", type = "email", subject = "Hi {{ first_name }}", body = "Hello {{ first_name }}" },
        new { id = "pause", type = "wait", days = 2, business_days = true },
        new { id = "follow", type = "email", body = "Following up" },
    ];

    private static async Task<(Guid Sequence, Guid[] Mailboxes, Guid[] Prospects)> SetUpAsync(HttpClient http, object[] steps, int prospects)
    {
        var sequence = (await http.PostJsonAsync("/api/sequences", new { name = "Sim", steps }, HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var a = await http.CreateMailboxAsync("A", "a@example.com");
        var b = await http.CreateMailboxAsync("B", "b@example.com");
        var ids = await http.ImportProspectsAsync(Enumerable.Range(1, prospects).Select(i => $"p{i}@prospect.example").ToArray());
        return (sequence, [a, b], ids);
    }

    [Fact]
    public async Task Simulate_ReturnsTheTimelineAndTheEffectsOfInjectedEvents_WithoutTouchingTheWorkspace()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, new Dictionary<string, string?> { ["role"] = "api" });
        var http = app.Client();
        var (sequence, mailboxes, p) = await SetUpAsync(http, EmailWaitEmail(), 4);

        var result = await http.PostJsonAsync($"/api/sequences/{sequence}/simulate", new
        {
            prospectIds = p,
            mailboxIds = mailboxes,
            start = Friday,
            horizonDays = 30,
            events = new object[]
            {
                new { prospectId = p[1], type = "reply", at = Friday.AddDays(3) },               // Monday: before the follow-up
                new { prospectId = p[2], type = "bounce", at = Friday.AddHours(2) },
                new { prospectId = p[3], type = "out_of_office", at = Friday.AddDays(1), until = Friday.AddDays(8) },
            },
        }, HttpStatusCode.OK);

        var timeline = result.GetProperty("timeline").EnumerateArray().Select(t => (
            At: t.GetProperty("at").GetDateTimeOffset(), Prospect: t.GetProperty("prospectId").GetGuid(), Step: t.GetProperty("stepId").GetString(),
            Type: t.GetProperty("stepType").GetString(), Mailbox: t.GetProperty("mailboxId").GetGuid())).ToArray();
        string[] Steps(Guid prospect) => timeline.Where(t => t.Prospect == prospect).Select(t => t.Step!).ToArray();

        // The reply and the bounce stop the follow-up; out of office is an auto-reply live (an event, the sequence goes on).
        Assert.Equal(["intro", "follow"], Steps(p[0]));
        Assert.Equal(["intro"], Steps(p[1]));
        Assert.Equal(["intro"], Steps(p[2]));
        Assert.Equal(["intro", "follow"], Steps(p[3]));
        Assert.All(timeline, t => Assert.Equal("email", t.Type));

        // Intros at the start, follow-ups two business days later (Tuesday), in time order.
        Assert.All(timeline.Where(t => t.Step == "intro"), t => Assert.Equal(new DateOnly(2026, 12, 4), DateOnly.FromDateTime(t.At.UtcDateTime)));
        Assert.All(timeline.Where(t => t.Step == "follow"), t => Assert.Equal(new DateOnly(2026, 12, 8), DateOnly.FromDateTime(t.At.UtcDateTime)));
        Assert.Equal(timeline.OrderBy(t => t.At).Select(t => t.At), timeline.Select(t => t.At));

        // The enroll route's rotation (least loaded, then pool order), and one mailbox per thread.
        Assert.Equal(mailboxes[0], timeline.First(t => t.Prospect == p[0]).Mailbox);
        Assert.Equal(mailboxes[1], timeline.First(t => t.Prospect == p[1]).Mailbox);
        Assert.Equal(mailboxes[0], timeline.First(t => t.Prospect == p[2]).Mailbox);
        Assert.Equal(mailboxes[1], timeline.First(t => t.Prospect == p[3]).Mailbox);
        foreach (var prospect in p)
        {
            Assert.Single(timeline.Where(t => t.Prospect == prospect).Select(t => t.Mailbox).Distinct());
        }

        var outcomes = result.GetProperty("outcomes");
        Assert.Equal(2, outcomes.GetProperty("completed").GetInt32());
        Assert.Equal(1, outcomes.GetProperty("replied").GetInt32());
        Assert.Equal(1, outcomes.GetProperty("bounced").GetInt32());
        Assert.Equal(0, result.GetProperty("unfinished").GetInt32());
        Assert.Equal(timeline.Max(t => t.At), result.GetProperty("finishedAt").GetDateTimeOffset());

        var perDay = result.GetProperty("perDay").EnumerateArray()
            .Select(d => (d.GetProperty("date").GetString(), d.GetProperty("mailboxId").GetGuid(), d.GetProperty("emails").GetInt32())).ToArray();
        Assert.Equal(
            [("2026-12-04", mailboxes[0], 2), ("2026-12-04", mailboxes[1], 2), ("2026-12-08", mailboxes[0], 1), ("2026-12-08", mailboxes[1], 1)],
            perDay.OrderBy(d => d.Item1, StringComparer.Ordinal).ThenBy(d => d.Item2 == mailboxes[0] ? 0 : 1));

        // The workspace itself: nothing enrolled, sent, suppressed or queued by simulating.
        foreach (var table in new[] { "enrollments", "sends", "suppressions", "tasks", "webhook_calls", "enrollment_events", "inbound_messages", "mailbox_slots" })
        {
            Assert.Equal(0L, await app.ScalarAsync<long>($"select count(*) from {table}"));
        }

        // The bounced prospect can still be enrolled for real: the suppression lived in the scratch database only.
        var enrolled = await http.EnrollPoolAsync(sequence, mailboxes, p[2]);
        Assert.Single(enrolled.EnrolledIds());
    }

    [Fact]
    public async Task Simulate_GivesTheSameTimeline_WhenRunTwiceWithTheSameInput()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Sqlite);
        var http = app.Client();
        object[] steps =
        [
            new { id = "intro", type = "email", subject = "Hi", body = "Hello {{ first_name }}" },
            new { id = "pause", type = "wait", days = 1 },
            new { id = "ring", type = "call", script = "Call {{ first_name }}" },
            new { id = "notify", type = "webhook", url = "https://hooks.simulation-never-resolves.invalid/x" },
            new { id = "last", type = "email", body = "Closing the loop" },
        ];
        var (sequence, mailboxes, p) = await SetUpAsync(http, steps, 5);
        var body = new
        {
            prospectIds = p,
            mailboxIds = mailboxes,
            start = Friday,
            horizonDays = 10,
            events = new object[] { new { prospectId = p[4], type = "reply", at = Friday.AddHours(5) } },
        };

        var first = await http.PostJsonAsync($"/api/sequences/{sequence}/simulate", body, HttpStatusCode.OK);
        var second = await http.PostJsonAsync($"/api/sequences/{sequence}/simulate", body, HttpStatusCode.OK);

        Assert.Equal(first.GetProperty("timeline").GetRawText(), second.GetProperty("timeline").GetRawText());
        Assert.Equal(first.GetProperty("perDay").GetRawText(), second.GetProperty("perDay").GetRawText());
        Assert.Equal(first.GetProperty("outcomes").GetRawText(), second.GetProperty("outcomes").GetRawText());

        // Tasks are completed when created and the webhook is answered in process (the host does not resolve): all steps run.
        var types = first.GetProperty("timeline").EnumerateArray().Where(t => t.GetProperty("prospectId").GetGuid() == p[0])
            .Select(t => t.GetProperty("stepType").GetString()!).ToArray();
        Assert.Equal(["email", "call", "webhook", "email"], types);
        DateTimeOffset At(string step) => first.GetProperty("timeline").EnumerateArray()
            .First(t => t.GetProperty("prospectId").GetGuid() == p[0] && t.GetProperty("stepId").GetString() == step).GetProperty("at").GetDateTimeOffset();
        // The call falls due on Saturday: a task keeps to the mailbox's window (Mon–Fri 08:00–18:00 UTC), so it moves to
        // Monday inside the window; the webhook (no window) runs as soon as the call is done.
        var callAt = At("ring");
        Assert.Equal(new DateOnly(2026, 12, 7), DateOnly.FromDateTime(callAt.UtcDateTime));
        Assert.InRange(callAt.UtcDateTime.TimeOfDay, TimeSpan.FromHours(8), TimeSpan.FromHours(18));
        Assert.Equal(callAt, At("notify"));
        Assert.Equal(4, first.GetProperty("outcomes").GetProperty("completed").GetInt32());
        Assert.Equal(1, first.GetProperty("outcomes").GetProperty("replied").GetInt32());
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from enrollments"));
    }

    [Fact]
    public async Task Simulate_RefusesInvalidRequests_NamingTheFields()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, new Dictionary<string, string?> { ["role"] = "api" });
        var http = app.Client();
        var (sequence, mailboxes, p) = await SetUpAsync(http, EmailWaitEmail(), 1);
        var (otherWorkspace, otherKey) = await app.CreateWorkspaceAsync("other");
        var foreignMailbox = await app.Client(otherKey).CreateMailboxAsync("Theirs", "theirs@example.com");
        Assert.NotEqual(Guid.Empty, otherWorkspace);

        var missing = await http.PostJsonAsync($"/api/sequences/{sequence}/simulate", new { }, HttpStatusCode.BadRequest);
        Assert.Contains("prospectIds", missing.ErrorKeys());

        var problem = await http.PostJsonAsync($"/api/sequences/{sequence}/simulate", new
        {
            prospectIds = p,
            mailboxIds = new[] { mailboxes[0], foreignMailbox },
            start = Friday,
            horizonDays = 400,
            version = 7,
            events = new object[]
            {
                new { prospectId = p[0], type = "reply", at = Friday.AddDays(1) },
                new { prospectId = p[0], type = "meeting", at = Friday.AddDays(1) },
                new { prospectId = p[0], type = "reply", at = Friday.AddDays(-1) },
                new { prospectId = Guid.NewGuid(), type = "reply", at = Friday.AddDays(1) },
                new { prospectId = p[0], type = "bounce", at = Friday.AddDays(1), until = Friday.AddDays(2) },
            },
        }, HttpStatusCode.BadRequest);
        Assert.Equal(
            ["events[1].type", "events[2].at", "events[3].prospectId", "events[4].until", "horizonDays", "mailboxIds[1]", "version"],
            problem.ErrorKeys().Order(StringComparer.Ordinal));

        await http.PostJsonAsync($"/api/sequences/{Guid.NewGuid()}/simulate", new { prospectIds = p }, HttpStatusCode.NotFound);
        var unknownField = await http.PostJsonAsync($"/api/sequences/{sequence}/simulate", new { prospectIds = p, speed = 2 }, HttpStatusCode.BadRequest);
        Assert.Contains("speed", unknownField.ErrorKeys());

        // Viewers may not simulate (a POST); SDRs may.
        var viewer = app.Client(await AccessTests.CreateKeyAsync(http, "viewer"));
        using var refused = await viewer.PostAsJsonAsync($"/api/sequences/{sequence}/simulate", new { prospectIds = p });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var sdr = app.Client(await AccessTests.CreateKeyAsync(http, "sdr"));
        var ok = await sdr.PostJsonAsync($"/api/sequences/{sequence}/simulate", new { prospectIds = p, start = Friday, horizonDays = 3 }, HttpStatusCode.OK);
        Assert.Single(ok.GetProperty("timeline").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, ok.GetProperty("finishedAt").ValueKind);
        Assert.Equal(1, ok.GetProperty("unfinished").GetInt32());
    }

    [Fact]
    public async Task Simulate_Answers422_WhenTheWorkExceedsTheLimit()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, new Dictionary<string, string?> { ["role"] = "api" });
        var http = app.Client();
        var steps = Enumerable.Range(1, 6).Select(i => (object)new { id = $"e{i}", type = "email", subject = "Hi", body = $"Mail {i}" }).ToArray();
        var (sequence, mailboxes, p) = await SetUpAsync(http, steps, 2_000);

        using var response = await http.PostAsJsonAsync($"/api/sequences/{sequence}/simulate", new { prospectIds = p, mailboxIds = mailboxes, start = Friday });
        var problem = await response.ReadJsonAsync();

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("2000 prospects × 6 steps", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
