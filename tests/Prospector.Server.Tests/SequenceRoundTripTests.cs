using System.Net;
using System.Net.Http.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class SequenceRoundTripTests
{
    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task Enroll_Succeeds_WhenSequenceHasMultiDayWait(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();
        var mailbox = await http.CreateMailboxAsync();
        var sequence = await http.PostAsJsonAsync("/api/sequences", new
        {
            name = "Slow",
            steps = new object[]
            {
                new { type = "email", subject = "Hi", body = "Hello" },
                new { type = "wait", days = 2 },
                new { type = "email", body = "Again" },
            },
        }).ExpectAsync(HttpStatusCode.Created);
        var id = sequence.GetProperty("id").GetGuid();

        // The stored definition must be readable again: GET shows it, enrolling parses it.
        var stored = await http.GetAsync($"/api/sequences/{id}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(2, stored.GetProperty("steps")[1].GetProperty("days").GetInt32());
        var prospect = (await http.ImportProspectsAsync("ann@acme.example"))[0];
        var enrolled = await http.EnrollAsync(id, mailbox, prospect);
        Assert.Single(enrolled.GetProperty("enrolled").EnumerateArray());
    }
}
