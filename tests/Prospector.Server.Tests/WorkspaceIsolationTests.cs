using System.Net;
using System.Net.Http.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class WorkspaceIsolationTests
{
    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task OtherWorkspace_SeesNothingAndCannotUseObjects_WhenObjectsBelongToWorkspaceA(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var a = app.Client();
        var mailbox = await a.CreateMailboxAsync();
        var sequence = await a.CreateSequenceAsync();
        var prospect = (await a.ImportProspectsAsync("ann@acme.example"))[0];
        var enrolled = await a.EnrollAsync(sequence, mailbox, prospect);
        var enrollment = enrolled.GetProperty("enrolled")[0].GetProperty("enrollmentId").GetGuid();

        // A sees its own objects (so B's 404s below are meaningful).
        Assert.Equal(HttpStatusCode.OK, (await a.GetAsync($"/api/enrollments/{enrollment}")).StatusCode);

        var (_, bKey) = await app.CreateWorkspaceAsync("other");
        var b = app.Client(bKey);
        foreach (var url in new[] { $"/api/mailboxes/{mailbox}", $"/api/sequences/{sequence}", $"/api/prospects/{prospect}", $"/api/enrollments/{enrollment}" })
        {
            using var response = await b.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{url} answered {(int)response.StatusCode} to workspace B");
        }

        Assert.DoesNotContain(mailbox, await b.ListIdsAsync("/api/mailboxes"));
        Assert.DoesNotContain(sequence, await b.ListIdsAsync("/api/sequences"));
        Assert.DoesNotContain(prospect, await b.ListIdsAsync("/api/prospects"));
        Assert.DoesNotContain(enrollment, await b.ListIdsAsync("/api/enrollments"));
        Assert.DoesNotContain(enrollment, await b.ListIdsAsync($"/api/enrollments?sequenceId={sequence}"));
        Assert.Empty(await b.ListIdsAsync($"/api/prospects?email=ann@acme.example"));

        // B enrolls A's prospect into B's own sequence with B's own mailbox: skipped as not found.
        var bMailbox = await b.CreateMailboxAsync("B", "b@example.com");
        var bSequence = await b.CreateSequenceAsync("B seq");
        var result = await b.EnrollAsync(bSequence, bMailbox, prospect);
        Assert.Empty(result.GetProperty("enrolled").EnumerateArray());
        var skipped = Assert.Single(result.GetProperty("skipped").EnumerateArray());
        Assert.Equal(prospect, skipped.GetProperty("prospectId").GetGuid());
        Assert.Equal("prospect_not_found", skipped.GetProperty("reason").GetString());

        // B uses A's mailbox with B's sequence and prospect: 400 naming mailboxId.
        var bProspect = (await b.ImportProspectsAsync("bob@b.example"))[0];
        var problem = await b.PostAsJsonAsync($"/api/sequences/{bSequence}/enrollments", new { prospectIds = new[] { bProspect }, mailboxId = mailbox })
            .ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Contains("mailboxId", problem.ErrorKeys());

        // B enrolls into A's sequence: 404.
        await b.PostAsJsonAsync($"/api/sequences/{sequence}/enrollments", new { prospectIds = new[] { bProspect }, mailboxId = bMailbox })
            .ExpectAsync(HttpStatusCode.NotFound);

        // Nothing of B leaked into A's enrollments.
        var aEnrollments = await a.ListIdsAsync("/api/enrollments");
        Assert.Equal([enrollment], aEnrollments);
    }
}
