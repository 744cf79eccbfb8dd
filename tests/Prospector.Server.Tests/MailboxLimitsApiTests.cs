using System.Net;
using System.Net.Http.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

/// <summary>Mailbox limits (hourly cap, gap, ramp-up) and mailbox pause/resume through the API.</summary>
public class MailboxLimitsApiTests
{
    [Fact]
    public async Task Limits_AreStoredShownPatchedAndValidated_AndPauseResumeFollowTheState()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, new Dictionary<string, string?> { ["role"] = "api" });
        var http = app.Client();
        var started = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var created = await http.PostJsonAsync("/api/mailboxes", new
        {
            name = "Limits", fromAddress = "limits@example.com", dailyCap = 40, hourlyCap = 10, minGapSeconds = 90,
            rampUp = new { startPerDay = 5, stepPerDay = 5, startedAt = started },
            smtp = new { host = "smtp.example.com", port = 587, security = "starttls" },
        }, HttpStatusCode.Created);
        var id = created.GetProperty("id").GetGuid();
        Assert.Equal(10, created.GetProperty("hourlyCap").GetInt32());
        Assert.Equal(90, created.GetProperty("minGapSeconds").GetInt32());
        Assert.Equal(5, created.GetProperty("rampUp").GetProperty("startPerDay").GetInt32());
        Assert.Equal(started, created.GetProperty("rampUp").GetProperty("startedAt").GetDateTimeOffset());

        // 0 removes the hourly cap and the ramp-up; omitted fields keep their value.
        var patched = await http.PatchAsJsonAsync($"/api/mailboxes/{id}", new { hourlyCap = 0, rampUp = new { startPerDay = 0, stepPerDay = 0 } }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, patched.GetProperty("hourlyCap").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, patched.GetProperty("rampUp").ValueKind);
        Assert.Equal(90, patched.GetProperty("minGapSeconds").GetInt32());

        // Every limit error at once, nothing changed.
        var bad = await http.PatchAsJsonAsync($"/api/mailboxes/{id}", new { hourlyCap = 41, minGapSeconds = -1, rampUp = new { startPerDay = 50, stepPerDay = 1 } })
            .ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["hourlyCap", "minGapSeconds", "rampUp.startPerDay"], bad.ErrorKeys().Order(StringComparer.Ordinal));
        Assert.Equal(90, (await http.GetAsync($"/api/mailboxes/{id}").ExpectAsync(HttpStatusCode.OK)).GetProperty("minGapSeconds").GetInt32());

        // Pause and resume follow the state: a second pause or a resume of an active mailbox is a conflict.
        Assert.Equal("paused", (await http.PostAsync($"/api/mailboxes/{id}/pause", null).ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        await http.PostAsync($"/api/mailboxes/{id}/pause", null).ExpectAsync(HttpStatusCode.Conflict);
        Assert.Equal([id], await http.ListIdsAsync("/api/mailboxes?state=paused"));
        Assert.Equal("active", (await http.PostAsync($"/api/mailboxes/{id}/resume", null).ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        await http.PostAsync($"/api/mailboxes/{id}/resume", null).ExpectAsync(HttpStatusCode.Conflict);

        // The workspace: admin pause/resume with the same rule.
        Assert.Equal("paused", (await http.PostAsync("/api/workspace/pause", null).ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        await http.PostAsync("/api/workspace/pause", null).ExpectAsync(HttpStatusCode.Conflict);
        Assert.Equal("active", (await http.PostAsync("/api/workspace/resume", null).ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
    }
}
