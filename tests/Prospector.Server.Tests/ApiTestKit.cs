using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Prospector.Server.Tests;

/// <summary>Small helpers for API behaviour tests: creating objects and reading problem responses.</summary>
internal static class ApiTestKit
{
    public const string SmtpPassword = "s3cret-Plaintext-Pa55!";

    public static object MailboxBody(string name = "Sales", string from = "sales@example.com", string? password = SmtpPassword) => new
    {
        name,
        fromAddress = from,
        fromName = "Sales Team",
        dailyCap = 100,
        smtp = new { host = "smtp.example.com", port = 587, security = "starttls", username = from, password },
        imap = (object?)null,
    };

    /// <summary>A prospect with every field present (explicit nulls); OptionalMembersTests covers omitted members.</summary>
    public static object Prospect(string email, string? firstName = null, string? timeZone = null, string? company = null) => new
    {
        email, firstName, lastName = (string?)null, company, companyDomain = (string?)null, timeZone, customFields = (object?)null,
    };

    public static object Smtp(string host = "smtp.example.com", int port = 587, string? security = null)
        => new { host, port, security, username = (string?)null, password = (string?)null };

    public static object SequenceBody(string name = "Outreach") => new
    {
        name,
        steps = new object[]
        {
            new { id = "intro", type = "email", subject = "Hi {{ first_name }}", body = "Hello {{ first_name }}" },
            new { id = "pause", type = "wait", days = 2, hours = 3 },
            new { id = "follow", type = "email", body = "Following up" },
        },
    };

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    public static async Task<JsonElement> ExpectAsync(this Task<HttpResponseMessage> call, HttpStatusCode status)
    {
        using var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        if (text.Length == 0)
        {
            return default;
        }

        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    public static async Task<Guid> CreateMailboxAsync(this HttpClient http, string name = "Sales", string from = "sales@example.com")
        => (await http.PostAsJsonAsync("/api/mailboxes", MailboxBody(name, from)).ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();

    public static async Task<Guid> CreateSequenceAsync(this HttpClient http, string name = "Outreach")
        => (await http.PostAsJsonAsync("/api/sequences", SequenceBody(name)).ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();

    public static async Task<Guid[]> ImportProspectsAsync(this HttpClient http, params string[] emails)
    {
        var body = new { prospects = emails.Select(e => Prospect(e, "Ann")).ToArray() };
        var result = await http.PostAsJsonAsync("/api/prospects", body).ExpectAsync(HttpStatusCode.OK);
        return result.GetProperty("ids").EnumerateArray().Select(i => i.GetGuid()).ToArray();
    }

    public static async Task<JsonElement> EnrollAsync(this HttpClient http, Guid sequenceId, Guid mailboxId, params Guid[] prospectIds)
        => await http.PostAsJsonAsync($"/api/sequences/{sequenceId}/enrollments", new { prospectIds, mailboxId }).ExpectAsync(HttpStatusCode.OK);

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient http, string url, string body, string contentType = "application/json")
        => http.PostAsync(url, new StringContent(body, Encoding.UTF8, contentType));

    /// <summary>The keys of a ValidationProblem's "errors" object.</summary>
    public static string[] ErrorKeys(this JsonElement problem)
    {
        Assert.True(problem.TryGetProperty("errors", out var errors), $"no 'errors' in {problem}");
        return errors.EnumerateObject().Select(p => p.Name).ToArray();
    }

    public static Guid[] Ids(this JsonElement array) => array.EnumerateArray().Select(e => e.GetProperty("id").GetGuid()).ToArray();

    public static async Task<Guid[]> ListIdsAsync(this HttpClient http, string url)
    {
        var json = await http.GetAsync(url).ExpectAsync(HttpStatusCode.OK);
        return (json.ValueKind == JsonValueKind.Array ? json : json.GetProperty("items")).Ids();
    }
}
