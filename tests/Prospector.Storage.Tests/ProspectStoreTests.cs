using System.Text.Json;

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
}

public sealed class PostgresProspectStoreTests() : ProspectStoreTests(SqlDialect.Postgres);

public sealed class SqliteProspectStoreTests() : ProspectStoreTests(SqlDialect.Sqlite);
