using System.Text.Json;
using Prospector.Server.Simulation;

namespace Prospector.Server.Tests;

/// <summary>The <c>simulate</c> CLI verb, end to end on the documented example (no server, no database).</summary>
public class SimulationCliTests
{
    private static string Example()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "docs", "simulate-example.json");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException("docs/simulate-example.json not found above the test's directory");
    }

    [Fact]
    public async Task Simulate_GivesTheSameResult_WhenTheSameFileRunsTwice()
    {
        var results = new List<string>();
        for (var run = 0; run < 2; run++)
        {
            var outPath = Path.Combine(Path.GetTempPath(), $"sim-{Guid.NewGuid():N}.json");
            try
            {
                var code = await SimulateCommand.RunAsync([Example(), "--out", outPath], new StringWriter(), new StringWriter(), CancellationToken.None);
                Assert.Equal(0, code);
                results.Add(await File.ReadAllTextAsync(outPath));
            }
            finally
            {
                File.Delete(outPath);
            }
        }

        // Ids, jitter and every instant: byte for byte (ids derive from the file, the jitter from the ids).
        Assert.Equal(results[0], results[1]);
    }

    [Fact]
    public async Task Simulate_RunsTheExampleFile_PrintsASummaryAndWritesTheResult()
    {
        var outPath = Path.Combine(Path.GetTempPath(), $"sim-{Guid.NewGuid():N}.json");
        try
        {
            var output = new StringWriter();
            var error = new StringWriter();
            var code = await SimulateCommand.RunAsync([Example(), "--out", outPath], output, error, CancellationToken.None);

            Assert.True(code == 0, error.ToString());
            var summary = output.ToString();
            Assert.Contains("2026-12-04 Fri  Sales 1: 2, Sales 2: 2", summary, StringComparison.Ordinal);
            // Ana (Madrid) waits two business days from Friday: Monday, then Wednesday — 8 December is a Spanish holiday.
            Assert.Contains("2026-12-09 Wed  Sales 2: 1", summary, StringComparison.Ordinal);
            Assert.Contains("Last prospect finishes: 2026-12-14", summary, StringComparison.Ordinal);

            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(outPath));
            var timeline = json.RootElement.GetProperty("timeline").EnumerateArray()
                .Select(t => (Prospect: t.GetProperty("prospect").GetString(), Step: t.GetProperty("stepId").GetString()!)).ToArray();
            string[] Steps(string who) => timeline.Where(t => t.Prospect == who).Select(t => t.Step).ToArray();
            Assert.Equal(["intro", "follow", "call", "crm"], Steps("jane@acme.example"));
            Assert.Equal(["intro", "follow", "call", "crm"], Steps("ana@umbrella.example")); // out of office: the sequence goes on
            Assert.Equal(["intro"], Steps("omar@globex.example"));                             // replied on Monday
            Assert.Equal(["intro"], Steps("li@initech.example"));                              // bounced

            // Why steps waited: Omar's intro (09:00Z is 04:00 in New York) moved into his window; Li's waited for the
            // 2-minute gap of Sales 1 after Jane's.
            var entries = json.RootElement.GetProperty("timeline").EnumerateArray().ToArray();
            JsonElement Entry(string who, string step) => entries.Single(e => e.GetProperty("prospect").GetString() == who && e.GetProperty("stepId").GetString() == step);
            string[] Waited(JsonElement e) => e.GetProperty("waited").EnumerateArray().Select(w => w.GetString()!).ToArray();
            var omar = Entry("omar@globex.example", "intro");
            Assert.Equal(["window"], Waited(omar));
            var omarLocal = TimeZoneInfo.ConvertTime(omar.GetProperty("at").GetDateTimeOffset(), TimeZoneInfo.FindSystemTimeZoneById("America/New_York"));
            // Omar is the second prospect: the rotation gives him Sales 2, whose window is the default 08:00–18:00.
            Assert.InRange(omarLocal.TimeOfDay, new TimeSpan(8, 0, 0), new TimeSpan(18, 0, 0));
            Assert.Equal(new DateOnly(2026, 12, 4), DateOnly.FromDateTime(omarLocal.DateTime));
            var li = Entry("li@initech.example", "intro");
            Assert.Equal(["gap"], Waited(li));
            Assert.Equal(new DateTimeOffset(2026, 12, 4, 9, 2, 0, TimeSpan.Zero), li.GetProperty("at").GetDateTimeOffset());
            var outcomes = json.RootElement.GetProperty("outcomes");
            Assert.Equal(2, outcomes.GetProperty("completed").GetInt32());
            Assert.Equal(1, outcomes.GetProperty("replied").GetInt32());
            Assert.Equal(1, outcomes.GetProperty("bounced").GetInt32());
        }
        finally
        {
            File.Delete(outPath);
        }
    }

    [Fact]
    public async Task Simulate_ReportsInvalidFields_AndLeavesNoScratchDatabase()
    {
        var input = Path.Combine(Path.GetTempPath(), $"sim-in-{Guid.NewGuid():N}.json");
        var before = Directory.GetFiles(Path.GetTempPath(), "prospector-sim-*").Length;
        await File.WriteAllTextAsync(input, """
            {
              "sequence": { "steps": [ { "id": "a", "type": "email", "subject": "Hi", "body": "Hello" } ] },
              "prospects": [ { "email": "not-an-address" } ],
              "mailboxes": [ { "name": "M", "timeZone": "Mars/Olympus", "sendingWindow": { "start": "18:00", "end": "08:00", "days": ["mon"] } } ],
              "events": [ { "prospect": "nobody@example.com", "type": "reply", "at": "2026-12-04T10:00:00Z" } ]
            }
            """);
        try
        {
            var error = new StringWriter();
            var code = await SimulateCommand.RunAsync([input], new StringWriter(), error, CancellationToken.None);

            Assert.Equal(2, code);
            var text = error.ToString();
            Assert.Contains("prospects[0].email", text, StringComparison.Ordinal);
            Assert.Contains("mailboxes[0].timeZone", text, StringComparison.Ordinal);
            Assert.Contains("mailboxes[0].sendingWindow.end", text, StringComparison.Ordinal);
            Assert.Equal(before, Directory.GetFiles(Path.GetTempPath(), "prospector-sim-*").Length);
            Assert.Equal(1, await SimulateCommand.RunAsync([], new StringWriter(), new StringWriter(), CancellationToken.None));
        }
        finally
        {
            File.Delete(input);
        }
    }

    [Fact]
    public async Task Simulate_StopsWithAClearError_WhenTheWorkLimitIsExceeded()
    {
        var file = JsonSerializer.Deserialize<SimulationFile>(await File.ReadAllTextAsync(Example()), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        var ex = await Assert.ThrowsAsync<SimulationLimitException>(() => Simulator.RunAsync(file.Start!.Value, async (services, ct) =>
        {
            // The example's own plan, with a limit of 3 steps.
            var plan = await SimulateCommandSeed(file, services, ct);
            return plan with { MaxSteps = 3 };
        }, CancellationToken.None));
        Assert.Contains("more than 3 steps", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulate_CompletesTasksAndReadsInjectedFacts_WhenABranchTestsLinkedInConnected()
    {
        var file = JsonSerializer.Deserialize<SimulationFile>("""
            {
              "sequence": { "steps": [
                { "id": "invite", "type": "linkedin_invite", "note": "Hi {{ first_name }}" },
                { "id": "check", "type": "branch", "if": "linkedin_connected", "then": "msg", "else": "end" },
                { "id": "msg", "type": "linkedin_message", "body": "Thanks for connecting" }
              ] },
              "prospects": [
                { "email": "yes@a.example", "firstName": "Yes", "linkedinUrl": "https://www.linkedin.com/in/yes-person" },
                { "email": "no@b.example", "firstName": "No", "linkedinUrl": "https://www.linkedin.com/in/no-person" }
              ],
              "mailboxes": [ { "name": "M" } ],
              "start": "2026-12-07T09:00:00Z",
              "horizonDays": 5,
              "events": [ { "prospect": "https://www.linkedin.com/in/yes-person", "type": "linkedin_connected", "at": "2026-12-07T09:00:00Z" } ]
            }
            """, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;

        var result = await SimulateCommand.RunAsync(file, null, CancellationToken.None);

        string[] Steps(string who) => result.Timeline.Where(t => t.Prospect == who).Select(t => t.StepType).ToArray();
        Assert.Equal(["linkedin_invite", "linkedin_message"], Steps("yes@a.example"));
        Assert.Equal(["linkedin_invite"], Steps("no@b.example"));
        Assert.All(result.Timeline, t => Assert.Null(t.MailboxId));
        Assert.Equal(2, result.Outcomes["completed"]);
        Assert.Empty(result.PerDay);
    }

    private static Task<SimulationPlan> SimulateCommandSeed(SimulationFile file, IServiceProvider services, CancellationToken ct)
        => SimulateCommand.SeedAsync(services, file, file.Start!.Value, null, ct);
}
