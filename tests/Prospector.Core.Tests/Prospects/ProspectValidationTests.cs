using Prospector.Core.Prospects;

namespace Prospector.Core.Tests.Prospects;

public class ProspectValidationTests
{
    private static (ProspectInput? Prospect, IReadOnlyList<ValidationError> Errors) Validate(
        string? email = "ada@acme.test", string? firstName = "Ada", string? company = "Acme", string? domain = "acme.test",
        string? timeZone = "Europe/Paris", IReadOnlyDictionary<string, string>? custom = null)
        => ProspectValidation.Validate("items[0].", email, firstName, "Lovelace", company, domain, timeZone, custom);

    [Fact]
    public void Validate_ReturnsCleanedProspect_WhenAllFieldsAreValid()
    {
        var (prospect, errors) = ProspectValidation.Validate(
            "", " ada@acme.test ", " Ada ", "", "Acme", "ACME.test", "America/New_York", new Dictionary<string, string> { ["title"] = " CTO ", ["empty"] = "  " });

        Assert.Empty(errors);
        Assert.NotNull(prospect);
        Assert.Equal("ada@acme.test", prospect.Email);
        Assert.Equal("Ada", prospect.FirstName);
        Assert.Null(prospect.LastName);
        Assert.Equal("acme.test", prospect.CompanyDomain);
        Assert.Equal("America/New_York", prospect.TimeZone);
        Assert.Equal("CTO", prospect.Custom["title"]);
        Assert.False(prospect.Custom.ContainsKey("empty"));
    }

    [Theory]
    [InlineData("not-an-email")]
    [InlineData("a@b")]
    [InlineData("a b@acme.test")]
    public void Validate_ReportsEmailError_WhenEmailIsInvalid(string email)
    {
        var (prospect, errors) = Validate(email: email);

        Assert.Null(prospect);
        var error = Assert.Single(errors);
        Assert.Equal("items[0].email", error.Path);
        Assert.Contains("not a valid email", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ReportsRequired_WhenNeitherEmailNorLinkedinIsGiven()
    {
        var (_, errors) = Validate(email: "  ");

        Assert.Contains(errors, e => e.Path == "items[0].email" && e.Message.StartsWith("is required", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_AcceptsLinkedinOnly_WhenEmailIsMissing()
    {
        var (prospect, errors) = ProspectValidation.Validate("", null, "Ada", null, null, null, null, null, linkedinUrl: "https://fr.linkedin.com/in/Ada-L/?trk=x");

        Assert.Empty(errors);
        Assert.Null(prospect!.Email);
        Assert.Equal("linkedin.com/in/ada-l", prospect.LinkedinNormalized);
    }

    [Theory]
    [InlineData("https://www.linkedin.com/company/acme", "linkedin_url")]
    [InlineData("https://evil.test/in/ada", "linkedin_url")]
    [InlineData("XX", "country")]
    [InlineData("France", "country")]
    [InlineData("call me", "phone")]
    [InlineData("not-a-guid", "owner_id")]
    public void Validate_ReportsFieldError_WhenNewFieldIsInvalid(string value, string field)
    {
        var raw = new RawProspect { ["email"] = "ada@acme.test", [field] = value };

        var (prospect, errors) = ProspectValidation.Validate("", raw);

        Assert.Null(prospect);
        Assert.Equal(field, Assert.Single(errors).Path);
    }

    [Fact]
    public void Validate_CleansNewFields_WhenValid()
    {
        var owner = Guid.NewGuid();
        var raw = new RawProspect
        {
            ["email"] = "ada@gmail.com", ["title"] = " CTO ", ["phone"] = "+33 1 23 45 67 89", ["country"] = "fr", ["owner_id"] = owner.ToString(),
            ["company_domain"] = "https://www.Acme.test/about",
        };

        var (prospect, errors) = ProspectValidation.Validate("", raw);

        Assert.Empty(errors);
        Assert.Equal(("CTO", "+33 1 23 45 67 89", "FR", owner, "acme.test"), (prospect!.Title, prospect.Phone, prospect.Country, prospect.OwnerId, prospect.CompanyDomain));
        Assert.Equal("acme.test", prospect.CompanyKey);
    }

    [Theory]
    [InlineData("title")]
    [InlineData("phone")]
    [InlineData("linkedin_url")]
    [InlineData("country")]
    public void Validate_RefusesLineBreaks_InNewStandardFields(string field)
    {
        var raw = new RawProspect { ["email"] = "ada@acme.test", [field] = "x\r\nBcc: y@evil.test" };

        var (prospect, errors) = ProspectValidation.Validate("", raw);

        Assert.Null(prospect);
        Assert.Contains(errors, e => e.Path == field && e.Message.Contains("line breaks", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("Not a zone")]
    public void Validate_ReportsTimeZoneError_WhenZoneIsUnknown(string zone)
    {
        var (prospect, errors) = Validate(timeZone: zone);

        Assert.Null(prospect);
        var error = Assert.Single(errors);
        Assert.Equal("items[0].time_zone", error.Path);
        Assert.Contains("unknown IANA time zone", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("acme")]
    [InlineData("acme..test")]
    [InlineData("-acme.test")]
    [InlineData("acme.test/path")]
    public void Validate_ReportsDomainError_WhenDomainIsMalformed(string domain)
    {
        var (prospect, errors) = Validate(domain: domain);

        Assert.Null(prospect);
        Assert.Contains(errors, e => e.Path == "items[0].company_domain" && e.Message.Contains("not a domain", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Ada\r\nBcc: x@evil.test")]
    [InlineData("Ada\nLovelace")]
    [InlineData("Ada\0")]
    public void Validate_ReportsLineBreakError_WhenFieldContainsCrLf(string firstName)
    {
        var (prospect, errors) = Validate(firstName: firstName);

        Assert.Null(prospect);
        var error = Assert.Single(errors);
        Assert.Equal("items[0].first_name", error.Path);
        Assert.Contains("line breaks", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ReportsLineBreakError_WhenCustomValueContainsCrLf()
    {
        var (_, errors) = Validate(custom: new Dictionary<string, string> { ["title"] = "CTO\r\nX-Injected: 1" });

        Assert.Contains(errors, e => e.Path == "items[0].custom.title" && e.Message.Contains("line breaks", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("1title")]
    [InlineData("job title")]
    [InlineData("job-title")]
    [InlineData("")]
    [InlineData("_x")]
    public void Validate_ReportsFieldNameError_WhenCustomFieldNameIsBad(string name)
    {
        var (prospect, errors) = Validate(custom: new Dictionary<string, string> { [name] = "v" });

        Assert.Null(prospect);
        var error = Assert.Single(errors);
        Assert.Equal($"items[0].custom.{name}", error.Path);
        Assert.Contains("field names", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ReportsLengthError_WhenFieldIsTooLong()
    {
        var (_, errors) = Validate(company: new string('x', 501));

        Assert.Contains(errors, e => e.Path == "items[0].company" && e.Message.Contains("at most 500", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ReportsAllErrors_WhenSeveralFieldsAreBad()
    {
        var (_, errors) = Validate(email: "bad", domain: "nope", timeZone: "Nowhere/Land");

        Assert.Equal(3, errors.Count);
    }
}
