using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class ProspectsApiTests
{
    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task ImportJson_Returns400AndImportsNothing_WhenOneEmailInvalid(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();

        var problem = await http.PostAsJsonAsync("/api/prospects", new
        {
            prospects = new object[]
            {
                ApiTestKit.Prospect("ann@acme.example"),
                ApiTestKit.Prospect("not an email"),
                ApiTestKit.Prospect("cid@acme.example", "Cid", "Mars/Olympus"),
            },
        }).ExpectAsync(HttpStatusCode.BadRequest);
        var keys = problem.ErrorKeys();
        Assert.Contains("prospects[1].email", keys);
        Assert.Contains("prospects[2].timeZone", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("prospects[0]", StringComparison.Ordinal));
        Assert.Empty(await http.ListIdsAsync("/api/prospects"));
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task ImportJson_UpdatesInsteadOfDuplicating_WhenSameEmailsDifferentCase(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();

        var first = await http.PostAsJsonAsync("/api/prospects", new
        {
            prospects = new object[]
            {
                ApiTestKit.Prospect("ann@acme.example", "Ann", "Europe/Paris"),
                ApiTestKit.Prospect("bob@acme.example", "Bob"),
            },
        }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(2, first.GetProperty("created").GetInt32());
        Assert.Equal(0, first.GetProperty("updated").GetInt32());
        var ids = first.GetProperty("ids").EnumerateArray().Select(i => i.GetGuid()).ToArray();
        Assert.Equal(2, ids.Distinct().Count());

        var again = await http.PostAsJsonAsync("/api/prospects", new
        {
            prospects = new object[]
            {
                ApiTestKit.Prospect("ANN@Acme.Example", "Annie"),
                ApiTestKit.Prospect("Bob@ACME.example", "Bobby"),
            },
        }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(0, again.GetProperty("created").GetInt32());
        Assert.Equal(2, again.GetProperty("updated").GetInt32());
        Assert.Equal(ids, again.GetProperty("ids").EnumerateArray().Select(i => i.GetGuid()).ToArray());

        var list = await http.ListIdsAsync("/api/prospects");
        Assert.Equal(ids.Order(), list.Order());
        var ann = await http.GetAsync($"/api/prospects/{ids[0]}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Annie", ann.GetProperty("firstName").GetString());
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task ImportCsv_ImportsGoodRowsAndReportsBadRows_WhenFileMixed(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();

        const string csv = "email,first_name,time_zone\n" +
                           "ann@acme.example,Ann,Europe/Paris\n" +
                           "not-an-email,Bad,\n" +
                           "bob@acme.example,Bob,\n" +
                           "cid@acme.example,Cid,Nowhere/Atlantis\n" +
                           "dee@acme.example,Dee,America/New_York\n";
        var result = await http.PostRawAsync("/api/prospects/import", csv, "text/csv").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(3, result.GetProperty("created").GetInt32());
        Assert.Equal(3, result.GetProperty("ids").GetArrayLength());
        var errors = result.GetProperty("errors").EnumerateArray().ToArray();
        Assert.Equal([3, 5], errors.Select(e => e.GetProperty("row").GetInt32()).ToArray());
        Assert.Contains("email", errors[0].GetProperty("field").GetString());
        Assert.Contains("time_zone", errors[1].GetProperty("field").GetString());
        Assert.All(errors, e => Assert.False(string.IsNullOrWhiteSpace(e.GetProperty("message").GetString())));

        var list = await http.GetAsync("/api/prospects").ExpectAsync(HttpStatusCode.OK);
        var emails = list.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("email").GetString()!).Order().ToArray();
        Assert.Equal(["ann@acme.example", "bob@acme.example", "dee@acme.example"], emails);
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task ImportCsv_Returns400AndImportsNothing_WhenEveryRowBad(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();

        const string csv = "email,time_zone\nnope,\nann@acme.example,Not/AZone\n";
        var problem = await http.PostRawAsync("/api/prospects/import", csv, "text/csv").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(2, problem.ErrorKeys().Length);
        Assert.Empty(await http.ListIdsAsync("/api/prospects"));

        var noEmailColumn = await http.PostRawAsync("/api/prospects/import", "name\nAnn\n", "text/csv").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(noEmailColumn.ErrorKeys());
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task ImportCsv_ReadsFile_WhenSemicolonDelimitedWithBom(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();

        var text = "Email;First Name;Company\r\nann@acme.example;Ann;\"Acme; Inc\"\r\nbob@acme.example;Bob;Beta\r\n";
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(text)).ToArray();
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("text/csv");
        var result = await http.PostAsync("/api/prospects/import", content).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(2, result.GetProperty("created").GetInt32());
        Assert.Empty(result.GetProperty("errors").EnumerateArray());

        var found = await http.GetAsync("/api/prospects?email=ann@acme.example").ExpectAsync(HttpStatusCode.OK);
        var ann = Assert.Single(found.GetProperty("items").EnumerateArray());
        Assert.Equal("ann@acme.example", ann.GetProperty("email").GetString());
        Assert.Equal("Ann", ann.GetProperty("firstName").GetString());
        Assert.Equal("Acme; Inc", ann.GetProperty("company").GetString());
    }
}
