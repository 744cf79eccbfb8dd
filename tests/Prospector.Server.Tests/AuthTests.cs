using System.Net;
using System.Net.Http.Headers;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class AuthTests
{
    [Fact]
    public async Task Api_Returns401ProblemDetails_WhenKeyMissingOrGarbage()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);

        using var anonymous = await app.CreateClient().GetAsync("/api/mailboxes");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
        var problem = await anonymous.ReadJsonAsync();
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));

        using var garbage = await app.Client("psk_this-is-not-a-real-key").GetAsync("/api/mailboxes");
        Assert.Equal(HttpStatusCode.Unauthorized, garbage.StatusCode);

        var garbageHeader = app.CreateClient();
        garbageHeader.DefaultRequestHeaders.Add("X-Api-Key", "nonsense");
        Assert.Equal(HttpStatusCode.Unauthorized, (await garbageHeader.GetAsync("/api/prospects")).StatusCode);

        var wrongScheme = app.CreateClient();
        wrongScheme.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", app.ApiKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrongScheme.GetAsync("/api/prospects")).StatusCode);
    }

    [Fact]
    public async Task Api_AcceptsXApiKeyHeader_WhenKeyValid()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", app.ApiKey);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/mailboxes")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/sequences")).StatusCode);
    }

    [Fact]
    public async Task Health_IsAnonymousAndReportsRoleAll_WhenNoKey()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var health = await app.CreateClient().GetAsync("/health").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("all", health.GetProperty("role").GetString());
        Assert.Equal("ok", health.GetProperty("status").GetString());
    }
}
