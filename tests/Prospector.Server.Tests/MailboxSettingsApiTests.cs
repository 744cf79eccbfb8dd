using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Prospector.Server.Security;
using Prospector.Storage;
using Prospector.Storage.Stores;
using Prospector.Testing;

namespace Prospector.Server.Tests;

/// <summary>Mailbox signature, time zone, sending window, owner, PATCH, archive, paging and the live connection test.</summary>
public class MailboxSettingsApiTests
{
    [Fact]
    public async Task Create_StoresScheduleFields_AndDefaultsThem()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var admin = app.Client();
        var owner = (await admin.PostAsJsonAsync("/api/owners", new { name = "Ann" }).ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();

        var created = await admin.PostAsJsonAsync("/api/mailboxes", new
        {
            name = "Ann", fromAddress = "ann@acme.example", smtp = ApiTestKit.Smtp(), ownerId = owner, dailyCap = 40,
            signature = "--\r\nAnn Lee\r\nAcme", timeZone = "Europe/Paris",
            sendingWindow = new { start = "08:30", end = "17:30", days = new[] { "wed", "mon", "fri" } },
        }).ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("--\r\nAnn Lee\r\nAcme", created.GetProperty("signature").GetString());
        Assert.Equal("Europe/Paris", created.GetProperty("timeZone").GetString());
        Assert.Equal(owner, created.GetProperty("ownerId").GetGuid());
        Assert.Equal("active", created.GetProperty("state").GetString());
        var window = created.GetProperty("sendingWindow");
        Assert.Equal(("08:30", "17:30"), (window.GetProperty("start").GetString(), window.GetProperty("end").GetString()));
        Assert.Equal(["mon", "wed", "fri"], window.GetProperty("days").EnumerateArray().Select(d => d.GetString()));

        var stored = await app.Services.GetRequiredService<MailboxStore>().GetAsync(
            (await admin.GetAsync("/api/workspace").ExpectAsync(HttpStatusCode.OK)).GetProperty("id").GetGuid(), created.GetProperty("id").GetGuid(), CancellationToken.None);
        Assert.Equal((510, 1050, "mon,wed,fri", 40), (stored!.WindowStartMinute, stored.WindowEndMinute, stored.WindowDays, stored.DailyCap));

        var plain = await admin.PostAsJsonAsync("/api/mailboxes", new { name = "Plain", fromAddress = "p@acme.example", smtp = ApiTestKit.Smtp() })
            .ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("UTC", plain.GetProperty("timeZone").GetString());
        Assert.Equal(JsonValueKind.Null, plain.GetProperty("signature").ValueKind);
        Assert.Equal(("08:00", "18:00"), (plain.GetProperty("sendingWindow").GetProperty("start").GetString(), plain.GetProperty("sendingWindow").GetProperty("end").GetString()));
        Assert.Equal(5, plain.GetProperty("sendingWindow").GetProperty("days").GetArrayLength());
    }

    [Fact]
    public async Task Create_ListsEveryScheduleErrorAtOnce_AndRefusesHeaderLineBreaks()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var admin = app.Client();

        var problem = await admin.PostAsJsonAsync("/api/mailboxes", new
        {
            name = "Ann", fromAddress = "ann@acme.example", smtp = ApiTestKit.Smtp(), ownerId = Guid.NewGuid(), dailyCap = 0,
            signature = new string('x', 10_001), timeZone = "Mars/Olympus_Mons",
            sendingWindow = new { start = "8:30", end = "25:00", days = new[] { "mon", "mon", "someday" } },
        }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(
            ["dailyCap", "ownerId", "sendingWindow.days[1]", "sendingWindow.days[2]", "sendingWindow.end", "sendingWindow.start", "signature", "timeZone"],
            problem.ErrorKeys().Order(StringComparer.Ordinal));

        var order = await admin.PostAsJsonAsync("/api/mailboxes", new
        {
            name = "Ann", fromAddress = "ann@acme.example", smtp = ApiTestKit.Smtp(), sendingWindow = new { start = "17:00", end = "09:00", days = Array.Empty<string>() },
        }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["sendingWindow.days", "sendingWindow.end"], order.ErrorKeys().Order(StringComparer.Ordinal));

        // Every value that becomes a mail header refuses CR, LF and NUL, even at the edges where trimming would hide it.
        var headers = await admin.PostAsJsonAsync("/api/mailboxes", new
        {
            name = "Ann\r\n", fromAddress = "ann@acme.example\n", fromName = "A\0B",
            smtp = new { host = "smtp.example.com", port = 587, username = "u\r\nBcc: x@evil.example", password = "p" },
            imap = new { host = "imap.example.com", port = 993, username = "u\n", password = "p" },
        }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["fromAddress", "fromName", "imap.username", "name", "smtp.username"], headers.ErrorKeys().Order(StringComparer.Ordinal));
        Assert.Empty(await admin.ListIdsAsync("/api/mailboxes"));
    }

