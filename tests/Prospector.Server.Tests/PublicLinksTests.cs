using System.Net;
using Dapper;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Prospector.Core.Email;
using Prospector.Core.Sequences;
using Prospector.Server.Email;
using Prospector.Storage;

namespace Prospector.Server.Tests;

/// <summary>A clock that runs with the real one, shifted by <see cref="Offset"/> (moved forward by tests).</summary>
internal sealed class ShiftedClock : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}

/// <summary>The public link endpoints through the real app: a real send by the dispatcher, then the recipient's requests.</summary>
public class PublicLinksTests
{
    private const string Chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    private const string GmailProxy = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";

    private static readonly SequenceDefinition TwoEmails = new(
    [
        new EmailStep("e1", "Hello {{ first_name }}", "Hi {{ first_name }}."),
        new WaitStep("w1", TimeSpan.FromDays(1)),
        new EmailStep("e2", null, "Following up."),
    ]);

    private static async Task<Guid> SentAsync(ProspectorApp app, Guid enrollmentId, string stepId = "e1")
        => Guid.Parse(await StepHarness.UntilAsync(app, () => StepHarness.ScalarAsync<string?>(app,
            "select cast(id as text) from sends where enrollment_id = @enrollmentId and step_id = @stepId and state = 'sent'", new { enrollmentId, stepId }), $"send {stepId}"));

    private static async Task<string> TokenAsync(ProspectorApp app, LinkPurpose purpose, Guid sendId, string? url = null)
        => (await app.Services.GetRequiredService<PublicLinks>().SignerAsync(CancellationToken.None)).Token(purpose, sendId, url);

    private static string Tamper(string token) => (token[0] == 'A' ? "B" : "A") + token[1..];

    private static Task<string> StateAsync(ProspectorApp app, Guid enrollmentId)
        => StepHarness.ScalarAsync<string>(app, "select state from enrollments where id = @enrollmentId", new { enrollmentId });

