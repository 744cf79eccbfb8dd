using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MimeKit;
using Prospector.Crm.Webhook;
using Prospector.Server.Tests;
using Prospector.Storage;
using Prospector.Testing;
using Xunit.Abstractions;

namespace Prospector.EndToEnd.Tests;

/// <summary>
/// The walking skeleton end to end, on real PostgreSQL or the embedded SQLite store, real Postfix and Dovecot, and a
/// real HTTP receiver for the CRM: three prospects in a two-step sequence. A replies (sequence stops, lead qualified and
/// pushed with a valid signature), B's address bounces with a real DSN (stopped, suppressed), C stays silent and gets
/// the follow-up, threaded under the first email.
/// </summary>
public sealed class ProspectJourneyTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData(SqlDialect.Postgres, 30)]
    [InlineData(SqlDialect.Sqlite, 35)]
    public async Task Journey_StopsRepliedAndBouncedProspects_FollowsUpTheSilentOne(SqlDialect dialect, int firstUser)
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var sender = TestServices.MailUser(firstUser);
        var (aLogin, cLogin) = (TestServices.MailUser(firstUser + 1), TestServices.MailUser(firstUser + 2));
        var a = TestServices.MailUser(firstUser + 1, tag);
        var b = $"nobody-{tag}@bounce.test";
        var c = TestServices.MailUser(firstUser + 2, tag);

        await using var crm = await CrmReceiver.StartAsync();
        await using var app = await ProspectorApp.StartAsync(dialect, new Dictionary<string, string?> { ["MailboxSyncOptions:InitialLookback"] = "00:00:00" });
        var http = app.Client();
        var (smtpHost, smtpPort) = TestServices.Smtp;
        var (imapHost, imapPort) = TestServices.Imap;

        var secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
        await Ok(http.PutAsJsonAsync("/api/crm/connection", new { kind = "webhook", url = crm.Url.ToString(), secret }));
        var mailbox = await Read(http.PostAsJsonAsync("/api/mailboxes", new
        {
            name = "SDR", fromAddress = sender, fromName = "Sam Seller", dailyCap = 100,
            smtp = new { host = smtpHost, port = smtpPort, security = "none" },
            imap = new { host = imapHost, port = imapPort, security = "none", username = sender, password = TestServices.MailPassword },
            // Open all week, all day: the journey runs now, whatever the day and the prospects' zones.
            sendingWindow = new { start = "00:00", end = "24:00", days = new[] { "mon", "tue", "wed", "thu", "fri", "sat", "sun" } },
        }));
        // Prospects first: the sequence's {{ custom.run }} is checked against the workspace's known custom fields.
        var imported = await Read(http.PostAsJsonAsync("/api/prospects", new
        {
            prospects = new[]
            {
                new { email = a, firstName = "Ada", lastName = "Able", company = "Acme", companyDomain = "acme.example", timeZone = "Europe/Paris", title = "VP Sales", customFields = new Dictionary<string, string> { ["run"] = tag } },
                new { email = b, firstName = "Bob", lastName = "Bounce", company = "Bogus", companyDomain = "bogus.example", timeZone = "America/New_York", title = "CTO", customFields = new Dictionary<string, string> { ["run"] = tag } },
                new { email = c, firstName = "Cy", lastName = "Calm", company = "Calm Co", companyDomain = "calm.example", timeZone = "Asia/Tokyo", title = "Engineer", customFields = new Dictionary<string, string> { ["run"] = tag } },
            },
        }));
        var sequence = await Read(http.PostAsJsonAsync("/api/sequences", new
        {
            name = "Skeleton " + tag,
            steps = new object[]
            {
                new { id = "intro", type = "email", subject = "Idea for {{ company }} [{{ custom.run }}]", body = "Hi {{ first_name }},\n\nWorth a chat?\n\n{{ sender_name }}" },
                new { id = "pause", type = "wait", seconds = (int)Wait.TotalSeconds },
                new { id = "bump", type = "email", body = "Hi {{ first_name | default: 'there' }}, bumping this up." },
            },
        }));
        var prospectIds = imported.GetProperty("ids").EnumerateArray().Select(e => e.GetGuid()).ToArray();
        var enrolled = await Read(http.PostAsJsonAsync($"/api/sequences/{sequence.GetProperty("id").GetGuid()}/enrollments",
            new { prospectIds, mailboxId = mailbox.GetProperty("id").GetGuid() }));
        var enrollment = enrolled.GetProperty("enrolled").EnumerateArray()
            .ToDictionary(e => e.GetProperty("prospectId").GetGuid(), e => e.GetProperty("enrollmentId").GetGuid());
        Assert.Equal(3, enrollment.Count);
        var (ea, eb, ec) = (enrollment[prospectIds[0]], enrollment[prospectIds[1]], enrollment[prospectIds[2]]);

        // Step 1 reaches A's real mailbox; A answers it like a person would.
        var intro = (await Mail.WaitForAsync(aLogin, a, m => m.Count >= 1, TimeSpan.FromSeconds(30), "step 1 to A"))[0];
        Assert.Equal($"Idea for Acme [{tag}]", intro.Subject);
        Assert.Contains("Hi Ada,", intro.TextBody, StringComparison.Ordinal);
        var reply = new MimeMessage();
        reply.From.Add(MailboxAddress.Parse(a));
        reply.To.Add(MailboxAddress.Parse(sender));
        reply.Subject = "Re: " + intro.Subject;
        reply.InReplyTo = intro.MessageId;
        reply.References.Add(intro.MessageId!);
        reply.Body = new TextPart("plain") { Text = $"Sounds interesting, could we schedule a call next week?\n\nOn Monday, Sam Seller <{sender}> wrote:\n> Hi Ada,\n> Worth a chat?" };
        await Mail.SendAsync(reply);

        // A stops as replied and is qualified; B bounces (Postfix's real DSN lands in the sender's INBOX).
        var detailA = await WaitForState(http, ea, "replied");
        var detailB = await WaitForState(http, eb, "bounced");
        Assert.Equal("replied", detailA.GetProperty("enrollment").GetProperty("stopReason").GetString());
        var qualification = detailA.GetProperty("qualifications")[0];
        Assert.True(qualification.GetProperty("qualified").GetBoolean());
        Assert.Contains(qualification.GetProperty("reasons").EnumerateArray(), r => r.GetProperty("rule").GetString() == "meeting_intent");
        Assert.Equal("hard_bounce", detailB.GetProperty("enrollment").GetProperty("stopReason").GetString());

        // C, silent, gets step 2 in the same thread.
        var detailC = await WaitForState(http, ec, "completed", timeout: Wait + TimeSpan.FromSeconds(30));
        Assert.Equal(new[] { "sent", "sent" }, detailC.GetProperty("sends").EnumerateArray().Select(s => s.GetProperty("state").GetString()!).ToArray());
        var cMail = await Mail.WaitForAsync(cLogin, c, m => m.Count >= 2, TimeSpan.FromSeconds(15), "step 2 to C");
        var cIntro = cMail.Single(m => m.InReplyTo is null);
        var bump = cMail.Single(m => m.InReplyTo is not null);
        Assert.Equal("Re: " + cIntro.Subject, bump.Subject);
        Assert.Equal(cIntro.MessageId, bump.InReplyTo);
        Assert.Contains(cIntro.MessageId, bump.References);
        Assert.Contains("Hi Cy, bumping this up.", bump.TextBody, StringComparison.Ordinal);

        // A and B never got step 2: one send each, and A's mailbox holds only the first email.
        Assert.Single(detailA.GetProperty("sends").EnumerateArray());
        Assert.Single((await Detail(http, eb)).GetProperty("sends").EnumerateArray());
        Assert.Single(await Mail.InboxAsync(aLogin, a));
        Assert.Equal("replied", (await Detail(http, ea)).GetProperty("enrollment").GetProperty("state").GetString());

        // The CRM got A, once, signed per Standard Webhooks.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (crm.Requests.IsEmpty && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        var push = Assert.Single(crm.Requests);
        output.WriteLine(push.Body);
        Assert.True(StandardWebhookSignature.Verify(secret, push.Id, push.Timestamp, push.Signature, push.Body));
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(
            Convert.FromBase64String(secret["whsec_".Length..]), Encoding.UTF8.GetBytes($"{push.Id}.{push.Timestamp}.{push.Body}")));
        Assert.Contains(expected, push.Signature!.Split(' '));
        using var lead = JsonDocument.Parse(push.Body);
        Assert.Equal("lead.qualified", lead.RootElement.GetProperty("type").GetString());
        Assert.Equal(a, lead.RootElement.GetProperty("data").GetProperty("prospect").GetProperty("email").GetString());
        Assert.StartsWith("Sounds interesting", lead.RootElement.GetProperty("data").GetProperty("reply").GetProperty("text").GetString(), StringComparison.Ordinal);
        var outbox = await Read(http.GetAsync("/api/crm/outbox"));
        Assert.Equal("delivered", Assert.Single(outbox.EnumerateArray()).GetProperty("state").GetString());
    }

    private static async Task<JsonElement> WaitForState(HttpClient http, Guid enrollmentId, string state, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var detail = await Detail(http, enrollmentId);
            var current = detail.GetProperty("enrollment").GetProperty("state").GetString();
            if (current == state)
            {
                return detail;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"enrollment {enrollmentId} is '{current}', expected '{state}': {detail}");
            }

            await Task.Delay(250);
        }
    }

    private static Task<JsonElement> Detail(HttpClient http, Guid enrollmentId) => Read(http.GetAsync($"/api/enrollments/{enrollmentId}"));

    private static async Task Ok(Task<HttpResponseMessage> call)
    {
        var response = await call;
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonElement> Read(Task<HttpResponseMessage> call)
    {
        var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
