using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Prospector.Storage;
using Prospector.Storage.Stores;

namespace Prospector.Server.Tests;

public class SequenceEnrollApiTests
{
    [Fact]
    public async Task Enroll_SkipsEachProspectWithItsReason_AndEnrollsTheRest()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();
        var ws = await app.DefaultWorkspaceAsync();
        var mailbox = await http.CreateMailboxAsync();
        var sequence = await http.CreateSequenceAsync();
        var other = await http.CreateSequenceAsync("Other");
        var p = await http.ImportProspectsAsync("ok@acme.example", "blocked@acme.example", "again@acme.example", "busy@acme.example",
            "replier@corp.example", "colleague@corp.example");
        var (ok, blocked, again, busy, replier, colleague) = (p[0], p[1], p[2], p[3], p[4], p[5]);
        await app.Services.GetRequiredService<SuppressionStore>().AddAsync(ws, "Blocked@acme.example", "manual", DateTimeOffset.UtcNow, CancellationToken.None);
        await http.EnrollPoolAsync(sequence, [mailbox], again);
        await http.EnrollPoolAsync(other, [mailbox], busy);
        // The import files both corp.example prospects under one company (by email domain).
        Assert.Equal(1L, await app.ScalarAsync<long>(
            "select count(distinct company_id) from prospects where id = any(@ids) and company_id is not null", new { ids = new[] { replier, colleague } }));
        var replied = (await http.EnrollPoolAsync(other, [mailbox], replier)).EnrolledIds()[0];
        await app.SqlAsync("update enrollments set state = 'replied' where id = @replied", new { replied });
        var linkedInOnly = Guid.NewGuid();
        await app.SqlAsync(
            """
            insert into prospects (id, workspace_id, linkedin_url, linkedin_url_normalized, first_name, custom_fields, created_at, updated_at)
            values (@linkedInOnly, @ws, 'https://www.linkedin.com/in/lio', 'linkedin.com/in/lio', 'Li', '{}', @now, @now)
            """, new { linkedInOnly, ws, now = DateTimeOffset.UtcNow });
        var missing = Guid.NewGuid();

        var result = await http.EnrollPoolAsync(sequence, [mailbox], ok, blocked, again, busy, colleague, linkedInOnly, missing);

        Assert.Equal([ok], result.GetProperty("enrolled").EnumerateArray().Select(e => e.GetProperty("prospectId").GetGuid()).ToArray());
        Assert.Equal(
            [(blocked, "suppressed"), (again, "already_enrolled"), (busy, "active_in_other_sequence"), (colleague, "same_company_replied"),
             (linkedInOnly, "no_email"), (missing, "prospect_not_found")],
            result.SkipReasons());
        Assert.Equal(2L, await app.ScalarAsync<long>("select count(*) from enrollments where sequence_id = @sequence", new { sequence }));

