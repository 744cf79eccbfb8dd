using System.Net;
using System.Net.Http.Json;
using Dapper;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Prospector.Core.Email;
using Prospector.Core.Sequences;
using Prospector.Server.Email;
using Prospector.Storage;
using Prospector.Testing;

namespace Prospector.Server.Tests;

/// <summary>
/// What prospects really receive: the app's own dispatcher sends through Postfix, the messages are read back from
/// Dovecot over IMAP and checked header by header and part by part.
/// </summary>
public sealed class EmailContentTests : IAsyncLifetime
{
    private const string PublicBase = "http://localhost";
    private ProspectorApp _app = null!;

    public async Task InitializeAsync()
        => _app = await ProspectorApp.StartAsync(SqlDialect.Postgres, new Dictionary<string, string?> { ["EmailOptions:PublicBaseUrl"] = PublicBase });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task TwoStepSequence_ArrivesAsMultipartWithSignatureFooterListUnsubscribe_AndTheFollowUpInTheSameThread()
    {
        var http = _app.Client();
        await http.PatchAsJsonAsync("/api/workspace", new { postalAddress = "Acme SAS\n1 rue de la Paix, 75002 Paris" }).ExpectAsync(HttpStatusCode.OK);
        var to = TestServices.MailUser(33, "c" + Guid.NewGuid().ToString("N")[..8]);
        var enrolled = await StepHarness.EnrollAsync(_app, new SequenceDefinition(
        [
            new EmailStep("e1", "Robots for {{ company }}", "Hi {{ first_name }},\n\nHow does {{ company }} handle <picking> & packing?\nSee https://acme.test/case"),
            new WaitStep("w1", TimeSpan.FromSeconds(1)),
            new EmailStep("e2", null, "Just bumping this, {{ first_name }}."),
        ]), email: to, company: "Globex & Co", dueAt: DateTimeOffset.UtcNow.AddHours(1));
        // The signature is set before the step falls due (the app's own dispatch loop would otherwise race the PATCH).
        await http.PatchAsJsonAsync($"/api/mailboxes/{enrolled.MailboxId}", new { signature = "Sam Sender\nHead of Sales, Initech" }).ExpectAsync(HttpStatusCode.OK);
        await DueNowAsync(enrolled.EnrollmentId);

        var sends = await SentAsync(enrolled.EnrollmentId, 2);
        var inbox = await InboxAsync(to, 2);
        var first = Assert.Single(inbox, m => m.MessageId == sends[0].MessageId);
        var second = Assert.Single(inbox, m => m.MessageId == sends[1].MessageId);

        // Headers: Message-ID from the send row, subject rendered, RFC 8058 list headers with a token for this send.
        Assert.Equal($"{sends[0].Id:N}@example.test", first.MessageId);
        Assert.Equal("Robots for Globex & Co", first.Subject);
        var listUnsubscribe = first.Headers["List-Unsubscribe"];
        Assert.Matches(@"^<http://localhost/u/[A-Za-z0-9_-]{43}>, <mailto:user40@example\.test\?subject=unsubscribe>$", listUnsubscribe!.Replace("\r\n", "", StringComparison.Ordinal).Replace("\t", "", StringComparison.Ordinal));
        Assert.Equal("List-Unsubscribe=One-Click", first.Headers["List-Unsubscribe-Post"]);
        var token = listUnsubscribe[(listUnsubscribe.IndexOf("/u/", StringComparison.Ordinal) + 3)..listUnsubscribe.IndexOf('>', StringComparison.Ordinal)];
        var signer = await _app.Services.GetRequiredService<PublicLinks>().SignerAsync(CancellationToken.None);
        Assert.True(signer.TryRead(LinkPurpose.Unsubscribe, token, out var tokenSendId));
        Assert.Equal(sends[0].Id, tokenSendId);

        // Bodies: multipart/alternative, text first, both from the one template, with signature and footer.
        var alternative = Assert.IsType<MultipartAlternative>(first.Body);
        Assert.Equal(["text/plain", "text/html"], alternative.Select(p => p.ContentType.MimeType).ToArray());
        var text = first.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.StartsWith("Hi Jane,\n\nHow does Globex & Co handle <picking> & packing?\nSee https://acme.test/case\n\n-- \nSam Sender\nHead of Sales, Initech\n\nAcme SAS\n1 rue de la Paix, 75002 Paris\nDon't want to hear from me again? Unsubscribe: http://localhost/u/" + token, text, StringComparison.Ordinal);
        var html = first.HtmlBody!;
        Assert.Contains("How does Globex &amp; Co handle &lt;picking&gt; &amp; packing?", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://acme.test/case\">https://acme.test/case</a>", html, StringComparison.Ordinal);
        Assert.Contains("Sam Sender<br>", html, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"http://localhost/u/{token}\">unsubscribe</a>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("/t/o/", html, StringComparison.Ordinal);

        // Threading: "Re:" subject, In-Reply-To and References point at the first email; Dovecot threads them together.
        Assert.Equal("Re: Robots for Globex & Co", second.Subject);
        Assert.Equal(first.MessageId, second.InReplyTo);
        Assert.Equal(first.MessageId, Assert.Single(second.References));
        Assert.StartsWith("Just bumping this, Jane.\n\n-- \nSam Sender", second.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
        var threads = await ThreadsAsync(to);
        var thread = Assert.Single(threads);
        Assert.Equal(2, Count(thread));
    }

    [Fact]
    public async Task TheDeliveredUnsubscribeLink_GetOnlyShowsAPage_OneClickPostUnsubscribes_AndNoFollowUpGoesOut()
    {
        var to = TestServices.MailUser(36, "u" + Guid.NewGuid().ToString("N")[..8]);
        var enrolled = await StepHarness.EnrollAsync(_app, new SequenceDefinition(
        [
            new EmailStep("e1", "Hello", "Hi {{ first_name }}"),
            new WaitStep("w1", TimeSpan.FromDays(1)),
            new EmailStep("e2", null, "Bump"),
        ]), email: to);
        await SentAsync(enrolled.EnrollmentId, 1);
        var message = Assert.Single(await InboxAsync(to, 1));
        var header = message.Headers["List-Unsubscribe"]!;
        var url = new Uri(header[1..header.IndexOf('>', StringComparison.Ordinal)]);
        Assert.Contains(url.AbsoluteUri, message.TextBody, StringComparison.Ordinal);
        var http = _app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

        // A link scanner's GET: a confirmation page, nothing changes.
        var page = await http.GetAsync(url.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<form method=\"post\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("active", await StepHarness.ScalarAsync<string>(_app, "select state from enrollments where id = @id", new { id = enrolled.EnrollmentId }));
        Assert.Equal(0L, await StepHarness.ScalarAsync<long>(_app, "select count(*) from suppressions"));

        // The mailbox provider's one-click POST (RFC 8058): no auth, no cookie, no redirect.
        var post = await http.PostAsync(url.PathAndQuery, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Null(post.Headers.Location);
        Assert.False(post.Headers.Contains("Set-Cookie"));
        Assert.Equal("unsubscribed", await StepHarness.ScalarAsync<string>(_app, "select state from enrollments where id = @id", new { id = enrolled.EnrollmentId }));
        Assert.Equal(1L, await StepHarness.ScalarAsync<long>(_app, "select count(*) from suppressions where kind = 'address'"));

        // The follow-up falls due: nothing is sent.
        await StepHarness.ExecuteAsync(_app, "update enrollments set next_due_at = @now where id = @id", new { id = enrolled.EnrollmentId, now = DateTimeOffset.UtcNow });
        var dispatcher = _app.Services.GetRequiredService<Prospector.Server.Engine.Dispatcher>();
        for (var i = 0; i < 3; i++)
        {
            await dispatcher.RunOnceAsync(CancellationToken.None);
        }

        Assert.Equal(1L, await StepHarness.ScalarAsync<long>(_app, "select count(*) from sends where enrollment_id = @id", new { id = enrolled.EnrollmentId }));
    }

    [Fact]
    public async Task TrackedSequence_HasItsLinksRewrittenAndAPixel_InTheHtmlPartOnly()
    {
        var to = TestServices.MailUser(34, "t" + Guid.NewGuid().ToString("N")[..8]);
        var enrolled = await StepHarness.EnrollAsync(_app, new SequenceDefinition(
        [
            new EmailStep("e1", "Tracked", "<p>Hello {{ first_name }}, read <a href=\"https://acme.test/case?x=1&amp;y=2\">our case</a>.</p>"),
        ]), email: to, dueAt: DateTimeOffset.UtcNow.AddHours(1));
        await StepHarness.ExecuteAsync(_app, "update sequences set track_opens = true, track_clicks = true where id = @id", new { id = enrolled.SequenceId });
        await DueNowAsync(enrolled.EnrollmentId);

        var sends = await SentAsync(enrolled.EnrollmentId, 1);
        var message = Assert.Single(await InboxAsync(to, 1));
        var signer = await _app.Services.GetRequiredService<PublicLinks>().SignerAsync(CancellationToken.None);

        var html = message.HtmlBody!;
        var target = "https://acme.test/case?x=1&y=2";
        var clickToken = signer.Token(LinkPurpose.Click, sends[0].Id, target);
        Assert.Contains($"href=\"http://localhost/t/c/{clickToken}?u={WebUtility.HtmlEncode(Uri.EscapeDataString(target))}\"", html, StringComparison.Ordinal);
        Assert.Contains($"<img src=\"http://localhost/t/o/{signer.Token(LinkPurpose.Open, sends[0].Id)}\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"https://acme.test", html, StringComparison.Ordinal);
        Assert.Contains("our case <https://acme.test/case?x=1&y=2>", message.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("/t/", message.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FooterOff_LeavesBodiesBare_ButKeepsListUnsubscribe()
    {
        var http = _app.Client();
        var shown = await http.PatchAsJsonAsync("/api/workspace", new { postalAddress = "Nowhere 1", settings = new { footerEnabled = false } }).ExpectAsync(HttpStatusCode.OK);
        Assert.False(shown.GetProperty("settings").GetProperty("footerEnabled").GetBoolean());
        Assert.Equal(MessageComposer.DefaultFooterText, shown.GetProperty("settings").GetProperty("footerText").GetString());

        var to = TestServices.MailUser(35, "f" + Guid.NewGuid().ToString("N")[..8]);
        var enrolled = await StepHarness.EnrollAsync(_app, new SequenceDefinition([new EmailStep("e1", "Bare", "Hi {{ first_name }}")]), email: to);

        await SentAsync(enrolled.EnrollmentId, 1);
        var message = Assert.Single(await InboxAsync(to, 1));

        Assert.Equal("Hi Jane", message.TextBody!.TrimEnd());
        Assert.DoesNotContain("Nowhere", message.HtmlBody, StringComparison.Ordinal);
        Assert.StartsWith("<http://localhost/u/", message.Headers["List-Unsubscribe"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task WorkspaceFooterText_IsValidated_AndShown()
    {
        var http = _app.Client();
        var problem = await http.PatchAsJsonAsync("/api/workspace", new { settings = new { footerText = new string('x', 1001) } }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("settings.footerText", out _));

        var saved = await http.PatchAsJsonAsync("/api/workspace", new { settings = new { footerText = "Opt out: {unsubscribe}" } }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Opt out: {unsubscribe}", saved.GetProperty("settings").GetProperty("footerText").GetString());
        var reset = await http.PatchAsJsonAsync("/api/workspace", new { settings = new { footerText = "" } }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(MessageComposer.DefaultFooterText, reset.GetProperty("settings").GetProperty("footerText").GetString());
    }

    private Task DueNowAsync(Guid enrollmentId)
        => StepHarness.ExecuteAsync(_app, "update enrollments set next_due_at = @now where id = @enrollmentId", new { enrollmentId, now = DateTimeOffset.UtcNow });

    private async Task<IReadOnlyList<SendRecord>> SentAsync(Guid enrollmentId, int count)
        => await StepHarness.UntilAsync(_app, async () =>
        {
            await using var c = await _app.Database.Database.OpenAsync();
            var rows = (await c.QueryAsync<SendRecord>(
                "select id, message_id, state from sends where enrollment_id = @enrollmentId order by created_at", new { enrollmentId })).AsList();
            return rows.Count == count && rows.All(r => r.State == "sent") ? rows : null;
        }, $"{count} sent email(s)");

    private static async Task<IReadOnlyList<MimeMessage>> InboxAsync(string to, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            using var imap = await OpenAsync(to);
            var uids = await imap.Inbox.SearchAsync(SearchQuery.ToContains(to));
            if (uids.Count >= count || DateTime.UtcNow > deadline)
            {
                var messages = new List<MimeMessage>();
                foreach (var uid in uids)
                {
                    messages.Add(await imap.Inbox.GetMessageAsync(uid));
                }

                return messages;
            }

            await Task.Delay(200);
        }
    }

    private static async Task<IList<MessageThread>> ThreadsAsync(string to)
    {
        using var imap = await OpenAsync(to);
        return await imap.Inbox.ThreadAsync(ThreadingAlgorithm.References, SearchQuery.ToContains(to));
    }

    private static async Task<ImapClient> OpenAsync(string to)
    {
        var (host, port) = TestServices.Imap;
        var imap = new ImapClient();
        await imap.ConnectAsync(host, port, SecureSocketOptions.None);
        await imap.AuthenticateAsync(to[..to.IndexOf('+', StringComparison.Ordinal)] + "@" + TestServices.MailDomain, TestServices.MailPassword);
        await imap.Inbox.OpenAsync(FolderAccess.ReadOnly);
        return imap;
    }

    private static int Count(MessageThread thread) => (thread.UniqueId is null ? 0 : 1) + thread.Children.Sum(Count);

    private sealed class SendRecord
    {
        public Guid Id { get; init; }
        public string MessageId { get; init; } = "";
        public string State { get; init; } = "";
    }
}
