using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Prospector.Server.Jobs;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class ImportsApiTests
{
    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task Import_ImportsGoodRowsAndReportsBadRows_WhenCsvMixed(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect, ImportTestKit.QuietJobs());
        var http = app.Client();

        const string csv = "email,first_name,time_zone,Lead Source\n" +
                           "ann@acme.example,Ann,Europe/Paris,Webinar\n" +
                           "not-an-email,Bad,,\n" +
                           "bob@acme.example,Bob,,\n" +
                           "cid@acme.example,Cid,Nowhere/Atlantis,\n" +
                           "ANN@acme.example,Annie,,Fair\n" +
                           "dee@acme.example,Dee\n";
        var queued = await http.PostImportAsync(csv);
        Assert.Contains(queued.GetProperty("state").GetString(), new[] { "queued", "running", "completed" });
        Assert.Equal("csv", queued.GetProperty("format").GetString());
        var id = queued.GetProperty("id").GetGuid();

        var import = await http.WaitImportAsync(id);

        Assert.Equal("completed", import.GetProperty("state").GetString());
        Assert.Equal((6, 6, 2, 1, 3), import.Counts());
        Assert.True(import.GetProperty("finishedAt").GetDateTimeOffset() >= import.GetProperty("startedAt").GetDateTimeOffset());
        var errors = await http.ImportErrorsAsync(id);
        Assert.Equal([(3, "email"), (5, "time_zone"), (7, "row")], errors.Select(e => (e.Row, e.Field)).ToArray());
        Assert.Contains("2 fields", errors[2].Message, StringComparison.Ordinal);

        var ann = Assert.Single((await http.GetAsync("/api/prospects?email=ann@acme.example").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        Assert.Equal("Annie", ann.GetProperty("firstName").GetString());
        Assert.Equal("Europe/Paris", ann.GetProperty("timeZone").GetString());
        Assert.Equal("Fair", ann.GetProperty("customFields").GetProperty("lead_source").GetString());
        Assert.Equal(2, (await http.ListIdsAsync("/api/prospects")).Length);
        Assert.Equal([id], await http.ListIdsAsync("/api/imports"));
        await using var c = await app.Database.Database.OpenAsync();
        Assert.Equal(0, await c.ExecuteScalarAsync<long>("select count(*) from import_chunks"));
    }

    [Fact]
    public async Task Import_ReadsSemicolonWithBom_TabWithMapping_AndAliases()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, ImportTestKit.QuietJobs());
        var http = app.Client();

        var semicolon = await http.ImportAndWaitAsync("E-mail;First Name;Company Name;Job Title\r\nann@acme.example;Ann;\"Acme; Inc\";CTO\r\n", bom: true);
        var tab = await http.ImportAndWaitAsync(
            "Courriel\tPrénom\tProfile URL\tCountry\nbob@beta.example\tBob\thttps://www.linkedin.com/in/Bob-B/\tde\n",
            query: "?delimiter=tab&map.email=Courriel&map.firstName=Pr%C3%A9nom");

        Assert.Equal((1, 1, 1, 0, 0), semicolon.Counts());
        Assert.Equal((1, 1, 1, 0, 0), tab.Counts());
        var ann = (await http.GetAsync("/api/prospects?email=ann@acme.example").ExpectAsync(HttpStatusCode.OK)).GetProperty("items")[0];
        Assert.Equal(("Ann", "Acme; Inc", "CTO"), (ann.GetProperty("firstName").GetString(), ann.GetProperty("company").GetString(), ann.GetProperty("title").GetString()));
        var bob = (await http.GetAsync("/api/prospects?email=bob@beta.example").ExpectAsync(HttpStatusCode.OK)).GetProperty("items")[0];
        Assert.Equal(("Bob", "DE", "https://www.linkedin.com/in/Bob-B/"),
            (bob.GetProperty("firstName").GetString(), bob.GetProperty("country").GetString(), bob.GetProperty("linkedinUrl").GetString()));
    }

    [Fact]
    public async Task Import_DedupsOnLinkedin_AndRefusesRowMatchingTwoProspects_WhenNdjson()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, ImportTestKit.QuietJobs());
        var http = app.Client();
        var existing = await http.PostAsJsonAsync("/api/prospects", new
        {
            prospects = new object[] { new { email = "ann@acme.example" }, new { linkedinUrl = "https://www.linkedin.com/in/bob-b", firstName = "Bob" } },
        }).ExpectAsync(HttpStatusCode.OK);
        var bobId = existing.GetProperty("ids")[1].GetGuid();

        var import = await http.ImportAndWaitAsync(
            """
            {"linkedin":"fr.linkedin.com/in/BOB-B?trk=x","email":"bob@beta.example","title":"VP"}
            {"email":"ann@acme.example","linkedinUrl":"linkedin.com/in/bob-b"}
            {"firstName":"Nobody"}
            """, "application/x-ndjson");

        Assert.Equal((3, 3, 0, 1, 2), import.Counts());
        var errors = await http.ImportErrorsAsync(import.GetProperty("id").GetGuid());
        Assert.Equal(2, errors[0].Row);
        Assert.Contains("matches two prospects", errors[0].Message, StringComparison.Ordinal);
        Assert.Equal((3, "email"), (errors[1].Row, errors[1].Field));
        var bob = await http.GetAsync($"/api/prospects/{bobId}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("bob@beta.example", "Bob", "VP"), (bob.GetProperty("email").GetString(), bob.GetProperty("firstName").GetString(), bob.GetProperty("title").GetString()));
        Assert.Equal(2, (await http.ListIdsAsync("/api/prospects")).Length);
    }

    [Fact]
    public async Task Import_LinksCompaniesByDomain_AndSetsOwnerAndAudience_WhenJsonArray()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, ImportTestKit.QuietJobs());
        var http = app.Client();
        var owner = await app.CreateOwnerAsync(await app.DefaultWorkspaceAsync());

        var import = await http.ImportAndWaitAsync(
            """[{"email":"ann@acme.example","company":"Acme"},{"email":"bob@acme.example"},{"email":"cid@gmail.com"}]""",
            "application/json", $"?audienceName=Q1%20list&ownerId={owner}");

        Assert.Equal((3, 3, 3, 0, 0), import.Counts());
        var audienceId = import.GetProperty("audienceId").GetGuid();
        var audience = await http.GetAsync($"/api/audiences/{audienceId}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("Q1 list", 3), (audience.GetProperty("name").GetString(), audience.GetProperty("members").GetInt32()));
        var members = (await http.GetAsync($"/api/prospects?audienceId={audienceId}").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(3, members.Length);
        Assert.All(members, m => Assert.Equal(owner, m.GetProperty("ownerId").GetGuid()));
        // Ids created in one batch share a millisecond, so their order is not the file's: look members up by email.
        var companyIds = members.ToDictionary(m => m.GetProperty("email").GetString()!, m => m.GetProperty("companyId"));
        Assert.Equal(companyIds["ann@acme.example"].GetGuid(), companyIds["bob@acme.example"].GetGuid());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, companyIds["cid@gmail.com"].ValueKind);
        Assert.Equal(2, (await http.ListIdsAsync($"/api/prospects?companyId={companyIds["ann@acme.example"].GetGuid()}")).Length);
        Assert.Equal(3, (await http.ListIdsAsync($"/api/prospects?ownerId={owner}")).Length);
    }

    [Fact]
    public async Task Import_Fails_WhenNoEmailOrLinkedinColumn_AndRefusesBadOptions()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, ImportTestKit.QuietJobs());
        var http = app.Client();

        var failed = await http.ImportAndWaitAsync("name,company\nAnn,Acme\n");

        Assert.Equal("failed", failed.GetProperty("state").GetString());
        Assert.Contains("no email or linkedin_url column", failed.GetProperty("error").GetString(), StringComparison.Ordinal);
        var bad = await http.PostRawAsync($"/api/imports?delimiter=x&map.nope=A&ownerId={Guid.NewGuid()}&audienceId={Guid.NewGuid()}&extra=1", "email\na@b.example\n", "text/csv")
            .ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["audienceId", "delimiter", "extra", "map.nope", "ownerId"], bad.ErrorKeys().Order(StringComparer.Ordinal));
        await http.PostRawAsync("/api/imports", "email\n", "text/plain").ExpectAsync(HttpStatusCode.UnsupportedMediaType);
        Assert.Single(await http.ListIdsAsync("/api/imports"));
    }

    [Fact]
    public async Task Import_Returns413AndKeepsNothing_WhenAboveImportLimit_ButAcceptsBodiesAboveTheNormalLimit()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, ImportTestKit.QuietJobs(new Dictionary<string, string?>
        {
            ["ApiOptions:MaxRequestBodyBytes"] = "65536",
            ["ApiOptions:MaxImportBodyBytes"] = "3000000",
        }));
        var http = app.Client();
        string Rows(int n) => "email,first_name\n" + string.Concat(Enumerable.Range(0, n).Select(i => $"p{i}@acme.example,Someone{i}\n"));

        var above = Rows(5_000); // ~150 KB: above the normal limit, below the import limit, several chunks not needed
        var accepted = await http.ImportAndWaitAsync(above);
        Assert.Equal((5_000, 5_000, 5_000, 0, 0), accepted.Counts());

        var tooLarge = Rows(100_000); // ~3.2 MB
        using (var response = await http.PostAsync("/api/imports", new StringContent(tooLarge, System.Text.Encoding.UTF8, "text/csv")))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }

        // Without Content-Length the server counts while streaming, then discards what it stored.
        var streamed = new StreamContent(new NonSeekableStream(System.Text.Encoding.UTF8.GetBytes(tooLarge)));
        streamed.Headers.ContentType = new("text/csv");
        using (var response = await http.PostAsync("/api/imports", streamed))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }

        Assert.Single(await http.ListIdsAsync("/api/imports"));
        await using var c = await app.Database.Database.OpenAsync();
        Assert.Equal((1L, 0L), (await c.ExecuteScalarAsync<long>("select count(*) from imports"), await c.ExecuteScalarAsync<long>("select count(*) from import_chunks")));
    }

    [Fact]
    public async Task ImportJob_MarksTheImportFailed_WhenTheLastAttemptHitsAnUnexpectedError()
    {
        // API role only: the job is enqueued but no Hangfire server here runs it, so the test plays Hangfire's retries.
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, ImportTestKit.QuietJobs(new Dictionary<string, string?> { ["role"] = "api" }));
        var http = app.Client();
        var id = (await http.PostImportAsync("email\nok@acme.example\n")).GetProperty("id").GetGuid();
        await using (var c = await app.Database.Database.OpenAsync())
        {
            await c.ExecuteAsync("update imports set options = 'not json' where id = @id", new { id }); // an error no import rule expects
        }

        var job = app.Services.GetRequiredService<ImportJob>();
        for (var attempt = 1; attempt < ImportJob.MaxAttempts; attempt++)
        {
            await Assert.ThrowsAnyAsync<System.Text.Json.JsonException>(() => job.RunAsync(id, CancellationToken.None));
            Assert.Equal("running", (await http.GetAsync($"/api/imports/{id}").ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        }

        await job.RunAsync(id, CancellationToken.None); // the last attempt: no throw, the import says what happened
        await job.RunAsync(id, CancellationToken.None); // a late redelivery changes nothing

        var import = await http.GetAsync($"/api/imports/{id}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("failed", import.GetProperty("state").GetString());
        Assert.Contains($"after {ImportJob.MaxAttempts} attempts", import.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportJob_CountsEveryRowOnce_WhenRunTwiceConcurrentlyAndAgainAfterwards()
    {
        // API role only: the job is enqueued but no Hangfire server here runs it, so the test runs it by hand.
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, ImportTestKit.QuietJobs(new Dictionary<string, string?> { ["role"] = "api" }));
        var http = app.Client();
        var csv = "email,first_name\n" + string.Concat(Enumerable.Range(0, 2_500).Select(i => $"p{i}@acme.example,P{i}\n")) + "bad,Bad\n";
        var id = (await http.PostImportAsync(csv, query: "?audienceName=Twice")).GetProperty("id").GetGuid();
        Assert.Equal("queued", (await http.GetAsync($"/api/imports/{id}").ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());

        var job1 = app.Services.GetRequiredService<ImportJob>();
        var job2 = app.Services.GetRequiredService<ImportJob>();
        await Task.WhenAll(job1.RunAsync(id, CancellationToken.None), job2.RunAsync(id, CancellationToken.None));
        var afterFirst = await http.GetAsync($"/api/imports/{id}").ExpectAsync(HttpStatusCode.OK);
        if (afterFirst.GetProperty("state").GetString() != "completed")
        {
            await job1.RunAsync(id, CancellationToken.None); // the losing run left the rest to the winner; a redelivery finishes it
        }

        await app.Services.GetRequiredService<ImportJob>().RunAsync(id, CancellationToken.None);

        var import = await http.GetAsync($"/api/imports/{id}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("completed", import.GetProperty("state").GetString());
        Assert.Equal((2_501, 2_501, 2_500, 0, 1), import.Counts());
        Assert.Single(await http.ImportErrorsAsync(id));
        var audience = await http.GetAsync($"/api/audiences/{import.GetProperty("audienceId").GetGuid()}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(2_500, audience.GetProperty("members").GetInt32());
    }

    [Fact]
    public async Task Import_ResumesAfterRowsDone_WhenAnEarlierRunCommittedSomeBatches()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, ImportTestKit.QuietJobs(new Dictionary<string, string?> { ["role"] = "api" }));
        var http = app.Client();
        var csv = "email\n" + string.Concat(Enumerable.Range(0, 2_500).Select(i => $"p{i}@acme.example\n"));
        var id = (await http.PostImportAsync(csv)).GetProperty("id").GetGuid();
        await using (var c = await app.Database.Database.OpenAsync())
        {
            // As if a crashed run had committed the first batch (rows 2..1001) and its counters.
            await c.ExecuteAsync("update imports set state = 'running', rows_total = 2500, rows_done = 1000, rows_created = 1000 where id = @id", new { id });
        }

        await app.Services.GetRequiredService<ImportJob>().RunAsync(id, CancellationToken.None);

        var import = await http.GetAsync($"/api/imports/{id}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((2_500, 2_500, 2_500, 0, 0), import.Counts());
        await using var db = await app.Database.Database.OpenAsync();
        Assert.Equal(1_500L, await db.ExecuteScalarAsync<long>("select count(*) from prospects"));
        Assert.Equal(0L, await db.ExecuteScalarAsync<long>("select count(*) from prospects where email in ('p0@acme.example', 'p999@acme.example')"));
        Assert.Equal(2L, await db.ExecuteScalarAsync<long>("select count(*) from prospects where email in ('p1000@acme.example', 'p2499@acme.example')"));
    }

    [Fact]
    public async Task Errors_PagesByRow_WithCursor()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, ImportTestKit.QuietJobs());
        var http = app.Client();
        var csv = "email,time_zone\n" + string.Concat(Enumerable.Range(0, 150).Select(i => $"bad{i},Nowhere/{i}\n"));
        var id = (await http.ImportAndWaitAsync(csv)).GetProperty("id").GetGuid();

        var all = new List<System.Text.Json.JsonElement>();
        int? cursor = 0;
        var pages = 0;
        while (cursor is { } after)
        {
            var page = await http.GetAsync($"/api/imports/{id}/errors?limit=100&after={after}").ExpectAsync(HttpStatusCode.OK);
            var items = page.GetProperty("items").EnumerateArray().ToArray();
            Assert.True(items.Length <= 100);
            Assert.Equal(0, items.Length % 2); // a page never splits a row's two errors
            all.AddRange(items);
            cursor = page.GetProperty("nextCursor").ValueKind == System.Text.Json.JsonValueKind.Null ? null : page.GetProperty("nextCursor").GetInt32();
            Assert.True(++pages < 10);
        }

        Assert.Equal(300, all.Count);
        Assert.Equal(Enumerable.Range(2, 150), all.Select(e => e.GetProperty("row").GetInt32()).Distinct());
    }

    [Fact]
    public async Task ItemRoutes_Answer404_ForAnotherWorkspacesImportsAudiencesAndMembers()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, ImportTestKit.QuietJobs());
        var http = app.Client();
        var import = (await http.ImportAndWaitAsync("email\nann@acme.example\n", query: "?audienceName=Mine")).GetProperty("id").GetGuid();
        var audience = (await http.GetAsync($"/api/imports/{import}").ExpectAsync(HttpStatusCode.OK)).GetProperty("audienceId").GetGuid();
        var prospect = (await http.ListIdsAsync("/api/prospects"))[0];
        var (_, otherKey) = await app.CreateWorkspaceAsync("other");
        var other = app.Client(otherKey);

        await other.GetAsync($"/api/imports/{import}").ExpectAsync(HttpStatusCode.NotFound);
        await other.GetAsync($"/api/imports/{import}/errors").ExpectAsync(HttpStatusCode.NotFound);
        await other.GetAsync($"/api/audiences/{audience}").ExpectAsync(HttpStatusCode.NotFound);
        await other.PatchAsJsonAsync($"/api/audiences/{audience}", new { name = "Stolen" }).ExpectAsync(HttpStatusCode.NotFound);
        await other.PostAsJsonAsync($"/api/audiences/{audience}/members", new { prospectIds = new[] { prospect } }).ExpectAsync(HttpStatusCode.NotFound);
        await other.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/api/audiences/{audience}/members") { Content = JsonContent.Create(new { prospectIds = new[] { prospect } }) })
            .ExpectAsync(HttpStatusCode.NotFound);
        await other.DeleteAsync($"/api/audiences/{audience}").ExpectAsync(HttpStatusCode.NotFound);
        await other.GetAsync($"/api/prospects/export?audienceId={audience}").ExpectAsync(HttpStatusCode.NotFound);
        Assert.Empty(await other.ListIdsAsync("/api/imports"));
        Assert.Empty(await other.ListIdsAsync("/api/audiences"));
        Assert.Empty(await other.ListIdsAsync($"/api/prospects?audienceId={audience}"));
        var refused = await other.PostRawAsync($"/api/imports?audienceId={audience}", "email\nx@y.example\n", "text/csv").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["audienceId"], refused.ErrorKeys());

        // The other workspace's own audience cannot take this workspace's prospect either.
        var own = (await other.PostAsJsonAsync("/api/audiences", new { name = "Theirs" }).ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var notMine = await other.PostAsJsonAsync($"/api/audiences/{own}/members", new { prospectIds = new[] { prospect } }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["prospectIds[0]"], notMine.ErrorKeys());

        var mine = await http.GetAsync($"/api/audiences/{audience}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("Mine", 1), (mine.GetProperty("name").GetString(), mine.GetProperty("members").GetInt32()));
    }

    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
