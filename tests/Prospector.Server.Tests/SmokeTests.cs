using System.Net;
using System.Net.Http.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class SmokeTests
{
    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task Api_RequiresKey_AndAcceptsBootstrapKey(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var anonymous = app.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/sequences")).StatusCode);
        var response = await app.Client().GetAsync("/api/sequences");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty((await response.ReadJsonAsync()).GetProperty("items").EnumerateArray());
    }
}
