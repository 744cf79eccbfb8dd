using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Prospector.Storage;

namespace Prospector.Server.Tests;

/// <summary>
/// Workspace A's admin key, aimed at workspace B's objects through every /api route that takes an id, with every method
/// the route has, always gets 404; B's objects are unchanged afterwards; A's list routes never show B's ids.
/// Routes are found in the app's EndpointDataSource, so a new route is probed (or fails the test) without edits here,
/// except for one line in <see cref="Creators"/> per new resource and, when the route needs a body to get past
/// binding, one line in <see cref="Bodies"/>.
/// </summary>
public partial class CrossWorkspaceProbeTests
{
    /// <summary>
    /// Route prefix before a <c>{…:guid}</c> parameter (constraints removed) → how a workspace creates such an object through
    /// the API. Creators may ask the side for other objects (<c>s.IdOf("/api/sequences")</c>); each is made once per side.
    /// </summary>
    private static readonly Dictionary<string, Func<Side, Task<Guid>>> Creators = new(StringComparer.Ordinal)
    {
        ["/api/mailboxes"] = s => s.Client.CreateMailboxAsync($"{s.Name} box", $"{s.Name}@example.com"),
        ["/api/sequences"] = s => s.Client.CreateSequenceAsync($"{s.Name} sequence"),
        ["/api/prospects"] = async s => (await s.Client.ImportProspectsAsync($"{s.Name}.prospect@example.com"))[0],
        ["/api/enrollments"] = async s => (await s.Client.EnrollAsync(await s.IdOf("/api/sequences"), await s.IdOf("/api/mailboxes"), await s.IdOf("/api/prospects")))
            .GetProperty("enrolled")[0].GetProperty("enrollmentId").GetGuid(),
        ["/api/owners"] = async s => (await s.Client.PostAsJsonAsync("/api/owners", new { name = $"{s.Name} owner", email = $"{s.Name}.owner@example.com" })
            .ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid(),
        ["/api/audiences"] = async s => (await s.Client.PostAsJsonAsync("/api/audiences", new { name = $"{s.Name} audience" })
            .ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid(),
        ["/api/imports"] = async s => (await s.Client.PostImportAsync($"email\n{s.Name}.imported@example.com\n")).GetProperty("id").GetGuid(),
        // Tasks are made by the dispatcher; the probe app runs the API role only, so B's task is written directly.
        ["/api/tasks"] = async s => await s.App.ScalarAsync<Guid>(
            """
            insert into tasks (id, workspace_id, enrollment_id, step_id, type, title, state, due_at, created_at)
            select @id, workspace_id, id, 'probe-call', 'call', 'Call', 'open', @now, @now from enrollments where id = @enrollment
            returning id
            """, new { id = Guid.NewGuid(), enrollment = await s.IdOf("/api/enrollments"), now = DateTimeOffset.UtcNow }),
        // Sends are made by the dispatcher too: B's (an 'unknown' one, resolvable) is written directly.
        ["/api/sends"] = async s => await s.App.ScalarAsync<Guid>(
            """
            insert into sends (id, workspace_id, enrollment_id, step_id, mailbox_id, message_id, state, attempts, created_at, updated_at)
            select @id, workspace_id, id, 'intro', mailbox_id, @messageId, 'unknown', 1, @now, @now from enrollments where id = @enrollment
            returning id
            """, new { id = Guid.NewGuid(), messageId = $"{Guid.NewGuid():N}@example.com", enrollment = await s.IdOf("/api/enrollments"), now = DateTimeOffset.UtcNow }),
        ["/api/keys"] = async s => (await s.Client.PostAsJsonAsync("/api/keys", new { name = $"{s.Name} probe key", role = "viewer" })
            .ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid(),
    };

    /// <summary>"METHOD template" → a valid body made of A's own objects (so only the route id is foreign). Default: <c>{}</c>.</summary>
    private static readonly Dictionary<string, Func<Side, Task<object>>> Bodies = new(StringComparer.Ordinal)
    {
        ["POST /api/sequences/{id:guid}/enrollments"] = async a => new { prospectIds = new[] { await a.IdOf("/api/prospects") }, mailboxId = await a.IdOf("/api/mailboxes") },
        ["PUT /api/sequences/{id:guid}"] = _ => Task.FromResult<object>(ApiTestKit.SequenceBody()),
        ["POST /api/sequences/{id:guid}/migrations"] = _ => Task.FromResult<object>(new { fromVersion = 1 }),
        ["PATCH /api/audiences/{id:guid}"] = _ => Task.FromResult<object>(new { name = "renamed by A" }),
        ["POST /api/audiences/{id:guid}/members"] = async a => new { prospectIds = new[] { await a.IdOf("/api/prospects") } },
        ["DELETE /api/audiences/{id:guid}/members"] = async a => new { prospectIds = new[] { await a.IdOf("/api/prospects") } },
        ["POST /api/sequences/{id:guid}/preview"] = async a => new { prospectId = await a.IdOf("/api/prospects") },
        ["POST /api/sends/{id:guid}/resolve"] = _ => Task.FromResult<object>(new { outcome = "not_sent" }),
        ["POST /api/sequences/{id:guid}/simulate"] = async a => new { prospectIds = new[] { await a.IdOf("/api/prospects") }, mailboxIds = new[] { await a.IdOf("/api/mailboxes") } },
    };

    [Fact]
    public async Task EveryIdRoute_Answers404_WhenWorkspaceAUsesWorkspaceBsIds()
    {
        // API role only: no dispatcher changes B's enrollments while we compare snapshots.
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, new Dictionary<string, string?> { ["role"] = "api" });
        var a = new Side("a", app.Client(), app);
        var created = await a.Client.PostAsJsonAsync("/api/workspaces", new { name = "B" }).ExpectAsync(HttpStatusCode.Created);
        var b = new Side("b", app.Client(created.GetProperty("adminKey").GetProperty("key").GetString()!), app);
        var bWorkspace = created.GetProperty("workspace").GetProperty("id").GetGuid();

        var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Template: e.RoutePattern.RawText ?? "", Methods: e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []))
            .Where(r => r.Template.StartsWith("/api", StringComparison.Ordinal))
            .ToArray();
        var idRoutes = routes.Where(r => GuidParameter().IsMatch(r.Template)).ToArray();
        Assert.NotEmpty(idRoutes);

        // Every prefix must be in the table: a new resource cannot slip through unprobed.
        var missing = idRoutes.SelectMany(r => Prefixes(r.Template)).Distinct().Where(p => !Creators.ContainsKey(p)).ToArray();
        Assert.True(missing.Length == 0, string.Join("; ", missing.Select(p => $"add {p} to the probe table (CrossWorkspaceProbeTests.Creators)")));

        // Create B's objects, and snapshot what B sees of each through its item route, to prove A's probes change nothing.
        var itemRoutes = idRoutes.Where(r => r.Methods.Contains("GET") && Prefixes(r.Template).Length == 1 && r.Template.EndsWith('}')).ToArray();
        var before = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var prefix in Creators.Keys)
        {
            // All of B's objects first: creating one (an enrollment) changes what B sees of another (a version's running count).
            await b.IdOf(prefix);
        }

