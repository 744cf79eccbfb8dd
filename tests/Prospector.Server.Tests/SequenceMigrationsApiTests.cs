using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class SequenceMigrationsApiTests
{
    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task Migrations_MoveByStepIdAndMapping_AndMoveNothing_WhenAStepIsUnmapped(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();
        var mailbox = await http.CreateMailboxAsync();
        var sequence = (await http.PostJsonAsync("/api/sequences", new { name = "M", steps = SequenceTestKit.ThreeEmails() }, HttpStatusCode.Created))
            .GetProperty("id").GetGuid();
        var prospects = await http.ImportProspectsAsync("a@acme.example", "b@acme.example", "c@acme.example");
        var enrolled = await http.EnrollPoolAsync(sequence, [mailbox], prospects);
        var ids = enrolled.EnrolledIds();
        // a on intro (0), b on follow (2), c on last (3); due far ahead so that the dispatcher leaves them alone.
        for (var i = 0; i < 3; i++)
        {
            await app.SqlAsync("update enrollments set current_step = @step, next_due_at = @due where id = @id",
                new { step = new[] { 0, 2, 3 }[i], due = DateTimeOffset.UtcNow.AddDays(30), id = ids[i] });
        }

        // Version 2 replaces "follow" with "bump".
        await http.PutAsJsonAsync($"/api/sequences/{sequence}", new
        {
            steps = new object[]
            {
                new { id = "intro", type = "email", subject = "Hi", body = "Hello" },
                new { id = "pause", type = "wait", days = 1 },
                new { id = "bump", type = "email", body = "Bump" },
                new { id = "last", type = "email", body = "Last" },
            },
        }).ExpectAsync(HttpStatusCode.OK);
        var url = $"/api/sequences/{sequence}/migrations";

        var unmapped = await http.PostJsonAsync(url, new { fromVersion = 1 }, HttpStatusCode.BadRequest);
        Assert.Equal(["stepMapping.follow"], unmapped.ErrorKeys());
        Assert.Contains("follow", unmapped.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(3L, await app.ScalarAsync<long>("select count(*) from enrollments where sequence_version = 1"));
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from enrollment_events where type = 'migrated'"));

        Assert.Contains("stepMapping.follow", (await http.PostJsonAsync(url, new { fromVersion = 1, stepMapping = new { follow = "nope" } }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Contains("stepMapping.ghost", (await http.PostJsonAsync(url, new { fromVersion = 1, stepMapping = new { ghost = "end" } }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Contains("fromVersion", (await http.PostJsonAsync(url, new { fromVersion = 9 }, HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Contains("toVersion", (await http.PostJsonAsync(url, new { fromVersion = 2, toVersion = 2 }, HttpStatusCode.BadRequest)).ErrorKeys());

        var moved = await http.PostJsonAsync(url, new { fromVersion = 1, stepMapping = new { follow = "bump" } }, HttpStatusCode.OK);

        Assert.Equal((3, 1, 2), (moved.GetProperty("moved").GetInt32(), moved.GetProperty("fromVersion").GetInt32(), moved.GetProperty("toVersion").GetInt32()));
        var states = new List<(int Version, int Step)>();
        foreach (var id in ids)
        {
            var e = (await http.EnrollmentAsync(id)).GetProperty("enrollment");
            states.Add((e.GetProperty("sequenceVersion").GetInt32(), e.GetProperty("currentStep").GetInt32()));
        }

        Assert.Equal([(2, 0), (2, 2), (2, 3)], states);
        var migrated = (await http.EnrollmentAsync(ids[1])).GetProperty("events").EnumerateArray().Single(e => e.GetProperty("type").GetString() == "migrated");
        using (var detail = JsonDocument.Parse(migrated.GetProperty("detail").GetString()!))
        {
            Assert.Equal(("follow", "bump"), (detail.RootElement.GetProperty("fromStep").GetString(), detail.RootElement.GetProperty("toStep").GetString()));
        }

        // Version 3 keeps intro and last; the enrollment on "bump" is mapped to the end and completes.
        await http.PutAsJsonAsync($"/api/sequences/{sequence}", new
        {
            steps = new object[] { new { id = "intro", type = "email", subject = "Hi", body = "Hello" }, new { id = "last", type = "email", body = "Last" } },
        }).ExpectAsync(HttpStatusCode.OK);

        var toEnd = await http.PostJsonAsync(url, new { fromVersion = 2, stepMapping = new Dictionary<string, string> { ["bump"] = "end" } }, HttpStatusCode.OK);

        Assert.Equal(3, toEnd.GetProperty("moved").GetInt32());
        var ended = (await http.EnrollmentAsync(ids[1])).GetProperty("enrollment");
        Assert.Equal(("completed", "migrated_to_end", 3), (ended.GetProperty("state").GetString(), ended.GetProperty("stopReason").GetString(), ended.GetProperty("sequenceVersion").GetInt32()));
        Assert.Equal(1, (await http.EnrollmentAsync(ids[2])).GetProperty("enrollment").GetProperty("currentStep").GetInt32());
    }
}
