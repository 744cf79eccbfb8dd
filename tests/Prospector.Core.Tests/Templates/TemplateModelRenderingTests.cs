using Prospector.Core.Templates;

namespace Prospector.Core.Tests.Templates;

public class TemplateModelRenderingTests
{
    private static readonly TemplateModel Full = new("ada@acme.test", "Ada", "Lovelace", "Acme", "acme.test", new Dictionary<string, string> { ["industry"] = "Software" }, "Sam Sender")
    {
        Title = "CTO",
        LinkedInUrl = "https://linkedin.example/ada",
        Phone = "+33 1 23",
        Country = "FR",
        OwnerName = "Olivia Owner",
        OwnerEmail = "olivia@us.test",
        SenderEmail = "sam@us.test",
        Signature = "-- Sam",
    };

    private static readonly TemplateModel Empty = new(null, null, null, null, null, new Dictionary<string, string>(), "Sam Sender");

    [Theory]
    [InlineData("{{ title }}|{{ linkedin_url }}|{{ phone }}|{{ country }}", "CTO|https://linkedin.example/ada|+33 1 23|FR")]
    [InlineData("{{ prospect.first_name }} {{ prospect.last_name }} {{ prospect.email }} {{ prospect.title }}", "Ada Lovelace ada@acme.test CTO")]
    [InlineData("{{ prospect.linkedin_url }} {{ prospect.phone }} {{ prospect.country }} {{ prospect.company }}", "https://linkedin.example/ada +33 1 23 FR Acme")]
    [InlineData("{{ company }} / {{ company.name }} / {{ company.domain }} / {{ company_domain }}", "Acme / Acme / acme.test / acme.test")]
    [InlineData("{{ owner.name }} {{ owner.first_name }} {{ owner.email }}", "Olivia Owner Olivia olivia@us.test")]
    [InlineData("{{ sender.name }} {{ sender.email }} {{ sender.signature }} {{ sender_name }}", "Sam Sender sam@us.test -- Sam Sam Sender")]
    [InlineData("{{ custom.industry }} {{ custom['industry'] }}", "Software Software")]
    [InlineData("{{ company | upcase }} {{ company.name | size }}", "ACME 4")]
    [InlineData("{% if company == 'Acme' %}yes{% endif %}", "yes")]
    [InlineData("{% if company contains 'cm' %}yes{% endif %}", "yes")]
    public void Render_SubstitutesEveryVariable_WhenModelIsFull(string source, string expected)
        => Assert.Equal(expected, TemplateRenderer.Render(source, Full));

    [Theory]
    [InlineData("{{ first_name | default: 'there' }}")]
    [InlineData("{{ title | default: 'there' }}")]
    [InlineData("{{ prospect.first_name | default: 'there' }}")]
    [InlineData("{{ company | default: 'there' }}")]
    [InlineData("{{ company.name | default: 'there' }}")]
    [InlineData("{{ company.domain | default: 'there' }}")]
    [InlineData("{{ owner.first_name | default: 'there' }}")]
    [InlineData("{{ sender.signature | default: 'there' }}")]
    [InlineData("{{ custom.missing | default: 'there' }}")]
    public void Render_UsesDefault_WhenValueIsMissingOrEmpty(string source)
        => Assert.Equal("there", TemplateRenderer.Render(source, Empty));

    [Fact]
    public void Render_UsesDefault_WhenCustomValueIsEmptyString()
    {
        var model = Empty with { Custom = new Dictionary<string, string> { ["industry"] = string.Empty } };

        Assert.Equal("your field", TemplateRenderer.Render("{{ custom.industry | default: 'your field' }}", model));
    }

    [Fact]
    public void Render_RendersEmpty_WhenOptionalModelValuesAreNull()
        => Assert.Equal("[||||]", TemplateRenderer.Render("[{{ title }}|{{ company }}|{{ owner.name }}|{{ prospect.email }}|{{ sender.email }}]", Empty));

    [Fact]
    public void Render_EncodesDataButKeepsMarkup_WhenFormatIsHtml()
    {
        var model = Full with { FirstName = "<script>alert(1)</script>", Company = "A&B" };

        var html = TemplateRenderer.Render("<p>Hi <b>{{ first_name }}</b> at {{ company }}</p>", model, new RenderOptions(TemplateFormat.Html));
        var text = TemplateRenderer.Render("<p>Hi <b>{{ first_name }}</b> at {{ company }}</p>", model, new RenderOptions(TemplateFormat.Text));

        Assert.Equal("<p>Hi <b>&lt;script&gt;alert(1)&lt;/script&gt;</b> at A&amp;B</p>", html);
        Assert.Equal("<p>Hi <b><script>alert(1)</script></b> at A&B</p>", text);
    }

    [Fact]
    public void Render_KeepsAccentedLetters_WhenFormatIsHtml()
    {
        var model = Full with { FirstName = "Zoé Ångström" };

        Assert.Equal("Zoé Ångström", TemplateRenderer.Render("{{ first_name }}", model, new RenderOptions(TemplateFormat.Html)));
    }

    [Fact]
    public void Render_EscapesValuesForJsonStrings_WhenFormatIsJson()
    {
        var model = Full with { FirstName = "A \"quoted\" \\ name" };

        var json = TemplateRenderer.Render("{\"name\": \"{{ first_name }}\", \"x\": \"a|b\"}", model, new RenderOptions(TemplateFormat.Json, SpinKey: "k"));

        using var document = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal("A \"quoted\" \\ name", document.RootElement.GetProperty("name").GetString());
        Assert.Equal("a|b", document.RootElement.GetProperty("x").GetString());
    }
}