        foreach (var (template, _) in itemRoutes)
        {
            var url = await FillAsync(template, b);
            before[url] = await b.Client.GetStringAsync(url);
        }

        var probed = 0;
        foreach (var (template, methods) in idRoutes)
        {
            var url = await FillAsync(template, b);
            foreach (var method in methods)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), url);
                if (method is not ("GET" or "HEAD") && (method != "DELETE" || Bodies.ContainsKey($"{method} {template}")))
                {
                    var body = Bodies.TryGetValue($"{method} {template}", out var make) ? await make(a) : new { };
                    request.Content = JsonContent.Create(body);
                }

                using var response = await a.Client.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {template} with B's id answered {(int)response.StatusCode} to A: {text}");
                probed++;
            }
        }

        Assert.True(probed >= 12, $"only {probed} probes");
        foreach (var (url, snapshot) in before)
        {
            Assert.Equal(snapshot, await b.Client.GetStringAsync(url));
        }

        // B's probe key (A tried to DELETE it) still works.
        Assert.Contains(await b.IdOf("/api/keys"), (await b.Client.GetAsync("/api/keys").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").Ids());

        // A's list routes (every GET without a route parameter) never mention any of B's ids.
        var bIds = b.Created.Select(g => g.ToString()).Append(bWorkspace.ToString()).ToArray();
        Assert.True(bIds.Length >= Creators.Count);
        foreach (var (template, _) in routes.Where(r => r.Methods.Contains("GET") && !r.Template.Contains('{', StringComparison.Ordinal)))
        {
            using var response = await a.Client.GetAsync(template);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound, $"GET {template}: {(int)response.StatusCode}");
            foreach (var id in bIds)
            {
                Assert.False(text.Contains(id, StringComparison.OrdinalIgnoreCase), $"GET {template} as A shows B's {id}");
            }
        }

        // And B's lists do show B's objects (the check above is not vacuous).
        Assert.Contains(await b.IdOf("/api/mailboxes"), await b.Client.ListIdsAsync("/api/mailboxes"));
        Assert.Contains(await b.IdOf("/api/owners"), await b.Client.ListIdsAsync("/api/owners"));
    }

    // "/api/audiences/{id:guid}/members/{prospectId:guid}" → ["/api/audiences", "/api/audiences/{id}/members"]
    private static string[] Prefixes(string template)
        => GuidParameter().Matches(template).Select(m => Constraint().Replace(template[..m.Index], "}")).ToArray();

    private static async Task<string> FillAsync(string template, Side side)
    {
        var url = template;
        foreach (var prefix in Prefixes(template))
        {
            var id = await side.IdOf(prefix);
            var match = GuidParameter().Match(url);
            url = url[..match.Index] + "/" + id + url[(match.Index + match.Length)..];
        }

        return Regex.Replace(url, "{[^}]*:int}", "1");
    }

    [GeneratedRegex("/{[^}:]+:guid}")]
    private static partial Regex GuidParameter();

    [GeneratedRegex(":[^}]+}")]
    private static partial Regex Constraint();

    /// <summary>One workspace's client and the objects it made for the probes.</summary>
    private sealed class Side(string name, HttpClient client, ProspectorApp app)
    {
        private readonly Dictionary<string, Guid> _ids = new(StringComparer.Ordinal);

        public string Name => name;

        public HttpClient Client => client;

        public ProspectorApp App => app;

        public IEnumerable<Guid> Created => _ids.Values;

        public async Task<Guid> IdOf(string prefix)
        {
            if (!_ids.TryGetValue(prefix, out var id))
            {
                id = await Creators[prefix](this);
                _ids[prefix] = id;
            }

            return id;
        }
    }
}
