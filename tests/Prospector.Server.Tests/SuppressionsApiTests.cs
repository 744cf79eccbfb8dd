using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Prospector.Core.Prospects;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class SuppressionsApiTests
{
    private static string Q(string name, string value) => $"/api/suppressions?{name}={Uri.EscapeDataString(value)}";

    [Fact]
    public async Task AddCheckListDelete_StoresOnlyHashes_AndDomainEntryCoversEveryAddress()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var admin = app.Client();
        var sdr = app.Client(await AccessTests.CreateKeyAsync(admin, "sdr"));

        var added = await sdr.PostAsJsonAsync("/api/suppressions", new { email = " Ann.Lee@Acme.test " }).ExpectAsync(HttpStatusCode.Created);
        Assert.Equal((SuppressionKeys.ForAddress("ann.lee@acme.test"), "address", "manual"),
            (added.GetProperty("hash").GetString(), added.GetProperty("kind").GetString(), added.GetProperty("reason").GetString()));
        var again = await sdr.PostAsJsonAsync("/api/suppressions", new { email = "ann.lee@acme.test" }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(added.GetProperty("createdAt").GetDateTimeOffset(), again.GetProperty("createdAt").GetDateTimeOffset());
        var domain = await sdr.PostAsJsonAsync("/api/suppressions", new { domain = "Blocked.test" }).ExpectAsync(HttpStatusCode.Created);
        Assert.Equal((SuppressionKeys.ForDomain("blocked.test"), "domain"), (domain.GetProperty("hash").GetString(), domain.GetProperty("kind").GetString()));

        // Checks: by address, by an address covered by the domain entry, by the domain, and a miss.
        var viewer = app.Client(await AccessTests.CreateKeyAsync(admin, "viewer"));
        Assert.Equal(["address"], Kinds(await viewer.GetAsync(Q("email", "ANN.LEE@acme.test")).ExpectAsync(HttpStatusCode.OK)));
        Assert.Equal(["domain"], Kinds(await viewer.GetAsync(Q("email", "anyone@blocked.test")).ExpectAsync(HttpStatusCode.OK)));
        Assert.Equal(["domain"], Kinds(await viewer.GetAsync(Q("domain", "BLOCKED.test")).ExpectAsync(HttpStatusCode.OK)));
        var miss = await viewer.GetAsync(Q("email", "ann.lee@other.test")).ExpectAsync(HttpStatusCode.OK);
        Assert.False(miss.GetProperty("suppressed").GetBoolean());
        Assert.Empty(miss.GetProperty("entries").EnumerateArray());

        // The list: hashes only, keyset paged; no clear text anywhere in the database either.
        var first = await viewer.GetAsync("/api/suppressions?limit=1").ExpectAsync(HttpStatusCode.OK);
        var next = first.GetProperty("nextCursor").GetString()!;
        var second = await viewer.GetAsync($"/api/suppressions?limit=5&after={next}").ExpectAsync(HttpStatusCode.OK);
        var hashes = first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray()).Select(i => i.GetProperty("hash").GetString()).ToArray();
        Assert.Equal(new[] { SuppressionKeys.ForAddress("ann.lee@acme.test"), SuppressionKeys.ForDomain("blocked.test") }.Order(StringComparer.Ordinal), hashes);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);
        Assert.DoesNotContain("acme", first.ToString() + second, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0L, await StepHarness.ScalarAsync<long>(app, "select count(*) from suppressions where address_hash like '%@%' or address_hash like '%acme%' or address_hash like '%blocked%'"));

        // Delete: manual entries by an SDR; a viewer may not; a missing entry is 404; then the check says no.
        await viewer.DeleteAsync(Q("domain", "blocked.test")).ExpectAsync(HttpStatusCode.Forbidden);
        await sdr.DeleteAsync(Q("domain", "blocked.test")).ExpectAsync(HttpStatusCode.NoContent);
        await sdr.DeleteAsync(Q("domain", "blocked.test")).ExpectAsync(HttpStatusCode.NotFound);
        Assert.False((await viewer.GetAsync(Q("email", "anyone@blocked.test")).ExpectAsync(HttpStatusCode.OK)).GetProperty("suppressed").GetBoolean());
    }

    [Fact]
    public async Task Delete_Answers409ToSdr_WhenEntryIsRecipientsOwnUnsubscribe_AdminMayLiftIt()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var admin = app.Client();
        var sdr = app.Client(await AccessTests.CreateKeyAsync(admin, "sdr"));
        var workspaceId = await StepHarness.ScalarAsync<Guid>(app, "select id from workspaces");
        await StepHarness.ExecuteAsync(app,
            "insert into suppressions (workspace_id, address_hash, kind, reason, created_at) values (@workspaceId, @hash, 'address', 'unsubscribe_link', @now)",
            new { workspaceId, hash = SuppressionKeys.ForAddress("objector@acme.test"), now = DateTimeOffset.UtcNow });

        var conflict = await sdr.DeleteAsync(Q("email", "objector@acme.test")).ExpectAsync(HttpStatusCode.Conflict);
        Assert.Contains("admin", conflict.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True((await sdr.GetAsync(Q("email", "objector@acme.test")).ExpectAsync(HttpStatusCode.OK)).GetProperty("suppressed").GetBoolean());
        await admin.DeleteAsync(Q("email", "objector@acme.test")).ExpectAsync(HttpStatusCode.NoContent);
        Assert.False((await sdr.GetAsync(Q("email", "objector@acme.test")).ExpectAsync(HttpStatusCode.OK)).GetProperty("suppressed").GetBoolean());
    }

    [Fact]
    public async Task Requests_AreRefusedNamingTheField_WhenNotExactlyOneValidEmailOrDomain()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var http = app.Client();

        Assert.Equal(["domain", "email"], (await http.PostAsJsonAsync("/api/suppressions", new { email = "a@acme.test", domain = "acme.test" }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys().Order());
        Assert.Equal(["email"], (await http.PostAsJsonAsync("/api/suppressions", new { }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["email"], (await http.PostAsJsonAsync("/api/suppressions", new { email = "not an address" }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["domain"], (await http.PostAsJsonAsync("/api/suppressions", new { domain = "a@acme.test" }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["domain"], (await http.PostAsJsonAsync("/api/suppressions", new { domain = "localhost" }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["address"], (await http.PostAsJsonAsync("/api/suppressions", new { address = "a@acme.test" }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["email"], (await http.GetAsync(Q("email", "nope")).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["after"], (await http.GetAsync("/api/suppressions?after=xyz").ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["email"], (await http.DeleteAsync("/api/suppressions").ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(0L, await StepHarness.ScalarAsync<long>(app, "select count(*) from suppressions"));
    }

    [Fact]
    public async Task Entries_AreInvisibleAndUntouchable_FromAnotherWorkspace()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var a = app.Client();
        var (_, bKey) = await app.CreateWorkspaceAsync("B");
        var b = app.Client(bKey);
        await b.PostAsJsonAsync("/api/suppressions", new { domain = "theirs.test" }).ExpectAsync(HttpStatusCode.Created);

        Assert.False((await a.GetAsync(Q("email", "x@theirs.test")).ExpectAsync(HttpStatusCode.OK)).GetProperty("suppressed").GetBoolean());
        Assert.Empty((await a.GetAsync("/api/suppressions").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        await a.DeleteAsync(Q("domain", "theirs.test")).ExpectAsync(HttpStatusCode.NotFound);
        Assert.True((await b.GetAsync(Q("email", "x@theirs.test")).ExpectAsync(HttpStatusCode.OK)).GetProperty("suppressed").GetBoolean());
    }

    private static string[] Kinds(JsonElement check)
    {
        Assert.True(check.GetProperty("suppressed").GetBoolean());
        return check.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("kind").GetString()!).ToArray();
    }
}
