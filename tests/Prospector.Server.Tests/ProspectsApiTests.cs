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

    [Fact]
    public async Task UpsertJson_AcceptsLinkedinOnlyAndNewFields_AndNamesBadOnesInCamelCase()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();

        var bad = await http.PostAsJsonAsync("/api/prospects", new
        {
            prospects = new object[]
            {
                new { linkedinUrl = "https://www.linkedin.com/company/acme" },
                new { email = "a@acme.example", country = "Narnia", phone = "call me", title = "CTO\r\nBcc: x@evil.example" },
                new { firstName = "Nobody" },
                new { email = "b@acme.example", ownerId = Guid.NewGuid() },
            },
        }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["prospects[0].linkedinUrl", "prospects[1].country", "prospects[1].phone", "prospects[1].title", "prospects[2].email"],
            bad.ErrorKeys().Order(StringComparer.Ordinal));
        var owner = await http.PostAsJsonAsync("/api/prospects", new { prospects = new object[] { new { email = "b@acme.example", ownerId = Guid.NewGuid() } } })
            .ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["prospects[0].ownerId"], owner.ErrorKeys());
        Assert.Empty(await http.ListIdsAsync("/api/prospects"));

        var ok = await http.PostAsJsonAsync("/api/prospects", new
        {
            prospects = new object[] { new { linkedinUrl = "https://uk.linkedin.com/in/Cid-C/", firstName = "Cid", title = "CTO", phone = "+44 20 7946 0000", country = "gb" } },
        }).ExpectAsync(HttpStatusCode.OK);
        var cid = await http.GetAsync($"/api/prospects/{ok.GetProperty("ids")[0].GetGuid()}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, cid.GetProperty("email").ValueKind);
        Assert.Equal(("CTO", "+44 20 7946 0000", "GB"), (cid.GetProperty("title").GetString(), cid.GetProperty("phone").GetString(), cid.GetProperty("country").GetString()));
        var again = await http.PostAsJsonAsync("/api/prospects", new { prospects = new object[] { new { linkedinUrl = "linkedin.com/in/cid-c", email = "cid@acme.example" } } })
            .ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, again.GetProperty("updated").GetInt32());
    }
}
