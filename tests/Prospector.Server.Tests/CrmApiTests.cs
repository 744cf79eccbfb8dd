using System.Net;
using System.Net.Http.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class CrmApiTests
{
    [Fact]
    public async Task PutConnection_GeneratesSecretOnceAndGetNeverReturnsIt_WhenSecretOmitted()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();

        await http.GetAsync("/api/crm/connection").ExpectAsync(HttpStatusCode.NotFound);

        var put = await http.PutAsJsonAsync("/api/crm/connection", new { kind = "webhook", url = "https://crm.example.com/hooks/prospector", secret = (string?)null })
            .ExpectAsync(HttpStatusCode.OK);
        var secret = put.GetProperty("generatedSecret").GetString();
        Assert.StartsWith("whsec_", secret);
        Assert.True(secret!.Length > 20);

        using var get = await http.GetAsync("/api/crm/connection");
        var text = await get.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_", text, StringComparison.Ordinal);
        var json = await get.ReadJsonAsync();
        Assert.Equal("https://crm.example.com/hooks/prospector", json.GetProperty("url").GetString());
        Assert.True(!json.TryGetProperty("generatedSecret", out var g) || g.ValueKind == System.Text.Json.JsonValueKind.Null);

        // A caller-chosen secret is never echoed back.
        const string own = "my-own-secret-of-sufficient-length";
        using var putOwn = await http.PutAsJsonAsync("/api/crm/connection", new { kind = "webhook", url = "https://crm.example.com/h2", secret = own });
        Assert.Equal(HttpStatusCode.OK, putOwn.StatusCode);
        Assert.DoesNotContain(own, await putOwn.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(own, await http.GetStringAsync("/api/crm/connection"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutConnection_Returns400NamingUrl_WhenUrlNotHttp()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();

        foreach (var url in new[] { "ftp://crm.example.com/x", "file:///etc/passwd", "not a url", "https://user:pw@crm.example.com/" })
        {
            var problem = await http.PutAsJsonAsync("/api/crm/connection", new { kind = "webhook", url, secret = (string?)null }).ExpectAsync(HttpStatusCode.BadRequest);
            Assert.Equal(["url"], problem.ErrorKeys());
        }

        var both = await http.PutAsJsonAsync("/api/crm/connection", new { kind = "hubspot", url = "gopher://x", secret = "short" })
            .ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["kind", "secret", "url"], both.ErrorKeys().Order(StringComparer.Ordinal).ToArray());

        await http.GetAsync("/api/crm/connection").ExpectAsync(HttpStatusCode.NotFound);
    }
}