    [Fact]
    public async Task Patch_ChangesOnlyGivenFields_KeepsOrReplacesPasswords_AndDeleteArchives()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var admin = app.Client();
        var id = await admin.CreateMailboxAsync();
        var workspace = (await admin.GetAsync("/api/workspace").ExpectAsync(HttpStatusCode.OK)).GetProperty("id").GetGuid();
        var store = app.Services.GetRequiredService<MailboxStore>();
        var secrets = app.Services.GetRequiredService<SecretProtector>();
        var before = (await store.GetAsync(workspace, id, CancellationToken.None))!;

        var patched = await admin.PatchAsJsonAsync($"/api/mailboxes/{id}", new { name = "Renamed", signature = "Best,\nAnn" }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("Renamed", "sales@example.com", "Best,\nAnn", 100), (patched.GetProperty("name").GetString(), patched.GetProperty("fromAddress").GetString(),
            patched.GetProperty("signature").GetString(), patched.GetProperty("dailyCap").GetInt32()));
        Assert.True(patched.GetProperty("smtpPasswordSet").GetBoolean());
        var kept = (await store.GetAsync(workspace, id, CancellationToken.None))!;
        Assert.Equal(before.SmtpPasswordProtected, kept.SmtpPasswordProtected);
        Assert.Equal(("StartTls", "smtp.example.com", 587), (kept.SmtpSecurity, kept.SmtpHost, kept.SmtpPort));

        using var replaced = await admin.PatchAsJsonAsync($"/api/mailboxes/{id}", new { smtp = new { password = "n3w-Secret!" }, timeZone = "America/New_York" });
        var replacedText = await replaced.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.DoesNotContain("n3w-Secret!", replacedText, StringComparison.Ordinal);
        var after = (await store.GetAsync(workspace, id, CancellationToken.None))!;
        Assert.Equal("n3w-Secret!", secrets.Unprotect(after.SmtpPasswordProtected));
        Assert.Equal(("America/New_York", "Renamed", "smtp.example.com"), (after.TimeZone, after.Name, after.SmtpHost));

