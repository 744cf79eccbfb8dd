using System.Net;
using System.Net.Http.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class SqliteApiSmokeTests
{
    [Fact]
    public async Task Api_CreatesEnrollsAndIsolates_WhenStorageIsSqlite()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Sqlite);
        var http = app.Client();
        Assert.Equal("all", (await app.CreateClient().GetAsync("/health").ExpectAsync(HttpStatusCode.OK)).GetProperty("role").GetString());

        var mailbox = await http.CreateMailboxAsync();
        var sequence = await http.CreateSequenceAsync();
        var prospects = await http.ImportProspectsAsync("ann@acme.example", "bob@acme.example");
        var reimport = await http.PostAsJsonAsync("/api/prospects", new { prospects = new[] { ApiTestKit.Prospect("ANN@acme.example") } }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, reimport.GetProperty("updated").GetInt32());

        var csv = await http.ImportAndWaitAsync("email,tz\ncid@acme.example,Europe/Berlin\nbad,\n");
        Assert.Equal((2, 2, 1, 0, 1), csv.Counts());
        Assert.Equal(3, Assert.Single(await http.ImportErrorsAsync(csv.GetProperty("id").GetGuid())).Row);
        Assert.Equal(3, (await http.ListIdsAsync("/api/prospects")).Length);

        var enrolled = await http.EnrollAsync(sequence, mailbox, prospects);
        Assert.Equal(2, enrolled.GetProperty("enrolled").GetArrayLength());
        var again = await http.EnrollAsync(sequence, mailbox, prospects[0]);
        Assert.Equal("already_enrolled", Assert.Single(again.GetProperty("skipped").EnumerateArray()).GetProperty("reason").GetString());
        var enrollment = enrolled.GetProperty("enrolled")[0].GetProperty("enrollmentId").GetGuid();
        var detail = await http.GetAsync($"/api/enrollments/{enrollment}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("active", detail.GetProperty("enrollment").GetProperty("state").GetString());

        var bad = await http.PostRawAsync("/api/mailboxes", """{"name":"x","fromAddress":"x@example.com","smtp":{"hots":"h","port":1}}""").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Contains("smtp.hots", bad.ErrorKeys());

        var (_, otherKey) = await app.CreateWorkspaceAsync("other");
        var other = app.Client(otherKey);
        await other.GetAsync($"/api/mailboxes/{mailbox}").ExpectAsync(HttpStatusCode.NotFound);
        await other.GetAsync($"/api/sequences/{sequence}").ExpectAsync(HttpStatusCode.NotFound);
        await other.GetAsync($"/api/prospects/{prospects[0]}").ExpectAsync(HttpStatusCode.NotFound);
        await other.GetAsync($"/api/enrollments/{enrollment}").ExpectAsync(HttpStatusCode.NotFound);
        Assert.Empty(await other.ListIdsAsync("/api/prospects"));
        Assert.Empty(await other.ListIdsAsync("/api/enrollments"));
    }
}
