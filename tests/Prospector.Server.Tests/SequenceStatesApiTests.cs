using System.Net;
using System.Net.Http.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class SequenceStatesApiTests
{
    [Fact]
    public async Task PauseResumeArchive_FollowTheStateMachine_AndArchiveEndsEnrollments()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();
        var mailbox = await http.CreateMailboxAsync();
        var sequence = await http.CreateSequenceAsync();
        var prospects = await http.ImportProspectsAsync("ann@acme.example", "bob@acme.example");
        var enrollment = (await http.EnrollAsync(sequence, mailbox, prospects[0])).EnrolledIds()[0];
        string Url(string action) => $"/api/sequences/{sequence}/{action}";

        await http.PostAsync(Url("resume"), null).ExpectAsync(HttpStatusCode.Conflict);
        Assert.Equal("paused", (await http.PostAsync(Url("pause"), null).ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        await http.PostAsync(Url("pause"), null).ExpectAsync(HttpStatusCode.Conflict);

        // A paused sequence takes no new enrollments.
        await http.PostAsJsonAsync(Url("enrollments"), new { prospectIds = new[] { prospects[1] }, mailboxIds = new[] { mailbox } })
            .ExpectAsync(HttpStatusCode.Conflict);
        Assert.Equal("active", (await http.PostAsync(Url("resume"), null).ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());

        var archived = await http.PostAsync(Url("archive"), null).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("archived", archived.GetProperty("state").GetString());
        var detail = await http.EnrollmentAsync(enrollment);
        Assert.Equal(("stopped", "sequence_archived"),
            (detail.GetProperty("enrollment").GetProperty("state").GetString(), detail.GetProperty("enrollment").GetProperty("stopReason").GetString()));
        var events = detail.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()!).ToArray();
        Assert.Equal(["enrolled", "sequence_paused", "sequence_resumed", "sequence_archived"], events.Where(e => e is "enrolled" || e.StartsWith("sequence_", StringComparison.Ordinal)).ToArray());

        // Archived is final: no transition, no edit, no enrollment, no migration.
        foreach (var action in new[] { "pause", "resume", "archive" })
        {
            await http.PostAsync(Url(action), null).ExpectAsync(HttpStatusCode.Conflict);
        }

        await http.PutAsJsonAsync($"/api/sequences/{sequence}", new { steps = SequenceTestKit.ThreeEmails() }).ExpectAsync(HttpStatusCode.Conflict);
        await http.PostAsJsonAsync(Url("enrollments"), new { prospectIds = new[] { prospects[1] }, mailboxIds = new[] { mailbox } })
            .ExpectAsync(HttpStatusCode.Conflict);
        await http.PostAsJsonAsync(Url("migrations"), new { fromVersion = 1 }).ExpectAsync(HttpStatusCode.Conflict);
        Assert.Equal([sequence], await http.ListIdsAsync("/api/sequences?state=archived"));
    }
}
