using System.Text.Json;
using Prospector.Core.Prospects;
using Prospector.Storage.Stores;

namespace Prospector.Storage.Tests;

public abstract class ProspectStoreTests(SqlDialect dialect) : StoreTestBase(dialect)
{
    [Fact]
    public async Task UpsertAsync_UpdatesSameProspect_WhenEmailDiffersOnlyInCaseAndWhitespace()
    {
        var ws = await Data.WorkspaceAsync();
        var first = await Data.Prospects.UpsertAsync(ws, [TestData.Input("  Alice@Example.COM ", "Alice", null, "Acme", new() { ["a"] = "1", ["b"] = "2" })], TestData.T0, Ct);

        var second = await Data.Prospects.UpsertAsync(ws, [TestData.Input("alice@example.com", null, "Smith", null, new() { ["b"] = "3", ["c"] = "4" })], TestData.T0.AddMinutes(1), Ct);

        Assert.Equal((1, 0), (first.Created, first.Updated));
        Assert.Equal((0, 1), (second.Created, second.Updated));
        Assert.Equal(first.Ids, second.Ids);
        var p = await Data.Prospects.GetAsync(ws, first.Ids[0], Ct);
        Assert.NotNull(p);
        Assert.Equal("Alice@Example.COM", p.Email);
        Assert.Equal("Alice", p.FirstName);
        Assert.Equal("Smith", p.LastName);
        Assert.Equal("Acme", p.Company);
        var custom = JsonSerializer.Deserialize<Dictionary<string, string>>(p.CustomFields)!;
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "3", ["c"] = "4" }, custom);
        Assert.Single(await Data.Prospects.ListAsync(ws, null, null, 100, Ct));
    }

    [Fact]
    public async Task UpsertAsync_CreatesOneProspect_WhenSameEmailAppearsTwiceInOneImport()
    {
        var ws = await Data.WorkspaceAsync();

        var result = await Data.Prospects.UpsertAsync(ws, [TestData.Input("dup@example.test", "One"), TestData.Input("DUP@example.test ", null, "Two")], TestData.T0, Ct);

        Assert.Equal((1, 1), (result.Created, result.Updated));
        Assert.Equal(result.Ids[0], result.Ids[1]);
        var p = await Data.Prospects.GetAsync(ws, result.Ids[0], Ct);
        Assert.Equal(("One", "Two"), (p!.FirstName, p.LastName));
    }

    [Fact]
    public async Task UpsertAsync_CreatesSeparateProspects_WhenSameEmailIsInAnotherWorkspace()
    {
        var ws1 = await Data.WorkspaceAsync();
        var ws2 = await Data.WorkspaceAsync("two");

        var a = await Data.Prospects.UpsertAsync(ws1, [TestData.Input("x@example.test")], TestData.T0, Ct);
        var b = await Data.Prospects.UpsertAsync(ws2, [TestData.Input("x@example.test")], TestData.T0, Ct);

        Assert.Equal(1, b.Created);
        Assert.NotEqual(a.Ids[0], b.Ids[0]);
        Assert.Null(await Data.Prospects.GetAsync(ws2, a.Ids[0], Ct));
    }

    [Fact]
    public async Task ListAsync_PagesThroughAllProspectsInIdOrder_WhenUsingAfterAndLimit()
    {
        var ws = await Data.WorkspaceAsync();
        var created = await Data.Prospects.UpsertAsync(ws, Enumerable.Range(1, 5).Select(i => TestData.Input($"p{i}@example.test")).ToList(), TestData.T0, Ct);
        var other = await Data.WorkspaceAsync("other");
        await Data.ProspectAsync(other, "p1@example.test");

        var pages = new List<IReadOnlyList<Guid>>();
        Guid? after = null;
        while (true)
        {
            var page = await Data.Prospects.ListAsync(ws, null, after, 2, Ct);
            if (page.Count == 0)
            {
                break;
            }

            pages.Add(page.Select(p => p.Id).ToList());
            after = page[^1].Id;
            Assert.True(pages.Count <= 5, "paging does not terminate");
        }

        Assert.Equal([2, 2, 1], pages.Select(p => p.Count));
        var all = pages.SelectMany(p => p).ToList();
        Assert.Equal(created.Ids.Order(), all.Order());
        var asText = all.Select(id => id.ToString("D")).ToList();
        Assert.Equal(asText.Order(StringComparer.Ordinal), asText);
    }

    [Fact]
    public async Task ListAsync_ReturnsOnlyMatchingProspect_WhenFilteredOnEmailInAnyCase()
    {
        var ws = await Data.WorkspaceAsync();
        await Data.Prospects.UpsertAsync(ws, [TestData.Input("a@example.test"), TestData.Input("Bob@Example.test")], TestData.T0, Ct);

        var found = await Data.Prospects.ListAsync(ws, "  BOB@example.TEST", null, 10, Ct);

        Assert.Equal("Bob@Example.test", Assert.Single(found).Email);
        Assert.Empty(await Data.Prospects.ListAsync(ws, "nobody@example.test", null, 10, Ct));
    }

    private static ProspectInput Full(string? email, string? linkedin = null, string? firstName = null, string? company = null, string? domain = null, Guid? owner = null)
        => new(email, linkedin, firstName, null, null, null, company, domain, null, null, owner, new Dictionary<string, string>());

    [Fact]
    public async Task UpsertAsync_MatchesOnLinkedin_WhenEmailIsNewAndUrlSpelledDifferently()
    {
        var ws = await Data.WorkspaceAsync();
        var first = await Data.Prospects.UpsertAsync(ws, [Full(null, "https://www.linkedin.com/in/Ada-L/", "Ada")], TestData.T0, Ct);

        var second = await Data.Prospects.UpsertAsync(ws, [Full("ada@acme.test", "fr.linkedin.com/in/ada-l?trk=1")], TestData.T0, Ct);

        Assert.Equal((0, 1), (second.Created, second.Updated));
        Assert.Equal(first.Ids, second.Ids);
        var p = await Data.Prospects.GetAsync(ws, first.Ids[0], Ct);
        Assert.Equal(("ada@acme.test", "Ada"), (p!.Email, p.FirstName));
        Assert.Single(await Data.Prospects.ListAsync(ws, null, null, 10, Ct));
    }

    [Fact]
    public async Task UpsertAsync_RejectsRow_WhenEmailAndLinkedinMatchTwoProspects()
    {
        var ws = await Data.WorkspaceAsync();
        await Data.Prospects.UpsertAsync(ws, [Full("ann@acme.test", firstName: "Ann"), Full(null, "linkedin.com/in/bob", "Bob")], TestData.T0, Ct);

        var ex = await Assert.ThrowsAsync<ProspectStore.UpsertRejectedException>(() =>
            Data.Prospects.UpsertAsync(ws, [Full("cid@acme.test"), Full("ann@acme.test", "linkedin.com/in/bob", "X")], TestData.T0, Ct));

        var error = Assert.Single(ex.Errors);
        Assert.Equal(1, error.Index);
        Assert.Contains("matches two prospects", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await Data.Prospects.ListAsync(ws, null, null, 10, Ct)).Count); // nothing applied, cid not created
        Assert.Equal("Ann", (await Data.Prospects.ListAsync(ws, "ann@acme.test", null, 1, Ct))[0].FirstName);
    }

    [Fact]
    public async Task UpsertAsync_LinksOneCompanyPerDomain_AndNoneForFreeMail()
    {
        var ws = await Data.WorkspaceAsync();

        var result = await Data.Prospects.UpsertAsync(
            ws, [Full("ann@acme.test", company: "Acme"), Full("bob@ACME.test"), Full("cid@gmail.com"), Full("dee@gmail.com", domain: "beta.test", company: "Beta")],
            TestData.T0, Ct);
        await Data.Prospects.UpsertAsync(ws, [Full("eve@acme.test", company: "Acme Corp")], TestData.T0, Ct);

        var companies = await Data.Companies.ListAsync(ws, Ct);
        Assert.Equal(["acme.test", "beta.test"], companies.Select(c => c.Domain));
        Assert.Equal("Acme Corp", companies[0].Name);
        var rows = await Task.WhenAll(result.Ids.Select(id => Data.Prospects.GetAsync(ws, id, Ct)));
        Assert.Equal(companies[0].Id, rows[0]!.CompanyId);
        Assert.Equal(companies[0].Id, rows[1]!.CompanyId);
        Assert.Null(rows[2]!.CompanyId);
        Assert.Equal(companies[1].Id, rows[3]!.CompanyId);
        var byCompany = await Data.Prospects.FindAsync(ws, new ProspectStore.ListFilter(CompanyId: companies[0].Id), null, 10, Ct);
        Assert.Equal(3, byCompany.Count);
    }

    [Fact]
    public async Task UpsertAsync_RegistersCustomFieldNames_AndRejectsUnknownOwner()
    {
        var ws = await Data.WorkspaceAsync();
        await Data.Prospects.UpsertAsync(ws, [TestData.Input("a@acme.test", custom: new() { ["tier"] = "gold", ["source"] = "x" })], TestData.T0, Ct);

        Assert.Equal(["source", "tier"], await Data.Prospects.CustomFieldNamesAsync(ws, Ct));
        var ex = await Assert.ThrowsAsync<ProspectStore.UpsertRejectedException>(() =>
            Data.Prospects.UpsertAsync(ws, [Full("b@acme.test", owner: Guid.NewGuid())], TestData.T0, Ct));
        Assert.Equal("owner_id", Assert.Single(ex.Errors).Field);
    }

    [Fact]
    public async Task UpsertAsync_NeverBlanksStoredValues_WhenIncomingIsEmpty()
    {
        var ws = await Data.WorkspaceAsync();
        var first = await Data.Prospects.UpsertAsync(ws, [Full("a@acme.test", "linkedin.com/in/ann-l", "Ann", "Acme")], TestData.T0, Ct);

        await Data.Prospects.UpsertAsync(ws, [Full("A@acme.test")], TestData.T0, Ct);

        var p = await Data.Prospects.GetAsync(ws, first.Ids[0], Ct);
        Assert.Equal(("a@acme.test", "linkedin.com/in/ann-l", "Ann", "Acme"), (p!.Email, p.LinkedinUrl, p.FirstName, p.Company));
    }

    [Fact]
    public async Task Audiences_DeleteRemovesMembershipButKeepsProspects()
    {
        var ws = await Data.WorkspaceAsync();
        var ids = (await Data.Prospects.UpsertAsync(ws, [TestData.Input("a@acme.test"), TestData.Input("b@acme.test")], TestData.T0, Ct)).Ids;
        var audience = await Data.Audiences.CreateAsync(ws, "Q1", TestData.T0, Ct);

        Assert.Equal(2, await Data.Audiences.AddMembersAsync(audience.Id, [ids[0], ids[1], ids[0]], TestData.T0, Ct));
        Assert.Equal(0, await Data.Audiences.AddMembersAsync(audience.Id, [ids[0]], TestData.T0, Ct));
        Assert.Equal(2, (await Data.Audiences.GetAsync(ws, audience.Id, Ct))!.Members);
        Assert.Equal(2, (await Data.Prospects.FindAsync(ws, new ProspectStore.ListFilter(AudienceId: audience.Id), null, 10, Ct)).Count);
        Assert.Equal(1, await Data.Audiences.RemoveMembersAsync(audience.Id, [ids[1]], Ct));

        Assert.True(await Data.Audiences.DeleteAsync(ws, audience.Id, Ct));
        Assert.Null(await Data.Audiences.GetAsync(ws, audience.Id, Ct));
        Assert.Equal(2, (await Data.Prospects.ListAsync(ws, null, null, 10, Ct)).Count);
        var other = await Data.WorkspaceAsync("other");
        Assert.Equal([ids[0]], await Data.Audiences.UnknownProspectsAsync(other, [ids[0]], Ct));
    }
}

public sealed class PostgresProspectStoreTests() : ProspectStoreTests(SqlDialect.Postgres);

public sealed class SqliteProspectStoreTests() : ProspectStoreTests(SqlDialect.Sqlite);
