using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

/// <summary>Every step type through save (custom-field scope), preview and enroll.</summary>
public class SequenceStepTypesApiTests
{
    private static object[] AllSteps() =>
    [
        new { id = "intro", type = "email", subject = "Hi {{ first_name }}", body = "<p>Hello {{ first_name }} at {{ company }}</p>" },
        new { id = "pause", type = "wait", days = 1, business_days = true },
        new { id = "check", type = "branch", @if = new { field = "custom.tier", @operator = "equals", value = "gold" }, then = "call" },
        new { id = "visit", type = "linkedin_visit", instructions = "Look at {{ first_name }}'s recent posts" },
        new { id = "invite", type = "linkedin_invite", note = "{{ custom.bio }}" },
        new { id = "message", type = "linkedin_message", body = "Thanks for connecting, {{ first_name }}" },
        new { id = "task", type = "manual_task", title = "Research {{ company }}", instructions = "Find the buying committee" },
        new { id = "hook", type = "webhook", url = "https://hooks.example.com/prospector", payload = """{"name":"{{ first_name }}"}""" },
        new { id = "call", type = "call", script = "Ask {{ first_name }} about {{ custom.tier }}" },
    ];

    private static async Task<Guid> ImportAsync(HttpClient http, string email, string firstName, Dictionary<string, string> custom)
    {
        var body = new
        {
            prospects = new[]
            {
                new { email, firstName, lastName = (string?)null, company = "Acme", companyDomain = "acme.example", timeZone = (string?)null, customFields = custom },
            },
        };
        return (await http.PostJsonAsync("/api/prospects", body, HttpStatusCode.OK)).GetProperty("ids")[0].GetGuid();
    }

    [Fact]
    public async Task SaveThenPreview_ChecksCustomFieldsAtSave_AndRendersEveryStepType()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();
        var ws = await app.DefaultWorkspaceAsync();
        await http.CreateMailboxAsync();

        // custom.tier and custom.bio are used without a default: the workspace must know them.
        var refused = await http.PostJsonAsync("/api/sequences", new { name = "All", steps = AllSteps() }, HttpStatusCode.BadRequest);
        Assert.Contains(refused.ErrorKeys(), k => k.StartsWith("steps[4]", StringComparison.Ordinal));
        foreach (var field in new[] { "tier", "bio" })
        {
            await app.SqlAsync("insert into custom_fields (workspace_id, name, created_at) values (@ws, @field, @now)", new { ws, field, now = DateTimeOffset.UtcNow });
        }

