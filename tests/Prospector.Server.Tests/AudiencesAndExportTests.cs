using System.Net;
using System.Net.Http.Json;
using CsvHelper;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class AudiencesAndExportTests
{
    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task Audiences_CreateRenameAddRemoveDelete_KeepsProspects(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect, ImportTestKit.QuietJobs());
        var http = app.Client();
        var ids = await http.ImportProspectsAsync("a@acme.example", "b@acme.example", "c@acme.example");

        var created = await http.PostAsJsonAsync("/api/audiences", new { name = "Q1" }).ExpectAsync(HttpStatusCode.Created);
        var id = created.GetProperty("id").GetGuid();
        await http.PostAsJsonAsync("/api/audiences", new { name = "bad\r\nname" }).ExpectAsync(HttpStatusCode.BadRequest);
        await http.PostAsJsonAsync("/api/audiences", new { name = "x", owner = "y" }).ExpectAsync(HttpStatusCode.BadRequest);
        var renamed = await http.PatchAsJsonAsync($"/api/audiences/{id}", new { name = "Q1 targets" }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Q1 targets", renamed.GetProperty("name").GetString());

        var added = await http.PostAsJsonAsync($"/api/audiences/{id}/members", new { prospectIds = ids }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((3, 3), (added.GetProperty("changed").GetInt32(), added.GetProperty("members").GetInt32()));
        var unknown = await http.PostAsJsonAsync($"/api/audiences/{id}/members", new { prospectIds = new[] { ids[0], Guid.NewGuid() } }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["prospectIds[1]"], unknown.ErrorKeys());
        var removed = await http.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/api/audiences/{id}/members") { Content = JsonContent.Create(new { prospectIds = new[] { ids[1] } }) })
            .ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((1, 2), (removed.GetProperty("changed").GetInt32(), removed.GetProperty("members").GetInt32()));
        Assert.Equal(new[] { ids[0], ids[2] }.Order(), (await http.ListIdsAsync($"/api/prospects?audienceId={id}")).Order());
        Assert.Equal([id], await http.ListIdsAsync("/api/audiences"));

        await http.DeleteAsync($"/api/audiences/{id}").ExpectAsync(HttpStatusCode.NoContent);
        await http.GetAsync($"/api/audiences/{id}").ExpectAsync(HttpStatusCode.NotFound);
        Assert.Equal(3, (await http.ListIdsAsync("/api/prospects")).Length);
    }

    [Fact]
    public async Task Export_EscapesFormulaCells_AndLeavesNormalValues()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, ImportTestKit.QuietJobs());
        var http = app.Client();
        await http.PostAsJsonAsync("/api/prospects", new
        {
            prospects = new object[]
            {
                new
                {
                    email = "ann@acme.example", firstName = "=HYPERLINK(\"http://evil.example\")", lastName = "+SUM(1)", company = "-2+3",
                    title = "@cmd", phone = "+33 1 23 45 67 89",
                    customFields = new Dictionary<string, string> { ["note"] = "\tTabbed", ["plain"] = "Normal value", ["inner"] = "a=b" },
                },
            },
        }).ExpectAsync(HttpStatusCode.OK);

        using var response = await http.GetAsync("/api/prospects/export");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        await using var csv = CsvReader.FromText(text, new CsvReaderOptions { HasHeader = true });
        Assert.True(await csv.ReadAsync());
        Assert.Equal(["email", "linkedin_url", "first_name", "last_name", "title", "phone", "company", "company_domain", "country", "time_zone", "owner_id", "inner", "note", "plain"],
            csv.Headers);
        Assert.Equal("'=HYPERLINK(\"http://evil.example\")", csv.GetString("first_name"));
        Assert.Equal("'+SUM(1)", csv.GetString("last_name"));
        Assert.Equal("'-2+3", csv.GetString("company"));
        Assert.Equal("'@cmd", csv.GetString("title"));
        Assert.Equal("'+33 1 23 45 67 89", csv.GetString("phone"));
        Assert.Equal("Tabbed", csv.GetString("note")); // stored values are trimmed, so a leading tab never reaches an export (unit-tested in Core)
        Assert.Equal("Normal value", csv.GetString("plain"));
        Assert.Equal("a=b", csv.GetString("inner"));
        Assert.Equal("ann@acme.example", csv.GetString("email"));
        Assert.False(await csv.ReadAsync());
    }

    [Fact]
    public async Task Export_ThenImport_RoundTripsEveryField()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, ImportTestKit.QuietJobs());
        var http = app.Client();
        var prospects = Enumerable.Range(0, 2_100).Select(i => (object)new
        {
            email = i % 3 == 0 ? null : $"p{i}@acme{i % 7}.example",
            linkedinUrl = i % 2 == 0 ? $"https://www.linkedin.com/in/person-{i}" : null,
            firstName = i % 5 == 0 ? "=1+1" : $"First{i}", lastName = "O'Brien, \"Jr\"", title = "-VP", phone = "+1 555 0100", company = $"Acme {i % 7}",
            country = "US", timeZone = "America/New_York",
            customFields = new Dictionary<string, string> { ["tier"] = i % 2 == 0 ? "gold" : "@silver", ["multi_word"] = "x;y" },
        }).Where((_, i) => i % 3 != 0 || i % 2 == 0).ToArray();
        await http.PostAsJsonAsync("/api/prospects", new { prospects }).ExpectAsync(HttpStatusCode.OK);
        var audience = (await http.ImportAndWaitAsync("email\np1@acme1.example\n", query: "?audienceName=One")).GetProperty("audienceId").GetGuid();
        var exported = await http.GetStringAsync("/api/prospects/export");
        Assert.Equal(2, (await http.GetStringAsync($"/api/prospects/export?audienceId={audience}")).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);

        var (_, otherKey) = await app.CreateWorkspaceAsync("copy");
        var other = app.Client(otherKey);
        var import = await other.ImportAndWaitAsync(exported);

        Assert.Equal("completed", import.GetProperty("state").GetString());
        Assert.Equal((prospects.Length, prospects.Length, prospects.Length, 0, 0), import.Counts());
        // Same header, same records (ids, hence order, differ between workspaces).
        static string[] Lines(string csv) => csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var again = Lines(await other.GetStringAsync("/api/prospects/export"));
        Assert.Equal(Lines(exported)[0], again[0]);
        Assert.Equal(Lines(exported).Skip(1).Order(StringComparer.Ordinal), again.Skip(1).Order(StringComparer.Ordinal));
        Assert.Contains(again, l => l.StartsWith("'=1+1", StringComparison.Ordinal) || l.Contains(",'=1+1,", StringComparison.Ordinal));
    }
}
