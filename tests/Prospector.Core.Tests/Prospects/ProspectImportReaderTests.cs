using System.Text;
using Prospector.Core.Prospects;

namespace Prospector.Core.Tests.Prospects;

public class ProspectImportReaderTests
{
    private static async Task<List<ImportRecord>> ReadAsync(string text, ImportFormat format = ImportFormat.Csv, ImportReadOptions? options = null, bool bom = false)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bom)
        {
            bytes = [.. Encoding.UTF8.GetPreamble(), .. bytes];
        }

        var list = new List<ImportRecord>();
        await foreach (var r in ProspectImportReader.ReadAsync(new MemoryStream(bytes), format, options ?? ImportReadOptions.Default))
        {
            list.Add(r);
        }

        return list;
    }

    [Theory]
    [InlineData("email,first_name", ',')]
    [InlineData("email;first_name;\"a,b\"", ';')]
    [InlineData("email\tfirst_name\tcompany", '\t')]
    [InlineData("email|first_name", '|')]
    [InlineData("email", ',')]
    public void DetectDelimiter_PicksTheMostFrequentCandidateOutsideQuotes(string header, char expected)
        => Assert.Equal(expected, ProspectImportReader.DetectDelimiter(header));

    [Fact]
    public async Task ReadAsync_ReadsSemicolonFile_WithBomAndQuotedDelimiter()
    {
        var records = await ReadAsync("Email;First Name;Company\r\nann@acme.test;Ann;\"Acme; Inc\"\r\nbob@acme.test;Bob;Beta\r\n", bom: true);

        Assert.Equal([2, 3], records.Select(r => r.Row));
        var ann = records[0].Prospect!;
        Assert.Equal(("ann@acme.test", "Ann", "Acme; Inc"), (ann["email"], ann["first_name"], ann["company"]));
    }

    [Fact]
    public async Task ReadAsync_ReadsTabFile_WithAliasesAndCustomColumns()
    {
        var records = await ReadAsync("E-mail Address\tfirstname\tJob Title\tLinkedIn URL\tCompany Name\tLead Source\n" +
                                      "ann@acme.test\tAnn\tCTO\tlinkedin.com/in/ann\tAcme\tWebinar 2025\n");

        var p = Assert.Single(records).Prospect!;
        Assert.Equal("ann@acme.test", p["email"]);
        Assert.Equal("Ann", p["first_name"]);
        Assert.Equal("CTO", p["title"]);
        Assert.Equal("linkedin.com/in/ann", p["linkedin_url"]);
        Assert.Equal("Acme", p["company"]);
        Assert.Equal("Webinar 2025", p.Custom["lead_source"]);
    }

    [Fact]
    public async Task ReadAsync_UsesExplicitMapping_OverAliases()
    {
        var options = new ImportReadOptions(null, new Dictionary<string, string> { ["email"] = "Courriel", ["first_name"] = "Name" });

        var records = await ReadAsync("Courriel,Name,email\nann@acme.test,Ann,old@acme.test\n", options: options);

        var p = Assert.Single(records).Prospect!;
        Assert.Equal(("ann@acme.test", "Ann"), (p["email"], p["first_name"]));
        Assert.Equal("old@acme.test", p.Custom["email"]); // the aliased column lost to the mapping and is kept as a custom field
    }

    [Fact]
    public async Task ReadAsync_Throws_WhenNoEmailOrLinkedinColumn()
    {
        var ex = await Assert.ThrowsAsync<ImportFileException>(() => ReadAsync("name,company\nAnn,Acme\n"));
        Assert.Contains("no email or linkedin_url column", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_Throws_WhenMappedHeaderIsMissing()
        => await Assert.ThrowsAsync<ImportFileException>(() => ReadAsync("email\na@b.test\n", options: new(null, new Dictionary<string, string> { ["phone"] = "Tel" })));

    [Fact]
    public async Task ReadAsync_ReportsRowErrors_ForWrongFieldCountAndKeepsFileRowNumbers()
    {
        var records = await ReadAsync("email,first_name\nann@acme.test,Ann\n\nbob@acme.test,Bob,extra\ncid@acme.test,\"Cid\n Jr\"\ndee@acme.test,Dee\n");

        Assert.Equal("ann@acme.test", records[0].Prospect!["email"]);
        Assert.Equal(2, records[0].Row);
        var bad = records.Single(r => r.Prospect is null);
        Assert.Equal(4, bad.Row);
        Assert.Contains("3 fields", bad.Error, StringComparison.Ordinal);
        Assert.Equal("Cid\n Jr", records.Single(r => r.Prospect?["email"] == "cid@acme.test").Prospect!["first_name"]);
        Assert.Equal(7, records[^1].Row);
    }

    [Fact]
    public async Task ReadAsync_CountOnly_YieldsTheSameRecordsAsAFullRead()
    {
        const string csv = "email,first_name\nann@acme.test,Ann\n\n , \nbob@acme.test,Bob,extra\n\"unterminated,x\n";

        var full = await ReadAsync(csv);
        var counted = await ReadAsync(csv, options: ImportReadOptions.Default with { CountOnly = true });

        Assert.Equal(full.Select(r => r.Row), counted.Select(r => r.Row));
    }

    [Fact]
    public async Task ReadAsync_UnescapesFormulaPrefix_WrittenByExport()
    {
        var records = await ReadAsync("email,phone,note\nann@acme.test,'+33 1 23,'=1+1\n");

        var p = Assert.Single(records).Prospect!;
        Assert.Equal("+33 1 23", p["phone"]);
        Assert.Equal("=1+1", p.Custom["note"]);
    }

    [Theory]
    [InlineData("=SUM(A1)", "'=SUM(A1)")]
    [InlineData("+1", "'+1")]
    [InlineData("-1", "'-1")]
    [InlineData("@cmd", "'@cmd")]
    [InlineData("\tx", "'\tx")]
    [InlineData("\rx", "'\rx")]
    [InlineData("Ann", "Ann")]
    [InlineData("a=b", "a=b")]
    [InlineData("", "")]
    public void Escape_PrefixesFormulaCells_AndLeavesOthers(string value, string expected)
    {
        Assert.Equal(expected, ProspectImportReader.Escape(value));
        Assert.Equal(value, ProspectImportReader.Unescape(ProspectImportReader.Escape(value)));
    }

    [Fact]
    public async Task ReadAsync_ReadsJsonArray_WithCamelCaseFieldsAndCustomFields()
    {
        var records = await ReadAsync(
            """[{"email":"ann@acme.test","firstName":"Ann","linkedinUrl":"linkedin.com/in/ann","customFields":{"tier":"gold"},"score":7}, 42]""",
            ImportFormat.Json);

        Assert.Equal(2, records.Count);
        var p = records[0].Prospect!;
        Assert.Equal(("ann@acme.test", "Ann", "linkedin.com/in/ann"), (p["email"], p["first_name"], p["linkedin_url"]));
        Assert.Equal(("gold", "7"), (p.Custom["tier"], p.Custom["score"]));
        Assert.Equal((2, "is not a JSON object"), (records[1].Row, records[1].Error));
    }

    [Fact]
    public async Task ReadAsync_ReadsNdjson_WithLineNumbersAndBadLines()
    {
        var records = await ReadAsync("{\"email\":\"ann@acme.test\"}\n\n{oops\n{\"linkedin\":\"linkedin.com/in/bob\"}\n", ImportFormat.Ndjson);

        Assert.Equal([1, 3, 4], records.Select(r => r.Row));
        Assert.NotNull(records[1].Error);
        Assert.Equal("linkedin.com/in/bob", records[2].Prospect!["linkedin_url"]);
    }

    [Fact]
    public async Task ReadAsync_Throws_WhenJsonIsNotAnArray()
        => await Assert.ThrowsAsync<ImportFileException>(() => ReadAsync("""{"email":"a@b.test"}""", ImportFormat.Json));
}
