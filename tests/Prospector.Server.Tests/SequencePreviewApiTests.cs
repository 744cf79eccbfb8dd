using System.Net;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class SequencePreviewApiTests
{
    [Fact]
    public async Task Preview_RendersEveryStepForTheProspect_AndReportsRenderErrorsPerStep()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();
        await http.CreateMailboxAsync();
        var sequence = (await http.PostJsonAsync("/api/sequences", new
        {
            name = "P",
            steps = new object[]
            {
                new { id = "intro", type = "email", subject = "Hi {{ first_name }}", body = "Hello {{ first_name }} from {{ sender_name }}" },
                new { id = "pause", type = "wait", days = 2, hours = 3 },
                new { id = "follow", type = "email", body = "Following up, {{ first_name }}" },
                new { id = "heavy", type = "email", body = "{% for i in (1..100000) %}x{% endfor %}" },
            },
        }, HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var prospect = (await http.ImportProspectsAsync("ann@acme.example"))[0];
        var url = $"/api/sequences/{sequence}/preview";

        var preview = await http.PostJsonAsync(url, new { prospectId = prospect }, HttpStatusCode.OK);

        Assert.Equal((1, prospect), (preview.GetProperty("version").GetInt32(), preview.GetProperty("prospectId").GetGuid()));
        var steps = preview.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal(["intro", "pause", "follow", "heavy"], steps.Select(s => s.GetProperty("id").GetString()!).ToArray());
        Assert.Equal("Hi Ann", steps[0].GetProperty("subject").GetString());
        // Both parts as they would be sent: the template, then the footer (no public URL configured: opt-out by reply).
        Assert.Equal("Hello Ann from Sales Team\n\nDon't want to hear from me again? Unsubscribe: reply with \"unsubscribe\"\n", steps[0].GetProperty("textBody").GetString());
        Assert.StartsWith("<div dir=\"auto\"><p style=\"margin:0 0 1em 0\">Hello Ann from Sales Team</p><div class=\"footer\"", steps[0].GetProperty("htmlBody").GetString(), StringComparison.Ordinal);
        Assert.Equal("<mailto:", steps[0].GetProperty("headers").GetProperty("List-Unsubscribe").GetString()![..8]);
        Assert.False(steps[0].TryGetProperty("errors", out _));
        var wait = steps[1].GetProperty("wait");
        Assert.Equal((2, 3, false), (wait.GetProperty("days").GetInt32(), wait.GetProperty("hours").GetInt32(), wait.GetProperty("businessDays").GetBoolean()));
        Assert.Equal("Re: Hi Ann", steps[2].GetProperty("subject").GetString());
        Assert.StartsWith("Following up, Ann\n\n", steps[2].GetProperty("textBody").GetString(), StringComparison.Ordinal);
        var errors = steps[3].GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToArray();
        Assert.Contains("body", errors);
        Assert.False(steps[3].TryGetProperty("textBody", out _));

        var one = await http.PostJsonAsync(url, new { prospectId = prospect, stepId = "follow" }, HttpStatusCode.OK);
        var only = Assert.Single(one.GetProperty("steps").EnumerateArray());
        Assert.Equal("Re: Hi Ann", only.GetProperty("subject").GetString());

        Assert.Contains("prospectId", (await http.PostJsonAsync(url, new { prospectId = Guid.NewGuid() }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Contains("stepId", (await http.PostJsonAsync(url, new { prospectId = prospect, stepId = "nope" }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Contains("version", (await http.PostJsonAsync(url, new { prospectId = prospect, version = 7 }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Contains("mailboxId", (await http.PostJsonAsync(url, new { prospectId = prospect, mailboxId = Guid.NewGuid() }, HttpStatusCode.BadRequest)).ErrorKeys());
    }
}
