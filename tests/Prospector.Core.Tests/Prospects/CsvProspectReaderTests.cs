using System.Text;
using Prospector.Core.Prospects;

namespace Prospector.Core.Tests.Prospects;

public class CsvProspectReaderTests
{
    private static (IReadOnlyList<(int Row, ProspectInput Prospect)> Prospects, IReadOnlyList<CsvRowError> Errors) Read(string csv)
        => CsvProspectReader.Read(new StringReader(csv));

    [Fact]
    public void Read_MapsAliasedHeaders_WhenHeadersAreHumanReadable()
    {
        var (prospects, errors) = Read("First Name,Last Name,Email Address,Company Name,Website,Time Zone\nAda,Lovelace,ada@acme.test,Acme,acme.test,Europe/London\n");

        Assert.Empty(errors);
        var (row, p) = Assert.Single(prospects);
        Assert.Equal(2, row);
        Assert.Equal("ada@acme.test", p.Email);
        Assert.Equal("Ada", p.FirstName);
        Assert.Equal("Lovelace", p.LastName);
        Assert.Equal("Acme", p.Company);
        Assert.Equal("acme.test", p.CompanyDomain);
        Assert.Equal("Europe/London", p.TimeZone);
        Assert.Empty(p.Custom);
    }

    [Fact]
    public void Read_UsesSemicolon_WhenHeaderHasMoreSemicolonsThanCommas()
    {
        var (prospects, errors) = Read("email;first_name;company\nada@acme.test;Ada;Acme, Inc.\n");

        Assert.Empty(errors);
        var p = Assert.Single(prospects).Prospect;
        Assert.Equal("Ada", p.FirstName);
        Assert.Equal("Acme, Inc.", p.Company);
    }

    [Fact]
    public void Read_StripsBom_WhenFirstHeaderStartsWithUtf8Bom()
    {
        var (prospects, errors) = Read("\uFEFFEmail,first_name\nada@acme.test,Ada\n");

        Assert.Empty(errors);
        Assert.Equal("ada@acme.test", Assert.Single(prospects).Prospect.Email);
    }

