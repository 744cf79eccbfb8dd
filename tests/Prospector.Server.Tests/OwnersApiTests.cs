using System.Net;
using System.Net.Http.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class OwnersApiTests
{
    [Fact]
    public async Task Owners_CreateReadPatchArchive_WithUniqueEmailAndStateFilter()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var admin = app.Client();

        var ann = await admin.PostAsJsonAsync("/api/owners", new { name = "Ann Lee", email = "Ann@Acme.example" }).ExpectAsync(HttpStatusCode.Created);
        var annId = ann.GetProperty("id").GetGuid();
        Assert.Equal(("Ann Lee", "Ann@Acme.example", "active"), (ann.GetProperty("name").GetString(), ann.GetProperty("email").GetString(), ann.GetProperty("state").GetString()));
        var bobId = (await admin.PostAsJsonAsync("/api/owners", new { name = "Bob" }).ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();

        // Email unique per workspace, case-insensitively, on create and on patch: 409 naming email.
        var duplicate = await admin.PostAsJsonAsync("/api/owners", new { name = "Ann 2", email = " ann@acme.EXAMPLE" }).ExpectAsync(HttpStatusCode.Conflict);
        Assert.Equal(["email"], duplicate.ErrorKeys());
        Assert.Equal(["email"], (await admin.PatchAsJsonAsync($"/api/owners/{bobId}", new { email = "ANN@acme.example" }).ExpectAsync(HttpStatusCode.Conflict)).ErrorKeys());
        Assert.Equal(["email"], (await admin.PostAsJsonAsync("/api/owners", new { name = "X", email = "not an email" }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["name"], (await admin.PostAsJsonAsync("/api/owners", new { name = "" }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());

        // Patch is partial.
        var bob = await admin.PatchAsJsonAsync($"/api/owners/{bobId}", new { email = "bob@acme.example" }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("Bob", "bob@acme.example"), (bob.GetProperty("name").GetString(), bob.GetProperty("email").GetString()));
        bob = await admin.PatchAsJsonAsync($"/api/owners/{bobId}", new { name = "Robert" }).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("Robert", "bob@acme.example"), (bob.GetProperty("name").GetString(), bob.GetProperty("email").GetString()));

        // Delete archives: still readable, listed under state=archived, refused for new mailbox assignments.
        await admin.DeleteAsync($"/api/owners/{annId}").ExpectAsync(HttpStatusCode.NoContent);
        Assert.Equal("archived", (await admin.GetAsync($"/api/owners/{annId}").ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        Assert.Equal([annId], await admin.ListIdsAsync("/api/owners?state=archived"));
        Assert.Equal([bobId], await admin.ListIdsAsync("/api/owners?state=active"));
        Assert.Equal(["state"], (await admin.GetAsync("/api/owners?state=gone").ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        var withArchived = await admin.PostAsJsonAsync("/api/mailboxes", new
        {
            name = "Ann's", fromAddress = "ann@acme.example", smtp = ApiTestKit.Smtp(), ownerId = annId,
        }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["ownerId"], withArchived.ErrorKeys());

        // Paging: limit 1 walks the list by cursor.
        var first = await admin.GetAsync("/api/owners?limit=1").ExpectAsync(HttpStatusCode.OK);
        var cursor = first.GetProperty("nextCursor").GetGuid();
        var second = await admin.GetAsync($"/api/owners?limit=1&after={cursor}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([annId, bobId], first.GetProperty("items").Ids().Concat(second.GetProperty("items").Ids()));

        // SDRs and viewers read owners but cannot change them.
        var sdr = app.Client(await AccessTests.CreateKeyAsync(admin, "sdr"));
        Assert.Equal(2, (await sdr.ListIdsAsync("/api/owners")).Length);
        await AccessTests.AssertForbiddenAsync(await sdr.PostAsJsonAsync("/api/owners", new { name = "Eve" }), "sdr POST /api/owners");
        await admin.GetAsync($"/api/owners/{Guid.NewGuid()}").ExpectAsync(HttpStatusCode.NotFound);
    }
}