    private static Task<long> SuppressedCountAsync(ProspectorApp app, Guid workspaceId)
        => StepHarness.ScalarAsync<long>(app, "select count(*) from suppressions where workspace_id = @workspaceId", new { workspaceId });

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task Unsubscribe_GetChangesNothing_PostSuppressesAndStopsEveryRunningEnrollment(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var s = await StepHarness.EnrollAsync(app, TwoEmails);
        // The same prospect in a second sequence, not due yet.
        var otherSequence = Guid.NewGuid();
        var other = Guid.NewGuid();
        await StepHarness.ExecuteAsync(app,
            """
            insert into sequences (id, workspace_id, name, state, version, definition, created_at, updated_at)
            select @otherSequence, workspace_id, 'second', 'active', 1, definition, created_at, updated_at from sequences where id = @SequenceId;
            insert into sequence_versions (sequence_id, version, definition, created_at) select @otherSequence, 1, definition, created_at from sequences where id = @SequenceId;
            insert into enrollments (id, workspace_id, sequence_id, sequence_version, prospect_id, mailbox_id, state, current_step, next_due_at, created_at, updated_at)
            select @other, workspace_id, @otherSequence, 1, prospect_id, mailbox_id, 'active', 0, @later, created_at, updated_at from enrollments where id = @EnrollmentId;
            """, new { otherSequence, other, s.SequenceId, s.EnrollmentId, later = DateTimeOffset.UtcNow.AddDays(1) });
        var sendId = await SentAsync(app, s.EnrollmentId);
        var token = await TokenAsync(app, LinkPurpose.Unsubscribe, sendId);
        var email = await StepHarness.ScalarAsync<string>(app, "select email from prospects where id = @ProspectId", new { s.ProspectId });
        var http = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

        // GET: a confirmation page that posts back to itself; nothing changes (link scanners fetch GETs).
        using (var page = await http.GetAsync($"/u/{token}"))
        {
            var html = await page.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("<form method=\"post\">", html, StringComparison.Ordinal);
            Assert.DoesNotContain(email, html, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("***@example.test", html, StringComparison.Ordinal);
            Assert.False(page.Headers.Contains("Set-Cookie"));
        }

        Assert.Equal(("active", "active", 0L), (await StateAsync(app, s.EnrollmentId), await StateAsync(app, other), await SuppressedCountAsync(app, s.WorkspaceId)));

        // Tampered or foreign-purpose tokens: 404 page, still nothing changes.
        foreach (var bad in new[] { Tamper(token), await TokenAsync(app, LinkPurpose.Open, sendId), new string('A', 65) })
        {
            using var get = await http.GetAsync($"/u/{bad}");
            using var post = await http.PostAsync($"/u/{bad}", new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
            Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (get.StatusCode, post.StatusCode));
            Assert.Equal("text/html", post.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(("active", 0L), (await StateAsync(app, s.EnrollmentId), await SuppressedCountAsync(app, s.WorkspaceId)));

        // POST (RFC 8058 body): suppressed, this and the other running enrollment unsubscribed; 200 page, no redirect, no cookie.
        using (var done = await http.PostAsync($"/u/{token}", new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")])))
        {
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
            Assert.Null(done.Headers.Location);
            Assert.False(done.Headers.Contains("Set-Cookie"));
            Assert.Contains("unsubscribed", await done.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }

        // Again, with an empty body: the same answer, nothing more recorded.
        using (var again = await http.PostAsync($"/u/{token}", null))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        Assert.Equal(("unsubscribed", "unsubscribed"), (await StateAsync(app, s.EnrollmentId), await StateAsync(app, other)));
        Assert.Equal("unsubscribe_link", await StepHarness.ScalarAsync<string>(app, "select stop_reason from enrollments where id = @EnrollmentId", new { s.EnrollmentId }));
        Assert.Single(await StepHarness.EventsAsync(app, s.EnrollmentId), e => e.Type == "unsubscribed" && e.Detail == "e1");
        Assert.Single(await StepHarness.EventsAsync(app, other), e => e.Type == "unsubscribed");
        var check = await app.Client().GetAsync($"/api/suppressions?email={Uri.EscapeDataString(email)}").ExpectAsync(HttpStatusCode.OK);
        Assert.True(check.GetProperty("suppressed").GetBoolean());
        var entry = Assert.Single(check.GetProperty("entries").EnumerateArray());
        Assert.Equal(("address", "unsubscribe_link"), (entry.GetProperty("kind").GetString(), entry.GetProperty("reason").GetString()));

        // The next step is never sent: not when it falls due, and not by a dispatcher that still believes the enrollment active.
        await StepHarness.ExecuteAsync(app, "update enrollments set next_due_at = @now where id = @EnrollmentId", new { s.EnrollmentId, now = DateTimeOffset.UtcNow });
        await app.Services.GetRequiredService<Engine.Dispatcher>().RunOnceAsync(CancellationToken.None);
        await StepHarness.ExecuteAsync(app, "update enrollments set state = 'active', current_step = 2, next_due_at = @now where id = @EnrollmentId", new { s.EnrollmentId, now = DateTimeOffset.UtcNow });
        await StepHarness.UntilAsync(app, async () => await StateAsync(app, s.EnrollmentId) == "suppressed" ? "" : null, "the pre-send suppression check");
        Assert.Equal(1L, await StepHarness.ScalarAsync<long>(app, "select count(*) from sends where enrollment_id in (@EnrollmentId, @other)", new { s.EnrollmentId, other }));
    }

    [Fact]
    public async Task OpenPixel_HumanOpenAfterAMinuteTakesOpenedBranch_GmailProxyOnlyFlagged()
    {
        var clock = new ShiftedClock();
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, clock: clock);
        var definition = new SequenceDefinition(
        [
            new EmailStep("e1", "Hello", "Hi."),
            new WaitStep("w1", TimeSpan.FromHours(1)),
            new BranchStep("b1", new EventCondition(BranchEvent.Opened), "c-opened", "c-not"),
            new CallStep("c-opened", "They read it"),
            new CallStep("c-not", "They did not"),
        ]);
        var human = await StepHarness.EnrollAsync(app, definition);
        var proxied = await StepHarness.EnrollAsync(app, definition);
        var humanSend = await SentAsync(app, human.EnrollmentId);
        var proxiedSend = await SentAsync(app, proxied.EnrollmentId);
        var http = app.CreateClient();

        clock.Offset = TimeSpan.FromSeconds(60);
        await PixelAsync(http, await TokenAsync(app, LinkPurpose.Open, humanSend), Chrome);
        await PixelAsync(http, await TokenAsync(app, LinkPurpose.Open, humanSend), Chrome);
        await PixelAsync(http, await TokenAsync(app, LinkPurpose.Open, proxiedSend), GmailProxy);
        // Invalid tokens still get the pixel and record nothing.
        await PixelAsync(http, Tamper(await TokenAsync(app, LinkPurpose.Open, proxiedSend)), Chrome);
        await PixelAsync(http, await TokenAsync(app, LinkPurpose.Unsubscribe, proxiedSend), Chrome);

        var hits = await HitsAsync(app);
        Assert.Equal(
            [(humanSend, "open", false, null), (humanSend, "open", false, null), (proxiedSend, "open", true, "google_image_proxy")],
            hits);
        Assert.Single(await StepHarness.EventsAsync(app, human.EnrollmentId), e => e.Type == "opened" && e.Detail == "e1");
        Assert.DoesNotContain(await StepHarness.EventsAsync(app, proxied.EnrollmentId), e => e.Type == "opened");

        // After the wait the branch reads the events: the human open takes "then", the proxy fetch does not count.
        clock.Offset = TimeSpan.FromHours(2);
        var opened = await StepHarness.UntilAsync(app, () => StepHarness.ScalarAsync<string?>(app, "select step_id from tasks where enrollment_id = @EnrollmentId", new { human.EnrollmentId }), "the human's task");
        var not = await StepHarness.UntilAsync(app, () => StepHarness.ScalarAsync<string?>(app, "select step_id from tasks where enrollment_id = @EnrollmentId", new { proxied.EnrollmentId }), "the proxied one's task");
        Assert.Equal(("c-opened", "c-not"), (opened, not));
    }

    [Fact]
    public async Task OpenPixel_IsFlaggedAsScanner_WhenFetchedWithinSecondsOfSend()
    {
        var clock = new ShiftedClock();
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, clock: clock);
        var s = await StepHarness.EnrollAsync(app, TwoEmails);
        var sendId = await SentAsync(app, s.EnrollmentId);

        await PixelAsync(app.CreateClient(), await TokenAsync(app, LinkPurpose.Open, sendId), Chrome);

        Assert.Equal([(sendId, "open", true, "too_soon_after_send")], await HitsAsync(app));
        Assert.DoesNotContain(await StepHarness.EventsAsync(app, s.EnrollmentId), e => e.Type == "opened");
    }

    [Fact]
    public async Task Click_Redirects302ToExactSignedUrl_AndRefusesAnyOtherWithoutLocation()
    {
        var clock = new ShiftedClock();
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, clock: clock);
        var s = await StepHarness.EnrollAsync(app, TwoEmails);
        var sendId = await SentAsync(app, s.EnrollmentId);
        var http = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        http.DefaultRequestHeaders.UserAgent.ParseAdd(Chrome);
        const string target = "https://www.example.com/pricing?plan=team&ref=a%20b#compare";
        var token = await TokenAsync(app, LinkPurpose.Click, sendId, target);
        clock.Offset = TimeSpan.FromMinutes(3);

        using (var click = await http.GetAsync($"/t/c/{token}?u={Uri.EscapeDataString(target)}"))
        {
            Assert.Equal(HttpStatusCode.Redirect, click.StatusCode);
            Assert.Equal(target, click.Headers.Location?.OriginalString);
            Assert.False(click.Headers.Contains("Set-Cookie"));
        }

        Assert.Equal([(sendId, "click", false, null)], await HitsAsync(app));
        Assert.Single(await StepHarness.EventsAsync(app, s.EnrollmentId), e => e.Type == "clicked" && e.Detail == "e1");

        // Another URL under the same token, a tampered token, a token of another purpose, no URL, a signed non-http
        // target, an over-long URL: 400 pages, never a Location, nothing recorded.
        const string script = "javascript:alert(1)";
        var longUrl = "https://www.example.com/?q=" + new string('x', 2000);
        var refused = new[]
        {
            $"/t/c/{token}?u={Uri.EscapeDataString("https://evil.example/")}",
            $"/t/c/{token}?u={Uri.EscapeDataString(target + "&x=1")}",
            $"/t/c/{Tamper(token)}?u={Uri.EscapeDataString(target)}",
            $"/t/c/{await TokenAsync(app, LinkPurpose.Open, sendId)}?u={Uri.EscapeDataString(target)}",
            $"/t/c/{token}",
            $"/t/c/{await TokenAsync(app, LinkPurpose.Click, sendId, script)}?u={Uri.EscapeDataString(script)}",
            $"/t/c/{await TokenAsync(app, LinkPurpose.Click, sendId, longUrl)}?u={Uri.EscapeDataString(longUrl)}",
        };
        foreach (var url in refused)
        {
            using var response = await http.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)response.StatusCode}");
            Assert.Null(response.Headers.Location);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Single(await HitsAsync(app));

        // A HEAD (a link checker) is answered like the GET but recorded as a machine hit; still one "clicked" event.
        using (var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/t/c/{token}?u={Uri.EscapeDataString(target)}")))
        {
            Assert.Equal((HttpStatusCode.Redirect, target), (head.StatusCode, head.Headers.Location?.OriginalString));
        }

        Assert.Equal([(sendId, "click", false, null), (sendId, "click", true, "head_request")], await HitsAsync(app));
        Assert.Single(await StepHarness.EventsAsync(app, s.EnrollmentId), e => e.Type == "clicked");
    }

    [Fact]
    public async Task DomainEntry_BlocksEnrollmentAndStopsDueSendBeforeSmtp()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var admin = app.Client();
        // A prospect of the harness (address at example.test), not due yet; then the whole domain is suppressed.
        var s = await StepHarness.EnrollAsync(app, TwoEmails, dueAt: DateTimeOffset.UtcNow.AddHours(1));
        await admin.PostAsJsonAsync("/api/suppressions", new { domain = "Example.TEST" }).ExpectAsync(HttpStatusCode.Created);

        // Enrolling another prospect at that domain: skipped as suppressed.
        // (The sequence waits a day first: the prospect who is enrolled gets no mail during the test.)
        var sequenceId = (await admin.PostAsJsonAsync("/api/sequences", new
        {
            name = "Blocked",
            steps = new object[] { new { id = "pause", type = "wait", days = 1, hours = 0 }, new { id = "intro", type = "email", subject = "Hi", body = "Hello" } },
        }).ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var prospects = await admin.ImportProspectsAsync("someone@example.test", "free@elsewhere.test");
        var enrolled = await admin.EnrollAsync(sequenceId, s.MailboxId, prospects);
        var skipped = Assert.Single(enrolled.GetProperty("skipped").EnumerateArray());
        Assert.Equal((prospects[0], "suppressed"), (skipped.GetProperty("prospectId").GetGuid(), skipped.GetProperty("reason").GetString()));
        Assert.Equal(prospects[1], Assert.Single(enrolled.GetProperty("enrolled").EnumerateArray()).GetProperty("prospectId").GetGuid());

        // The enrollment made before the entry falls due: stopped as suppressed, no send row (SMTP never reached).
        await StepHarness.ExecuteAsync(app, "update enrollments set next_due_at = @now where id = @EnrollmentId", new { s.EnrollmentId, now = DateTimeOffset.UtcNow });
        await StepHarness.UntilAsync(app, async () => await StateAsync(app, s.EnrollmentId) == "suppressed" ? "" : null, "the suppressed stop");
        Assert.Equal(0L, await StepHarness.ScalarAsync<long>(app, "select count(*) from sends where enrollment_id = @EnrollmentId", new { s.EnrollmentId }));
        Assert.Contains(await StepHarness.EventsAsync(app, s.EnrollmentId), e => e.Type == "stopped_suppressed");
    }

    private static async Task PixelAsync(HttpClient http, string token, string agent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/t/o/{token}");
        request.Headers.UserAgent.ParseAdd(agent);
        using var response = await http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/gif", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("GIF89a"u8.ToArray(), bytes[..6]);
        Assert.Equal((true, true), (response.Headers.CacheControl?.NoStore, response.Headers.CacheControl?.Private));
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    private static async Task<IReadOnlyList<(Guid, string, bool, string?)>> HitsAsync(ProspectorApp app)
    {
        await using var c = await app.Database.Database.OpenAsync();
        return (await c.QueryAsync<(Guid, string, bool, string?)>("select send_id, kind, machine, machine_reason from tracking_hits order by id")).AsList();
    }
}
