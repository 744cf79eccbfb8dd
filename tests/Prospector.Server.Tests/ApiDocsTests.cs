using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public partial class ApiDocsTests
{
    [Fact]
    public async Task OpenApiDocument_ListsEveryApiRouteWithKeySchemes_WhenFetchedWithoutKey()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var doc = await app.CreateClient().GetAsync("/openapi/v1.json").ExpectAsync(HttpStatusCode.OK);

        var schemes = doc.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("bearer").GetProperty("scheme").GetString());
        Assert.Equal("X-Api-Key", schemes.GetProperty("apiKey").GetProperty("name").GetString());
        Assert.Equal("header", schemes.GetProperty("apiKey").GetProperty("in").GetString());

        var paths = doc.GetProperty("paths");
        var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api", StringComparison.Ordinal) == true)
            .ToArray();
        Assert.NotEmpty(routes);
        foreach (var route in routes)
        {
            // The document writes /api/mailboxes/{id:guid} as /api/mailboxes/{id} and drops trailing slashes.
            var path = ConstraintPattern().Replace(route.RoutePattern.RawText!, "}").TrimEnd('/');
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is missing from the OpenAPI document");
            foreach (var method in route.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods)
            {
                Assert.True(item.TryGetProperty(method.ToLowerInvariant(), out var operation), $"{method} {path} is missing from the OpenAPI document");
                var security = operation.GetProperty("security").EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name)).ToArray();
                Assert.Equal(["bearer", "apiKey"], security);
            }
        }
    }

    [Fact]
    public async Task DocsPage_LoadsOnlyFromThisServer_WhenFetchedWithoutKey()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.CreateClient();

        using var page = await http.GetAsync("/docs/");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);

        // No absolute URL to any host: scripts, fonts, proxies and telemetry would all need one.
        var absolute = AbsoluteUrl().Matches(html).Select(m => m.Value).ToArray();
        Assert.True(absolute.Length == 0, "absolute URLs in /docs: " + string.Join(", ", absolute));
        Assert.Contains("\"withDefaultFonts\":false", html, StringComparison.Ordinal);

        var scripts = ScriptSource().Matches(html).Select(m => m.Groups[1].Value).ToArray();
        Assert.NotEmpty(scripts);
        foreach (var src in scripts)
        {
            var url = new Uri(new Uri(http.BaseAddress!, "/docs/"), src);
            Assert.Equal(http.BaseAddress!.Host, url.Host);
            using var script = await http.GetAsync(url);
            Assert.True(script.StatusCode == HttpStatusCode.OK, $"{url} answered {(int)script.StatusCode}");
            var body = await script.Content.ReadAsStringAsync();
            Assert.False(string.IsNullOrWhiteSpace(body), $"{url} is empty");
        }

        // The Scalar bundle itself is served by us (not a stub).
        Assert.Contains("scalar.js", scripts);
        Assert.True((await http.GetByteArrayAsync("/docs/scalar.js")).Length > 100_000);

        // The page points at our document (resolved against this origin), which needs no key either; no proxy is configured.
        Assert.Contains("\"url\":\"openapi/v1.json\"", html, StringComparison.Ordinal);
        Assert.Contains("\"telemetry\":false", html, StringComparison.Ordinal);
        Assert.DoesNotContain("proxy", html, StringComparison.OrdinalIgnoreCase);
    }

    [GeneratedRegex("""https?://[^\s"'<>)]+""", RegexOptions.IgnoreCase)]
    private static partial Regex AbsoluteUrl();

    [GeneratedRegex("""<script[^>]*\bsrc\s*=\s*["']([^"']+)["']""", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptSource();

    [GeneratedRegex(":[^}]+}")]
    private static partial Regex ConstraintPattern();
}