    [Fact]
    public void Read_StripsBom_WhenReadFromUtf8BytesWithBom()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("email,first_name\nada@acme.test,Ada\n")).ToArray();
        using var reader = new StreamReader(new MemoryStream(bytes), new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false);

        var (prospects, errors) = CsvProspectReader.Read(reader);

        Assert.Empty(errors);
        Assert.Single(prospects);
    }

    [Fact]
    public void Read_HandlesQuoting_WhenFieldsHaveCommasAndEscapedQuotes()
    {
        var csv = "email,company,notes\n"
            + "ada@acme.test,\"Acme, Inc.\",\"She said \"\"hi\"\", then left\"\n"
            + "bob@acme.test,Beta,plain\n";

        var (prospects, errors) = Read(csv);

        Assert.Empty(errors);
        Assert.Equal(2, prospects.Count);
        Assert.Equal("Acme, Inc.", prospects[0].Prospect.Company);
        Assert.Equal("She said \"hi\", then left", prospects[0].Prospect.Custom["notes"]);
        Assert.Equal(2, prospects[0].Row);
        Assert.Equal(3, prospects[1].Row);
        Assert.Equal("bob@acme.test", prospects[1].Prospect.Email);
    }

    [Fact]
    public void Read_KeepsQuotedNewlineInsideOneRecord_WhenFieldSpansLines()
    {
        // The multi-line field is parsed as one record (row 2) and then rejected by validation: line breaks in
        // prospect fields would be header injection once rendered into a subject.
        var csv = "email,notes\n"
            + "ada@acme.test,\"line 1\nline 2, with comma\"\n"
            + "bob@acme.test,plain\n";

        var (prospects, errors) = Read(csv);

        var error = Assert.Single(errors);
        Assert.Equal(2, error.Row);
        Assert.Equal("custom.notes", error.Field);
        Assert.Contains("line breaks", error.Message, StringComparison.Ordinal);
        var (row, bob) = Assert.Single(prospects);
        Assert.Equal(3, row);
        Assert.Equal("plain", bob.Custom["notes"]);
    }

    [Fact]
    public void Read_ReportsEmbeddedNewline_WhenQuotedFieldIsAStandardSingleLineField()
    {
        var (prospects, errors) = Read("email,first_name\nada@acme.test,\"Ada\nLovelace\"\n");

        Assert.Empty(prospects);
        var error = Assert.Single(errors);
        Assert.Equal(2, error.Row);
        Assert.Equal("first_name", error.Field);
    }

    [Fact]
    public void Read_TurnsExtraColumnsIntoCustomFields_WhenHeaderHasNonStandardNames()
    {
        var (prospects, errors) = Read("email,Title,Job Level,empty_col\nada@acme.test,CTO,Senior,\n");

        Assert.Empty(errors);
        var custom = Assert.Single(prospects).Prospect.Custom;
        Assert.Equal("CTO", custom["Title"]);
        Assert.Equal("Senior", custom["Job_Level"]);
        Assert.False(custom.ContainsKey("empty_col"));
    }

    [Fact]
    public void Read_ReportsBadRowsWithRowNumbersAndReturnsGoodRows_WhenSomeRowsAreInvalid()
    {
        var csv = "email,first_name,time_zone\n"
            + "ada@acme.test,Ada,Europe/Paris\n"
            + "not-an-email,Bob,\n"
            + "cy@acme.test,Cy,Nowhere/Land\n"
            + "dee@acme.test,Dee,\n";

        var (prospects, errors) = Read(csv);

        Assert.Equal([2, 5], prospects.Select(p => p.Row));
        Assert.Equal(2, errors.Count);
        Assert.Equal(3, errors[0].Row);
        Assert.Equal("email", errors[0].Field);
        Assert.Equal(4, errors[1].Row);
        Assert.Equal("time_zone", errors[1].Field);
    }

    [Fact]
    public void Read_CountsRecordsNotLines_WhenEarlierRowHasEmbeddedNewline()
    {
        var (prospects, errors) = Read("email,notes\nada@acme.test,\"a\nb\"\nbad,x\ncy@acme.test,y\n");

        Assert.Equal([2, 3], errors.Select(e => e.Row));
        Assert.Equal(4, Assert.Single(prospects).Row);
    }

    [Theory]
    [InlineData("email,first_name\nada@acme.test,Ada,extra\n")]
    [InlineData("email,first_name,company\nada@acme.test,Ada\n")]
    public void Read_ReportsFieldCountError_WhenRowHasWrongNumberOfFields(string csv)
    {
        var (prospects, errors) = Read(csv);

        Assert.Empty(prospects);
        var error = Assert.Single(errors);
        Assert.Equal(2, error.Row);
        Assert.Equal("row", error.Field);
        Assert.Contains("fields", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ReportsRowOneError_WhenNoEmailColumn()
    {
        var (prospects, errors) = Read("first_name,company\nAda,Acme\n");

        Assert.Empty(prospects);
        var error = Assert.Single(errors);
        Assert.Equal(1, error.Row);
        Assert.Equal("header", error.Field);
        Assert.Contains("no email column", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ReportsRowOneError_WhenFileIsEmpty()
    {
        var (prospects, errors) = Read("");

        Assert.Empty(prospects);
        var error = Assert.Single(errors);
        Assert.Equal(1, error.Row);
        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ReportsDuplicateColumn_WhenTwoHeadersMapToSameField()
    {
        var (_, errors) = Read("Email,E-mail Address,mail\nx@acme.test,y@acme.test,z@acme.test\n");

        var error = Assert.Single(errors);
        Assert.Equal(1, error.Row);
        Assert.Contains("appears twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SkipsBlankLines_WhenFileHasEmptyRows()
    {
        var (prospects, errors) = Read("email\n\nada@acme.test\n\n");

        Assert.Empty(errors);
        Assert.Equal(3, Assert.Single(prospects).Row);
    }

    [Fact]
    public void Read_ReportsUnterminatedQuote_WhenQuotedFieldNeverCloses()
    {
        var (prospects, errors) = Read("email,notes\nada@acme.test,ok\nbob@acme.test,\"never closed\n");

        Assert.Single(prospects);
        var error = Assert.Single(errors);
        Assert.Equal(3, error.Row);
        Assert.Contains("unterminated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_HandlesCrLfLineEndings_WhenFileUsesWindowsNewlines()
    {
        var (prospects, errors) = Read("email,first_name\r\nada@acme.test,Ada\r\n");

        Assert.Empty(errors);
        Assert.Equal("Ada", Assert.Single(prospects).Prospect.FirstName);
    }
}