        // Skipping prospects active elsewhere can be switched off per call.
        var allowed = await http.PostJsonAsync($"/api/sequences/{sequence}/enrollments",
            new { prospectIds = new[] { busy }, mailboxIds = new[] { mailbox }, skipActiveInOtherSequences = false }, HttpStatusCode.OK);
        Assert.Equal(busy, Assert.Single(allowed.GetProperty("enrolled").EnumerateArray()).GetProperty("prospectId").GetGuid());
    }

    [Fact]
    public async Task Enroll_RotatesOverThePoolLeastLoadedFirst_AndKeepsTheMailboxOnTheEnrollment()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();
        var busyMailbox = await http.CreateMailboxAsync("A", "a@example.com");
        var idleMailbox = await http.CreateMailboxAsync("B", "b@example.com");
        var other = await http.CreateSequenceAsync("Other");
        var earlier = await http.ImportProspectsAsync("e1@x.example", "e2@x.example");
        await http.EnrollPoolAsync(other, [busyMailbox], earlier);
        var sequence = await http.CreateSequenceAsync();
        var prospects = await http.ImportProspectsAsync("p1@y.example", "p2@y.example", "p3@y.example", "p4@y.example", "p5@y.example", "p6@y.example");

        var result = await http.EnrollPoolAsync(sequence, [busyMailbox, idleMailbox], prospects);

        var assigned = result.GetProperty("enrolled").EnumerateArray()
            .Select(e => (Enrollment: e.GetProperty("enrollmentId").GetGuid(), Mailbox: e.GetProperty("mailboxId").GetGuid())).ToArray();
        // A carries 2 already: B takes the first two, then they alternate (A first on ties).
        Assert.Equal([idleMailbox, idleMailbox, busyMailbox, idleMailbox, busyMailbox, idleMailbox], assigned.Select(a => a.Mailbox).ToArray());
        foreach (var (enrollment, mailbox) in assigned)
        {
            Assert.Equal(mailbox, (await http.EnrollmentAsync(enrollment)).GetProperty("enrollment").GetProperty("mailboxId").GetGuid());
        }
    }

    [Fact]
    public async Task Enroll_EnrollsAnAudience_AndRefusesBadInputWithPaths()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();
        var ws = await app.DefaultWorkspaceAsync();
        var mailbox = await http.CreateMailboxAsync();
        var inactive = await http.CreateMailboxAsync("Off", "off@example.com");
        await app.SqlAsync("update mailboxes set state = 'disabled' where id = @inactive", new { inactive });
        var sequence = await http.CreateSequenceAsync();
        var members = await http.ImportProspectsAsync("m1@acme.example", "m2@acme.example");
        var outsider = (await http.ImportProspectsAsync("out@acme.example"))[0];
        var audience = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await app.SqlAsync("insert into audiences (id, workspace_id, name, created_at, updated_at) values (@audience, @ws, 'Aud', @now, @now)", new { audience, ws, now });
        await app.SqlAsync("insert into audience_members (audience_id, prospect_id, added_at) select @audience, unnest(@members), @now", new { audience, members, now });
        var url = $"/api/sequences/{sequence}/enrollments";

        var result = await http.PostJsonAsync(url, new { audienceId = audience, mailboxIds = new[] { mailbox } }, HttpStatusCode.OK);

        Assert.Equal(members.Order(), result.GetProperty("enrolled").EnumerateArray().Select(e => e.GetProperty("prospectId").GetGuid()).Order());
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from enrollments where prospect_id = @outsider", new { outsider }));

        Assert.Equal(["mailboxIds[1]"], (await http.PostJsonAsync(url, new { prospectIds = new[] { outsider }, mailboxIds = new[] { mailbox, inactive } }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["mailboxIds"], (await http.PostJsonAsync(url, new { prospectIds = new[] { outsider }, mailboxIds = Array.Empty<Guid>() }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["prospectIds"], (await http.PostJsonAsync(url, new { mailboxIds = new[] { mailbox } }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["audienceId"], (await http.PostJsonAsync(url, new { prospectIds = new[] { outsider }, audienceId = audience, mailboxIds = new[] { mailbox } }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["audienceId"], (await http.PostJsonAsync(url, new { audienceId = Guid.NewGuid(), mailboxIds = new[] { mailbox } }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["ownerId"], (await http.PostJsonAsync(url, new { prospectIds = new[] { outsider }, mailboxIds = new[] { mailbox }, ownerId = Guid.NewGuid() }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["version"], (await http.PostJsonAsync(url, new { prospectIds = new[] { outsider }, mailboxIds = new[] { mailbox }, version = 4 }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from enrollments where prospect_id = @outsider", new { outsider }));
    }

    [Fact]
    public async Task SequenceItemRoutes_Answer404_ToAnotherWorkspace()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var a = app.Client();
        var mailbox = await a.CreateMailboxAsync();
        var sequence = await a.CreateSequenceAsync();
        var prospect = (await a.ImportProspectsAsync("ann@acme.example"))[0];
        await a.EnrollAsync(sequence, mailbox, prospect);
        var (_, bKey) = await app.CreateWorkspaceAsync("other");
        var b = app.Client(bKey);
        var bMailbox = await b.CreateMailboxAsync("B", "b@example.com");
        var bProspect = (await b.ImportProspectsAsync("bob@b.example"))[0];

        await b.GetAsync($"/api/sequences/{sequence}/versions").ExpectAsync(HttpStatusCode.NotFound);
        await b.GetAsync($"/api/sequences/{sequence}/versions/1").ExpectAsync(HttpStatusCode.NotFound);
        await b.PutAsJsonAsync($"/api/sequences/{sequence}", new { steps = SequenceTestKit.ThreeEmails() }).ExpectAsync(HttpStatusCode.NotFound);
        foreach (var action in new[] { "pause", "resume", "archive" })
        {
            await b.PostAsync($"/api/sequences/{sequence}/{action}", null).ExpectAsync(HttpStatusCode.NotFound);
        }

        await b.PostAsJsonAsync($"/api/sequences/{sequence}/migrations", new { fromVersion = 1 }).ExpectAsync(HttpStatusCode.NotFound);
        await b.PostAsJsonAsync($"/api/sequences/{sequence}/preview", new { prospectId = bProspect }).ExpectAsync(HttpStatusCode.NotFound);
        await b.PostAsJsonAsync($"/api/sequences/{sequence}/enrollments", new { prospectIds = new[] { bProspect }, mailboxIds = new[] { bMailbox } })
            .ExpectAsync(HttpStatusCode.NotFound);
        Assert.Empty(await b.ListIdsAsync("/api/sequences?state=active"));

        // B's own sequence cannot preview A's prospect nor send from A's mailbox.
        var bSequence = await b.CreateSequenceAsync("B seq");
        Assert.Contains("prospectId", (await b.PostJsonAsync($"/api/sequences/{bSequence}/preview", new { prospectId = prospect }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Contains("mailboxId", (await b.PostJsonAsync($"/api/sequences/{bSequence}/preview", new { prospectId = bProspect, mailboxId = mailbox }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Contains("mailboxIds[0]", (await b.PostJsonAsync($"/api/sequences/{bSequence}/enrollments", new { prospectIds = new[] { bProspect }, mailboxIds = new[] { mailbox } }, HttpStatusCode.BadRequest)).ErrorKeys());

        // A's sequence is untouched.
        var still = await a.GetAsync($"/api/sequences/{sequence}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("active", 1), (still.GetProperty("state").GetString(), still.GetProperty("version").GetInt32()));
    }
}
