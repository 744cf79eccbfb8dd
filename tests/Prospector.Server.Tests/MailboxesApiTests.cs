using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class MailboxesApiTests
{
    [Fact]
    public async Task Create_Returns201WithoutPasswordAndEncryptsIt_WhenPasswordGiven()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();

        using var response = await http.PostAsJsonAsync("/api/mailboxes", ApiTestKit.MailboxBody());
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.DoesNotContain(ApiTestKit.SmtpPassword, text, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(text);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.DoesNotContain(names, n => n.Contains("password", StringComparison.OrdinalIgnoreCase) && n != "smtpPasswordSet" && n != "imapPasswordSet");
        Assert.DoesNotContain("\"password\"", text, StringComparison.OrdinalIgnoreCase);
        Assert.True(doc.RootElement.GetProperty("smtpPasswordSet").GetBoolean());
        Assert.False(doc.RootElement.GetProperty("imapPasswordSet").GetBoolean());
        var id = doc.RootElement.GetProperty("id").GetGuid();
        Assert.EndsWith($"/api/mailboxes/{id}", response.Headers.Location?.ToString());

        // GET and list do not reveal it either.
        var one = await (await http.GetAsync($"/api/mailboxes/{id}")).Content.ReadAsStringAsync();
        var all = await (await http.GetAsync("/api/mailboxes")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(ApiTestKit.SmtpPassword, one, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiTestKit.SmtpPassword, all, StringComparison.Ordinal);
        Assert.Contains(id.ToString(), all, StringComparison.Ordinal);

        var database = app.Services.GetRequiredService<Database>();
        await using var connection = await database.OpenAsync();
        var stored = await connection.QuerySingleAsync<string?>(
            database.Sql("select smtp_password_protected from mailboxes where id = @id", "select smtp_password_protected from mailboxes where id = @id"),
            new { id = database.Dialect == SqlDialect.Postgres ? (object)id : id.ToString() });
        Assert.False(string.IsNullOrEmpty(stored));
        Assert.NotEqual(ApiTestKit.SmtpPassword, stored);
        Assert.DoesNotContain(ApiTestKit.SmtpPassword, stored!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_Returns400NamingFields_WhenFromNameHasCrLfOrSecurityOrAddressBad()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();

        var crlf = await http.PostAsJsonAsync("/api/mailboxes", new
        {
            name = "Sales", fromAddress = "sales@example.com", fromName = "Sales\r\nBcc: victim@example.com",
            smtp = ApiTestKit.Smtp(), dailyCap = (int?)null, imap = (object?)null,
        }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Contains("fromName", crlf.ErrorKeys());

        var security = await http.PostAsJsonAsync("/api/mailboxes", new
        {
            name = "Sales", fromAddress = "sales@example.com", fromName = (string?)null, dailyCap = (int?)null, imap = (object?)null, smtp = ApiTestKit.Smtp(security: "quantum"),
        }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["smtp.security"], security.ErrorKeys());

        var address = await http.PostAsJsonAsync("/api/mailboxes", new
        {
            name = "Sales", fromAddress = "not-an-address", fromName = (string?)null, smtp = ApiTestKit.Smtp(), dailyCap = (int?)null, imap = (object?)null,
        }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["fromAddress"], address.ErrorKeys());

        // All at once: every path reported.
        var many = await http.PostAsJsonAsync("/api/mailboxes", new
        {
            name = "Sales", fromAddress = "nope", fromName = "a\nb", dailyCap = (int?)null, imap = (object?)null, smtp = ApiTestKit.Smtp(port: 0, security: "x"),
        }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["fromAddress", "fromName", "smtp.port", "smtp.security"], many.ErrorKeys().Order(StringComparer.Ordinal).ToArray());

        Assert.Empty(await http.ListIdsAsync("/api/mailboxes"));
    }
}
