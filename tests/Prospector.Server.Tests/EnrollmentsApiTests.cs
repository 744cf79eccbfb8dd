using System.Net;
using System.Net.Http.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class EnrollmentsApiTests
{
    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task Enroll_ReportsAlreadyEnrolledAndShowsActiveEnrollment_WhenSameProspectEnrolledTwice(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();
        var mailbox = await http.CreateMailboxAsync();
        var sequence = await http.CreateSequenceAsync();
        var prospects = await http.ImportProspectsAsync("ann@acme.example", "bob@acme.example");
        var missing = Guid.NewGuid();

        var first = await http.EnrollAsync(sequence, mailbox, prospects[0], missing);
        var enrolled = Assert.Single(first.GetProperty("enrolled").EnumerateArray());
        Assert.Equal(prospects[0], enrolled.GetProperty("prospectId").GetGuid());
        var skippedMissing = Assert.Single(first.GetProperty("skipped").EnumerateArray());
        Assert.Equal(missing, skippedMissing.GetProperty("prospectId").GetGuid());
        Assert.Equal("prospect_not_found", skippedMissing.GetProperty("reason").GetString());
        var enrollmentId = enrolled.GetProperty("enrollmentId").GetGuid();

        var second = await http.EnrollAsync(sequence, mailbox, prospects[0], prospects[1]);
        Assert.Equal([prospects[1]], second.GetProperty("enrolled").EnumerateArray().Select(e => e.GetProperty("prospectId").GetGuid()).ToArray());
        var again = Assert.Single(second.GetProperty("skipped").EnumerateArray());
        Assert.Equal(prospects[0], again.GetProperty("prospectId").GetGuid());
        Assert.Equal("already_enrolled", again.GetProperty("reason").GetString());

        var detail = await http.GetAsync($"/api/enrollments/{enrollmentId}").ExpectAsync(HttpStatusCode.OK);
        var enrollment = detail.GetProperty("enrollment");
        Assert.Equal(enrollmentId, enrollment.GetProperty("id").GetGuid());
        Assert.Equal(sequence, enrollment.GetProperty("sequenceId").GetGuid());
        Assert.Equal(prospects[0], enrollment.GetProperty("prospectId").GetGuid());
        Assert.Equal(mailbox, enrollment.GetProperty("mailboxId").GetGuid());
        Assert.Equal("active", enrollment.GetProperty("state").GetString());
        Assert.Contains("enrolled", detail.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()));

        var list = await http.ListIdsAsync($"/api/enrollments?sequenceId={sequence}");
        Assert.Equal(2, list.Length);
        Assert.Contains(enrollmentId, list);
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task Enroll_Returns400Or404_WhenInputsInvalid(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();
        var mailbox = await http.CreateMailboxAsync();
        var sequence = await http.CreateSequenceAsync();

        var empty = await http.PostAsJsonAsync($"/api/sequences/{sequence}/enrollments", new { prospectIds = Array.Empty<Guid>(), mailboxId = Guid.NewGuid() })
            .ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["mailboxId", "prospectIds"], empty.ErrorKeys().Order(StringComparer.Ordinal).ToArray());

        await http.PostAsJsonAsync($"/api/sequences/{Guid.NewGuid()}/enrollments", new { prospectIds = new[] { Guid.NewGuid() }, mailboxId = mailbox })
            .ExpectAsync(HttpStatusCode.NotFound);
        await http.GetAsync($"/api/enrollments/{Guid.NewGuid()}").ExpectAsync(HttpStatusCode.NotFound);
    }
}
