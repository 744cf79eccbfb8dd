using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Prospector.Server.Security;
using Prospector.Storage;
using Prospector.Storage.Stores;

namespace Prospector.Server.Tests;

/// <summary>Roles on API keys, key management, and workspaces.</summary>
public class AccessTests
{
    internal static async Task<string> CreateKeyAsync(HttpClient admin, string role, string name = "k")
        => (await admin.PostAsJsonAsync("/api/keys", new { name, role }).ExpectAsync(HttpStatusCode.Created)).GetProperty("key").GetString()!;

    [Fact]
    public async Task EveryApiRoute_RefusesViewerWritesAndSdrAdminWork_FromTheGenericRules()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var admin = app.Client();
        var viewer = app.Client(await CreateKeyAsync(admin, "viewer"));
        var sdr = app.Client(await CreateKeyAsync(admin, "sdr"));

        var routes = ApiRoutes(app);
        var adminOnly = new List<string>();
        foreach (var (method, template, isAdmin) in routes)
        {
            var url = Fill(template);
            if (isAdmin)
            {
                adminOnly.Add($"{method} {template}");
            }

            // Viewers: every non-read method of every route is refused before the handler runs.
            using var asViewer = await Send(viewer, method, url, template: template);
            if (MethodRoleRequirement.IsRead(method) && !isAdmin)
            {
                Assert.True(asViewer.StatusCode != HttpStatusCode.Forbidden, $"viewer refused on {method} {template}");
            }
            else
            {
                await AssertForbiddenAsync(asViewer, $"viewer {method} {template}");
            }

            // SDRs: refused exactly on admin routes.
            using var asSdr = await Send(sdr, method, url, template: template);
            if (isAdmin)
            {
                await AssertForbiddenAsync(asSdr, $"sdr {method} {template}");
            }
            else
            {
                Assert.True(asSdr.StatusCode is not (HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized), $"sdr got {(int)asSdr.StatusCode} on {method} {template}");
            }

            // Admins pass authorization everywhere (whatever the handler then says about the made-up ids and bodies).
            using var asAdmin = await Send(admin, method, url, template: template);
            Assert.True(asAdmin.StatusCode is not (HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized), $"admin got {(int)asAdmin.StatusCode} on {method} {template}");
        }

        // The admin-only set is what the roles promise (keys, owners, mailboxes, workspace settings, CRM connection).
        string[] expected =
        [
            "POST /api/mailboxes/", "PATCH /api/mailboxes/{id:guid}", "DELETE /api/mailboxes/{id:guid}",
            "POST /api/owners/", "PATCH /api/owners/{id:guid}", "DELETE /api/owners/{id:guid}",
            "POST /api/keys/", "GET /api/keys/", "DELETE /api/keys/{id:guid}",
            "PATCH /api/workspace", "POST /api/workspace/pause", "POST /api/workspace/resume", "POST /api/workspaces", "PUT /api/crm/connection",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), adminOnly.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Keys_AreShownOnceListedWithoutSecretAndRevokedAtOnce()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var admin = app.Client();

