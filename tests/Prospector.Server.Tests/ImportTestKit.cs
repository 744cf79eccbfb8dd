using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapper;

namespace Prospector.Server.Tests;

/// <summary>Helpers for the streamed import API.</summary>
internal static class ImportTestKit
{
    /// <summary>
    /// Settings for import tests: the per-second recurring jobs of the default test app (mailbox sync, CRM outbox) pile up
    /// when the machine is overloaded and their DisableConcurrentExecution waits can hold every worker, starving the
    /// import job. These tests do not need them.
    /// </summary>
    public static Dictionary<string, string?> QuietJobs(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["MailboxSyncOptions:Cron"] = "0 0 1 1 *",
            ["CrmOptions:OutboxCron"] = "0 0 1 1 *",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    public static async Task<JsonElement> PostImportAsync(this HttpClient http, string body, string contentType = "text/csv", string query = "", bool bom = false)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        if (bom)
        {
            bytes = [.. Encoding.UTF8.GetPreamble(), .. bytes];
        }

        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await http.PostAsync("/api/imports" + query, content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"expected 202, got {(int)response.StatusCode}: {text}");
        var json = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal($"/api/imports/{json.GetProperty("id").GetGuid()}", response.Headers.Location?.OriginalString);
        return json;
    }

    /// <summary>Polls the import until it is completed or failed; returns the final resource.</summary>
    public static async Task<JsonElement> WaitImportAsync(this HttpClient http, Guid id, TimeSpan? timeout = null)
    {
        // Generous: on a shared, overloaded machine Hangfire can take a while to pick a job up.
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            var import = await http.GetAsync($"/api/imports/{id}").ExpectAsync(HttpStatusCode.OK);
            var state = import.GetProperty("state").GetString();
            if (state is "completed" or "failed")
            {
                return import;
            }

            Assert.True(DateTime.UtcNow < deadline, $"import still {state}: {import}");
            await Task.Delay(100);
        }
    }

    public static async Task<JsonElement> ImportAndWaitAsync(this HttpClient http, string body, string contentType = "text/csv", string query = "", bool bom = false)
        => await http.WaitImportAsync((await http.PostImportAsync(body, contentType, query, bom)).GetProperty("id").GetGuid());

    public static async Task<(int Row, string Field, string Message)[]> ImportErrorsAsync(this HttpClient http, Guid id)
    {
        var page = await http.GetAsync($"/api/imports/{id}/errors").ExpectAsync(HttpStatusCode.OK);
        return page.GetProperty("items").EnumerateArray()
            .Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("field").GetString()!, e.GetProperty("message").GetString()!)).ToArray();
    }

    public static (int Total, int Done, int Created, int Updated, int Failed) Counts(this JsonElement import) => (
        import.GetProperty("rowsTotal").GetInt32(), import.GetProperty("rowsDone").GetInt32(), import.GetProperty("rowsCreated").GetInt32(),
        import.GetProperty("rowsUpdated").GetInt32(), import.GetProperty("rowsFailed").GetInt32());

    /// <summary>Inserts an owner with plain SQL (owners have their own API elsewhere).</summary>
    public static async Task<Guid> CreateOwnerAsync(this ProspectorApp app, Guid workspaceId, string state = "active")
    {
        var id = Guid.CreateVersion7();
        await using var c = await app.Database.Database.OpenAsync();
        await c.ExecuteAsync(
            "insert into owners (id, workspace_id, name, state, created_at, updated_at) values (@id, @workspaceId, 'Rep', @state, @now, @now)",
            new { id, workspaceId, state, now = DateTimeOffset.UtcNow });
        return id;
    }

    public static async Task<Guid> DefaultWorkspaceAsync(this ProspectorApp app)
    {
        await using var c = await app.Database.Database.OpenAsync();
        return (await c.QueryAsync<Guid>("select id from workspaces order by created_at, id limit 1")).Single();
    }
}
