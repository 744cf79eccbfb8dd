using System.Net;
using System.Net.Http.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class SequenceVersionsApiTests
{
    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task Put_StoresVersionTwoAndKeepsEnrollmentsOnOne_WhenSequenceIsEdited(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();
        var mailbox = await http.CreateMailboxAsync();
        var sequence = await http.CreateSequenceAsync();
        var prospect = (await http.ImportProspectsAsync("ann@acme.example"))[0];
        var enrollment = (await http.EnrollAsync(sequence, mailbox, prospect)).EnrolledIds()[0];

        var edited = await http.PutAsJsonAsync($"/api/sequences/{sequence}", new { name = "Outreach v2", steps = SequenceTestKit.ThreeEmails() })
            .ExpectAsync(HttpStatusCode.OK);

        Assert.Equal((2, "Outreach v2"), (edited.GetProperty("version").GetInt32(), edited.GetProperty("name").GetString()));
        Assert.Equal(4, edited.GetProperty("steps").GetArrayLength());
        var versions = await http.GetAsync($"/api/sequences/{sequence}/versions").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([(1, 1L), (2, 0L)], versions.EnumerateArray()
            .Select(v => (v.GetProperty("version").GetInt32(), v.GetProperty("runningEnrollments").GetInt64())).ToArray());
        var v1 = await http.GetAsync($"/api/sequences/{sequence}/versions/1").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(3, v1.GetProperty("steps").GetArrayLength());
        await http.GetAsync($"/api/sequences/{sequence}/versions/3").ExpectAsync(HttpStatusCode.NotFound);
        Assert.Equal(1, (await http.EnrollmentAsync(enrollment)).GetProperty("enrollment").GetProperty("sequenceVersion").GetInt32());

        // New enrollments go to the newest version unless one is asked for.
        var later = await http.ImportProspectsAsync("bob@acme.example", "cy@acme.example");
        var newest = await http.EnrollAsync(sequence, mailbox, later[0]);
        Assert.Equal(2, newest.GetProperty("version").GetInt32());
        var pinned = await http.PostJsonAsync($"/api/sequences/{sequence}/enrollments", new { prospectIds = new[] { later[1] }, mailboxIds = new[] { mailbox }, version = 1 }, HttpStatusCode.OK);
        Assert.Equal(1, (await http.EnrollmentAsync(pinned.EnrolledIds()[0])).GetProperty("enrollment").GetProperty("sequenceVersion").GetInt32());

        // Invalid steps: 400 with paths, no version 3.
        var bad = await http.PutAsJsonAsync($"/api/sequences/{sequence}", new { steps = new object[] { new { id = "x", type = "email" } } })
            .ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Contains("steps[0].body", bad.ErrorKeys());
        Assert.Equal(2, (await http.GetAsync($"/api/sequences/{sequence}").ExpectAsync(HttpStatusCode.OK)).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task List_PagesAndFiltersOnState()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await http.CreateSequenceAsync($"S{i}"));
        }

        await http.PostAsync($"/api/sequences/{ids[1]}/pause", null).ExpectAsync(HttpStatusCode.OK);

        var page1 = await http.GetAsync("/api/sequences?limit=2").ExpectAsync(HttpStatusCode.OK);
        var cursor = page1.GetProperty("nextCursor").GetGuid();
        var page2 = await http.GetAsync($"/api/sequences?limit=2&after={cursor}").ExpectAsync(HttpStatusCode.OK);
        // UUIDv7 ids created within one millisecond are not ordered among themselves: compare with the store's id order.
        Assert.Equal(ids.OrderBy(g => g.ToString(), StringComparer.Ordinal), page1.GetProperty("items").Ids().Concat(page2.GetProperty("items").Ids()));
        Assert.Equal(JsonNull, page2.GetProperty("nextCursor").ValueKind);
        Assert.Equal([ids[1]], await http.ListIdsAsync("/api/sequences?state=paused"));
        Assert.Equal(new[] { ids[0], ids[2] }.Order(), (await http.ListIdsAsync("/api/sequences?state=active")).Order());
        Assert.Contains("state", (await http.GetAsync("/api/sequences?state=deleted").ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
    }

    private const System.Text.Json.JsonValueKind JsonNull = System.Text.Json.JsonValueKind.Null;
}
