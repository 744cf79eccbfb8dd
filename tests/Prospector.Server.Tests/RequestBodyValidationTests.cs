using System.Net;
using System.Net.Http.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class RequestBodyValidationTests
{
    [Fact]
    public async Task Post_Returns400NamingThePath_WhenFieldsUnknownOrMissing()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();

        var unknownTop = await http.PostRawAsync("/api/mailboxes",
            """{"name":"Sales","fromAddress":"s@example.com","isAdmin":true,"smtp":{"host":"smtp.example.com","port":587}}""")
            .ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(400, unknownTop.GetProperty("status").GetInt32());
        Assert.Contains("isAdmin", unknownTop.ErrorKeys());

        var unknownNested = await http.PostRawAsync("/api/mailboxes",
            """{"name":"Sales","fromAddress":"s@example.com","smtp":{"hots":"smtp.example.com","port":587}}""")
            .ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Contains("smtp.hots", unknownNested.ErrorKeys());

        var missing = await http.PostRawAsync("/api/mailboxes", """{"name":"Sales","fromAddress":"s@example.com"}""")
            .ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Contains("smtp", missing.ErrorKeys());

        var malformed = await http.PostRawAsync("/api/mailboxes", """{"name":"Sales",""").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(400, malformed.GetProperty("status").GetInt32());

        Assert.Empty(await http.ListIdsAsync("/api/mailboxes"));
    }

    [Fact]
    public async Task CreateSequence_Returns400ListingEveryStepPathAndCreatesNothing_WhenSeveralStepsBad()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();

        var problem = await http.PostAsJsonAsync("/api/sequences", new
        {
            name = "Broken",
            steps = new object[]
            {
                new { type = "email", subject = "Hi", body = "Hello {{ first_name" },
                new { type = "teleport" },
                new { type = "wait", days = -1 },
                new { type = "email", body = "ok", colour = "red" },
            },
        }).ExpectAsync(HttpStatusCode.BadRequest);
        var keys = problem.ErrorKeys();
        Assert.Contains("steps[0].body", keys);
        Assert.Contains("steps[1].type", keys);
        Assert.Contains("steps[2].days", keys);
        Assert.Contains("steps[3].colour", keys);
        Assert.StartsWith("template error", problem.GetProperty("errors").GetProperty("steps[0].body")[0].GetString());

        var noName = await http.PostAsJsonAsync("/api/sequences", new { name = " ", steps = new[] { new { type = "wait", days = 1 } } })
            .ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Contains("name", noName.ErrorKeys());
        Assert.Contains("steps", noName.ErrorKeys()); // no email step

        Assert.Empty(await http.ListIdsAsync("/api/sequences"));
    }
}