        // Invalid patches change nothing and name every bad field.
        var bad = await admin.PatchAsJsonAsync($"/api/mailboxes/{id}", new
        {
            fromName = "x\r\nBcc: y@evil.example", timeZone = "Nowhere/Town", sendingWindow = new { start = "10:00", end = "10:00", days = new[] { "mon" } },
            smtp = new { port = 70000 },
        }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["fromName", "sendingWindow.end", "smtp.port", "timeZone"], bad.ErrorKeys().Order(StringComparer.Ordinal));
        Assert.Equal("America/New_York", (await store.GetAsync(workspace, id, CancellationToken.None))!.TimeZone);
        Assert.Contains("password", (await admin.PatchAsJsonAsync($"/api/mailboxes/{id}", new { password = "x" }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["imap.port"], (await admin.PatchAsJsonAsync($"/api/mailboxes/{id}", new { imap = new { host = "imap.example.com" } })
            .ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());

        // Delete archives; the mailbox stays readable and shows under state=archived.
        await admin.DeleteAsync($"/api/mailboxes/{id}").ExpectAsync(HttpStatusCode.NoContent);
        Assert.Equal("archived", (await admin.GetAsync($"/api/mailboxes/{id}").ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        Assert.Equal([id], await admin.ListIdsAsync("/api/mailboxes?state=archived"));
        Assert.Empty(await admin.ListIdsAsync("/api/mailboxes?state=active"));
        await admin.PatchAsJsonAsync($"/api/mailboxes/{Guid.NewGuid()}", new { name = "x" }).ExpectAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task List_IsPagedByCursor()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var admin = app.Client();
        var ids = new[] { await admin.CreateMailboxAsync("A", "a@example.com"), await admin.CreateMailboxAsync("B", "b@example.com"), await admin.CreateMailboxAsync("C", "c@example.com") };

        var first = await admin.GetAsync("/api/mailboxes?limit=2").ExpectAsync(HttpStatusCode.OK);
        var cursor = first.GetProperty("nextCursor").GetGuid();
        var second = await admin.GetAsync($"/api/mailboxes?limit=2&after={cursor}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);
        Assert.Equal(ids.Order(), first.GetProperty("items").Ids().Concat(second.GetProperty("items").Ids()).Order());
    }

    [Fact]
    public async Task Test_ConnectsForReal_AndNamesTheFailingStep()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var admin = app.Client();
        var (smtpHost, smtpPort) = TestServices.Smtp;
        var (imapHost, imapPort) = TestServices.Imap;
        var user = TestServices.MailUser(20);
        var id = (await admin.PostAsJsonAsync("/api/mailboxes", new
        {
            name = "User 20", fromAddress = user,
            smtp = new { host = smtpHost, port = smtpPort, security = "none" },
            imap = new { host = imapHost, port = imapPort, security = "none", username = user, password = TestServices.MailPassword },
        }).ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();

        var ok = await admin.PostAsync($"/api/mailboxes/{id}/test", null).ExpectAsync(HttpStatusCode.OK);
        Assert.True(ok.GetProperty("succeeded").GetBoolean(), ok.ToString());
        Assert.True(ok.GetProperty("smtp").GetProperty("succeeded").GetBoolean());
        Assert.True(ok.GetProperty("imap").GetProperty("succeeded").GetBoolean());
        Assert.Equal(JsonValueKind.Null, ok.GetProperty("imap").GetProperty("failedStep").ValueKind);

        // Nothing listens on this port: SMTP fails at connect; IMAP still works.
        await admin.PatchAsJsonAsync($"/api/mailboxes/{id}", new { smtp = new { port = ClosedPort() } }).ExpectAsync(HttpStatusCode.OK);
        var connect = await admin.PostAsync($"/api/mailboxes/{id}/test", null).ExpectAsync(HttpStatusCode.OK);
        Assert.False(connect.GetProperty("succeeded").GetBoolean());
        Assert.Equal("connect", connect.GetProperty("smtp").GetProperty("failedStep").GetString());
        Assert.StartsWith("SMTP connect failed", connect.GetProperty("smtp").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(connect.GetProperty("imap").GetProperty("succeeded").GetBoolean());

        // Wrong IMAP password: fails at login (auth), and the answer never contains the password.
        const string wrong = "Wr0ng-Pa55word-xyz";
        await admin.PatchAsJsonAsync($"/api/mailboxes/{id}", new { smtp = new { port = smtpPort }, imap = new { password = wrong } }).ExpectAsync(HttpStatusCode.OK);
        using var loginResponse = await admin.PostAsync($"/api/mailboxes/{id}/test", null);
        var loginText = await loginResponse.Content.ReadAsStringAsync();
        Assert.DoesNotContain(wrong, loginText, StringComparison.Ordinal);
        var login = JsonDocument.Parse(loginText).RootElement;
        Assert.True(login.GetProperty("smtp").GetProperty("succeeded").GetBoolean());
        Assert.Equal("auth", login.GetProperty("imap").GetProperty("failedStep").GetString());
        Assert.StartsWith("IMAP auth failed", login.GetProperty("imap").GetProperty("message").GetString(), StringComparison.Ordinal);

        // Right password, unknown folder: fails at select.
        await admin.PatchAsJsonAsync($"/api/mailboxes/{id}", new { imap = new { password = TestServices.MailPassword, folder = "No-Such-Folder" } }).ExpectAsync(HttpStatusCode.OK);
        var select = await admin.PostAsync($"/api/mailboxes/{id}/test", null).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("select", select.GetProperty("imap").GetProperty("failedStep").GetString());
        Assert.StartsWith("IMAP select failed", select.GetProperty("imap").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(select.GetProperty("smtp").GetProperty("succeeded").GetBoolean());

        await admin.PostAsync($"/api/mailboxes/{Guid.NewGuid()}/test", null).ExpectAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Body_Returns413ProblemDetails_WhenOneByteOverTheLimit()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var admin = app.Client();
        const int limit = 10 * 1024 * 1024;

        // A syntactically valid JSON body of exactly limit + 1 bytes.
        var prefix = "{\"name\":\"";
        var suffix = "\",\"role\":\"sdr\"}";
        var json = prefix + new string('a', limit + 1 - prefix.Length - suffix.Length) + suffix;
        Assert.Equal(limit + 1, Encoding.UTF8.GetByteCount(json));
        using var response = await admin.PostAsync("/api/keys", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Equal(413, problem.GetProperty("status").GetInt32());
        Assert.Single((await admin.GetAsync("/api/keys").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        // At the limit the body is read (and here refused for its content, not its size).
        var atLimit = json[..^(suffix.Length + 1)] + suffix;
        using var ok = await admin.PostAsync("/api/keys", new StringContent(atLimit, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, ok.StatusCode);
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