        using var created = await admin.PostAsJsonAsync("/api/keys", new { name = "CI bot", role = "sdr" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.ReadJsonAsync();
        var key = body.GetProperty("key").GetString()!;
        var id = body.GetProperty("id").GetGuid();
        Assert.StartsWith(ApiKeys.Prefix, key, StringComparison.Ordinal);
        Assert.Equal(key[..10], body.GetProperty("prefix").GetString());
        Assert.Equal("sdr", body.GetProperty("role").GetString());
        Assert.EndsWith($"/api/keys/{id}", created.Headers.Location?.ToString());

        // The list shows metadata only: never the key, never its hash.
        using var listResponse = await admin.GetAsync("/api/keys");
        var listText = await listResponse.Content.ReadAsStringAsync();
        Assert.DoesNotContain(key, listText, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiKeys.Hash(key), listText, StringComparison.Ordinal);
        var items = JsonDocument.Parse(listText).RootElement.GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(2, items.Length); // the bootstrap admin key and the new one
        var listed = items.Single(i => i.GetProperty("id").GetGuid() == id);
        Assert.Equal(["id", "name", "role", "prefix", "createdAt", "revokedAt"], listed.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("revokedAt").ValueKind);

        // The new key works, then is revoked: its very next call is 401.
        var bot = app.Client(key);
        Assert.Equal(HttpStatusCode.OK, (await bot.GetAsync("/api/workspace")).StatusCode);
        await admin.DeleteAsync($"/api/keys/{id}").ExpectAsync(HttpStatusCode.NoContent);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bot.GetAsync("/api/workspace")).StatusCode);
        var revoked = (await admin.GetAsync("/api/keys").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().Single(i => i.GetProperty("id").GetGuid() == id);
        Assert.NotEqual(JsonValueKind.Null, revoked.GetProperty("revokedAt").ValueKind);

        // Bad role, unknown field, unknown id.
        Assert.Equal(["role"], (await admin.PostAsJsonAsync("/api/keys", new { name = "x", role = "root" }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Contains("hash", (await admin.PostAsJsonAsync("/api/keys", new { name = "x", role = "sdr", hash = "abc" }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        await admin.DeleteAsync($"/api/keys/{Guid.NewGuid()}").ExpectAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task RevokeKey_Returns409_WhenItIsTheLastActiveAdminKey()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var admin = app.Client();
        var bootstrapId = (await admin.GetAsync("/api/keys").ExpectAsync(HttpStatusCode.OK)).GetProperty("items")[0].GetProperty("id").GetGuid();
        await CreateKeyAsync(admin, "sdr"); // other roles do not count

        var problem = await admin.DeleteAsync($"/api/keys/{bootstrapId}").ExpectAsync(HttpStatusCode.Conflict);
        Assert.Equal(409, problem.GetProperty("status").GetInt32());
        Assert.Contains("last active admin key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/workspace")).StatusCode);

        // With a second admin key, the first can go; it is refused at once, the second still works.
        var second = app.Client(await CreateKeyAsync(admin, "admin"));
        await second.DeleteAsync($"/api/keys/{bootstrapId}").ExpectAsync(HttpStatusCode.NoContent);
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.GetAsync("/api/workspace")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/api/keys")).StatusCode);
    }

    [Fact]
    public async Task Workspace_ReadsAndPatchesSettings_AndOnlyAdminsPatch()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var admin = app.Client();
        var viewer = app.Client(await CreateKeyAsync(admin, "viewer"));
        var sdr = app.Client(await CreateKeyAsync(admin, "sdr"));

        var before = await viewer.GetAsync("/api/workspace").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("default", before.GetProperty("name").GetString());
        Assert.False(before.GetProperty("settings").GetProperty("allowActiveInOtherSequences").GetBoolean());

        await AssertForbiddenAsync(await sdr.PatchAsJsonAsync("/api/workspace", new { name = "x" }), "sdr PATCH /api/workspace");

        var patched = await admin.PatchAsJsonAsync("/api/workspace", new { postalAddress = "1 Main St\nSpringfield", settings = new { allowActiveInOtherSequences = true } })
            .ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("default", patched.GetProperty("name").GetString());
        Assert.Equal("1 Main St\nSpringfield", patched.GetProperty("postalAddress").GetString());
        Assert.True(patched.GetProperty("settings").GetProperty("allowActiveInOtherSequences").GetBoolean());
        var id = patched.GetProperty("id").GetGuid();
        Assert.True((await app.Services.GetRequiredService<WorkspaceStore>().GetSettingsAsync(id, CancellationToken.None)).AllowActiveInOtherSequences);

        // A later patch of the name keeps the settings and address.
        var renamed = await admin.PatchAsJsonAsync("/api/workspace", new { name = "Acme Sales" }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("Acme Sales", "1 Main St\nSpringfield", true),
            (renamed.GetProperty("name").GetString(), renamed.GetProperty("postalAddress").GetString(), renamed.GetProperty("settings").GetProperty("allowActiveInOtherSequences").GetBoolean()));

        Assert.Contains("settings.sendAtNight", (await admin.PatchAsJsonAsync("/api/workspace", new { settings = new { sendAtNight = true } })
            .ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["name"], (await admin.PatchAsJsonAsync("/api/workspace", new { name = "a\r\nb" }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal("Acme Sales", (await viewer.GetAsync("/api/workspace").ExpectAsync(HttpStatusCode.OK)).GetProperty("name").GetString());
    }

    [Fact]
    public async Task CreateWorkspace_ReturnsFirstAdminKeyOnce_AndOnlyTheOperatorMayCreate()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var operatorClient = app.Client();
        var mailbox = await operatorClient.CreateMailboxAsync();

        var created = await operatorClient.PostAsJsonAsync("/api/workspaces", new { name = "Tenant A" }).ExpectAsync(HttpStatusCode.Created);
        var key = created.GetProperty("adminKey").GetProperty("key").GetString()!;
        Assert.Equal("admin", created.GetProperty("adminKey").GetProperty("role").GetString());
        var tenantId = created.GetProperty("workspace").GetProperty("id").GetGuid();

        var tenant = app.Client(key);
        var own = await tenant.GetAsync("/api/workspace").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal((tenantId, "Tenant A"), (own.GetProperty("id").GetGuid(), own.GetProperty("name").GetString()));
        Assert.Empty(await tenant.ListIdsAsync("/api/mailboxes"));
        await tenant.GetAsync($"/api/mailboxes/{mailbox}").ExpectAsync(HttpStatusCode.NotFound);
        Assert.DoesNotContain(key, (await (await tenant.GetAsync("/api/keys")).Content.ReadAsStringAsync()), StringComparison.Ordinal);

        // Another workspace's admin, and the default workspace's sdr, may not create workspaces.
        var refused = await tenant.PostAsJsonAsync("/api/workspaces", new { name = "Tenant B" }).ExpectAsync(HttpStatusCode.Forbidden);
        Assert.Contains("default workspace", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var sdr = app.Client(await CreateKeyAsync(operatorClient, "sdr"));
        await AssertForbiddenAsync(await sdr.PostAsJsonAsync("/api/workspaces", new { name = "Tenant C" }), "sdr POST /api/workspaces");

        Assert.Equal(["name"], (await operatorClient.PostAsJsonAsync("/api/workspaces", new { name = " " }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
    }

    /// <summary>Every /api endpoint: method, route template, and whether it carries the admin (or operator) policy.</summary>
    internal static List<(string Method, string Template, bool Admin)> ApiRoutes(ProspectorApp app)
    {
        var result = new List<(string, string, bool)>();
        foreach (var endpoint in app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var template = endpoint.RoutePattern.RawText ?? "";
            if (!template.StartsWith("/api", StringComparison.Ordinal))
            {
                continue;
            }

            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToArray();
            Assert.True(policies.Contains(ApiPolicies.ByMethod), $"{template} lacks the method rule");
            var isAdmin = policies.Contains(ApiPolicies.Admin) || policies.Contains(ApiPolicies.Operator);
            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])
            {
                result.Add((method, template, isAdmin));
                ContentTypes[$"{method} {template}"] = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.ContentTypes is { Count: > 0 } types ? types[0] : "application/json";
            }
        }

        return result;
    }

    // The body type each route accepts (routing answers 415 to others before authorization runs).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> ContentTypes = new(StringComparer.Ordinal);

    internal static string Fill(string template) => System.Text.RegularExpressions.Regex.Replace(template, "{([^}:]+)(:[^}]+)?}", m =>
        m.Groups[2].Value switch
        {
            ":guid" => Guid.NewGuid().ToString(),
            ":int" => "1",
            _ => "x",
        });

    internal static Task<HttpResponseMessage> Send(HttpClient client, string method, string url, string body = "{}", string? template = null)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (!MethodRoleRequirement.IsRead(method) && method != "DELETE")
        {
            var type = template is not null && ContentTypes.TryGetValue($"{method} {template}", out var t) ? t : "application/json";
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, type);
        }

        return client.SendAsync(request);
    }

    internal static async Task AssertForbiddenAsync(HttpResponseMessage response, string what)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{what}: expected 403, got {(int)response.StatusCode} {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(text);
            Assert.Equal(403, problem.RootElement.GetProperty("status").GetInt32());
            Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("detail").GetString()));
        }
    }
}