        var sequence = (await http.PostJsonAsync("/api/sequences", new { name = "All", steps = AllSteps() }, HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var prospect = await ImportAsync(http, "ann@acme.example", "Ann & <Bo>", new() { ["tier"] = "gold", ["bio"] = new string('b', 301) });

        var preview = await http.PostJsonAsync($"/api/sequences/{sequence}/preview", new { prospectId = prospect }, HttpStatusCode.OK);

        var steps = preview.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!);
        // An HTML template: data values encoded in the HTML part, the text part derived from it.
        Assert.StartsWith("<div dir=\"auto\"><p>Hello Ann &amp; &lt;Bo&gt; at Acme</p>", steps["intro"].GetProperty("htmlBody").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("Hello Ann & <Bo> at Acme\n\n", steps["intro"].GetProperty("textBody").GetString(), StringComparison.Ordinal);
        Assert.True(steps["pause"].GetProperty("wait").GetProperty("businessDays").GetBoolean());
        var branch = steps["check"].GetProperty("branch");
        Assert.Equal((true, "call"), (branch.GetProperty("holds").GetBoolean(), branch.GetProperty("goesTo").GetString()));
        Assert.Equal("Look at Ann & <Bo>'s recent posts", steps["visit"].GetProperty("text").GetString());
        Assert.Equal("note", Assert.Single(steps["invite"].GetProperty("errors").EnumerateArray()).GetProperty("field").GetString());
        Assert.Equal("Thanks for connecting, Ann & <Bo>", steps["message"].GetProperty("text").GetString());
        Assert.Equal(("Research Acme", "Find the buying committee"), (steps["task"].GetProperty("title").GetString(), steps["task"].GetProperty("text").GetString()));
        Assert.Equal("https://hooks.example.com/prospector", steps["hook"].GetProperty("url").GetString());
        using (var payload = JsonDocument.Parse(steps["hook"].GetProperty("payload").GetString()!))
        {
            Assert.Equal("Ann & <Bo>", payload.RootElement.GetProperty("name").GetString());
        }

        Assert.Equal("Ask Ann & <Bo> about gold", steps["call"].GetProperty("text").GetString());
        Assert.All(steps.Values.Where(s => s.GetProperty("id").GetString() != "invite"), s => Assert.False(s.TryGetProperty("errors", out _)));

        // Another prospect, another tier: the branch falls through to the next step.
        var silver = await ImportAsync(http, "sil@acme.example", "Sil", new() { ["tier"] = "silver", ["bio"] = "short" });
        var one = await http.PostJsonAsync($"/api/sequences/{sequence}/preview", new { prospectId = silver, stepId = "check" }, HttpStatusCode.OK);
        var fallThrough = Assert.Single(one.GetProperty("steps").EnumerateArray()).GetProperty("branch");
        Assert.Equal((false, "visit"), (fallThrough.GetProperty("holds").GetBoolean(), fallThrough.GetProperty("goesTo").GetString()));
    }

    [Fact]
    public async Task ReadmeSequence_IsAcceptedAndPreviewsItsBranch()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();
        // The walkthrough's sequence, read from README.md: the body curl sends there is exactly what is posted here.
        var body = ReadmeSequenceBody();
        var sequence = (await http.PostRawAsync("/api/sequences", body).ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var prospect = await ImportAsync(http, "ada@acme.example", "Ada", []);

        var preview = await http.PostJsonAsync($"/api/sequences/{sequence}/preview", new { prospectId = prospect }, HttpStatusCode.OK);

        var steps = preview.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal("Idea for Acme", steps[0].GetProperty("subject").GetString());
        Assert.Matches("^(Hi|Hello) Ada, worth a chat\\?\n", steps[0].GetProperty("textBody").GetString());
        Assert.Equal("Hi Ada, I wrote to you about Acme.", steps[2].GetProperty("text").GetString());
        Assert.Equal("call", steps[4].GetProperty("branch").GetProperty("goesTo").GetString());
        Assert.Equal("Ask Ada about Acme outbound.", steps[6].GetProperty("text").GetString());
        Assert.Equal("Re: Idea for Acme", steps[7].GetProperty("subject").GetString());
        Assert.StartsWith("Hi Ada, bumping this up.\n", steps[7].GetProperty("textBody").GetString(), StringComparison.Ordinal);

        // Spintax is resolved the same way on every render.
        var again = await http.PostJsonAsync($"/api/sequences/{sequence}/preview", new { prospectId = prospect }, HttpStatusCode.OK);
        Assert.Equal(steps[0].GetProperty("textBody").GetString(), again.GetProperty("steps")[0].GetProperty("textBody").GetString());
    }

    private static string ReadmeSequenceBody()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var readme = Path.Combine(dir.FullName, "README.md");
            if (File.Exists(readme) && File.Exists(Path.Combine(dir.FullName, "Prospector.sln")))
            {
                var match = System.Text.RegularExpressions.Regex.Match(
                    File.ReadAllText(readme), "/api/sequences -d '(\\{\"name\":\"Q4 outreach\".*?\\})'", System.Text.RegularExpressions.RegexOptions.Singleline);
                Assert.True(match.Success, "README.md has no Q4 outreach sequence");
                return match.Groups[1].Value;
            }
        }

        throw new InvalidOperationException("README.md not found above the test binaries");
    }

    [Fact]
    public async Task Enroll_SkipsProspectsWithoutLinkedInUrlOrRequiredCustomField()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();
        var ws = await app.DefaultWorkspaceAsync();
        var mailbox = await http.CreateMailboxAsync();
        await app.SqlAsync("insert into custom_fields (workspace_id, name, created_at) values (@ws, 'tier', @now)", new { ws, now = DateTimeOffset.UtcNow });
        var sequence = (await http.PostJsonAsync("/api/sequences", new
        {
            name = "Social",
            steps = new object[]
            {
                new { id = "intro", type = "email", subject = "Hi {{ first_name | default: 'there' }}", body = "About {{ custom.tier }}" },
                new { id = "visit", type = "linkedin_visit", instructions = "Have a look" },
            },
        }, HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var ok = await ImportAsync(http, "ok@acme.example", "Ok", new() { ["tier"] = "gold" });
        var noTier = await ImportAsync(http, "notier@acme.example", "No", new());
        var noLinkedIn = await ImportAsync(http, "nolinkedin@acme.example", "Nl", new() { ["tier"] = "gold" });
        await app.SqlAsync("update prospects set linkedin_url = 'https://www.linkedin.com/in/x' || id where id = any(@ids)", new { ids = new[] { ok, noTier } });

        var result = await http.EnrollPoolAsync(sequence, [mailbox], ok, noTier, noLinkedIn);

        Assert.Equal(ok, Assert.Single(result.GetProperty("enrolled").EnumerateArray()).GetProperty("prospectId").GetGuid());
        Assert.Equal([(noTier, "missing_field:custom.tier"), (noLinkedIn, "no_linkedin_url")], result.SkipReasons());
    }
}
