using Prospector.Core.Templates;

namespace Prospector.Core.Tests.Templates;

public class TemplateRendererTests
{
    private static TemplateModel Model(string? firstName = "Ada", string? company = "Acme", IReadOnlyDictionary<string, string>? custom = null)
        => new("ada@acme.test", firstName, "Lovelace", company, "acme.test", custom ?? new Dictionary<string, string> { ["title"] = "CTO" }, "Sam Sender");

    [Fact]
    public void Render_SubstitutesFields_WhenModelHasValues()
    {
        var output = TemplateRenderer.Render("Hi {{ first_name }} at {{ company }} ({{ custom.title }}) - {{ sender_name }}", Model());

        Assert.Equal("Hi Ada at Acme (CTO) - Sam Sender", output);
    }

    [Fact]
    public void Render_UsesDefaultFilter_WhenFieldIsEmpty()
    {
        var output = TemplateRenderer.Render("Hi {{ first_name | default: \"there\" }}", Model(firstName: null));

        Assert.Equal("Hi there", output);
    }

    [Fact]
    public void Render_IgnoresDefaultFilter_WhenFieldHasValue()
    {
        var output = TemplateRenderer.Render("Hi {{ first_name | default: \"there\" }}", Model());

        Assert.Equal("Hi Ada", output);
    }

    [Fact]
    public void Render_RendersEmpty_WhenCustomFieldIsMissing()
    {
        var output = TemplateRenderer.Render("[{{ custom.nope }}]", Model(custom: new Dictionary<string, string>()));

        Assert.Equal("[]", output);
    }

    [Fact]
    public async Task Render_ThrowsTemplateException_WhenLoopExceedsSandboxSteps()
    {
        var render = Task.Run(() => TemplateRenderer.Render("{% for i in (1..1000000) %}x{% endfor %}", Model()));
        var finished = await Task.WhenAny(render, Task.Delay(TimeSpan.FromSeconds(10)));

        Assert.Same(render, finished);
        await Assert.ThrowsAsync<TemplateException>(() => render);
    }

    [Fact]
    public void Render_ThrowsTemplateException_WhenSyntaxIsBroken()
        => Assert.Throws<TemplateException>(() => TemplateRenderer.Render("{{ first_name ", Model()));

    [Fact]
    public void TryParse_ReturnsTrueWithoutError_WhenTemplateIsValid()
    {
        Assert.True(TemplateRenderer.TryParse("Hi {{ first_name | default: 'x' }}", out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("{{ first_name ")]
    [InlineData("{% if x %}no end")]
    [InlineData("{% for %}{% endfor %}")]
    public void TryParse_ReturnsFalseWithMessage_WhenSyntaxIsBroken(string source)
    {
        Assert.False(TemplateRenderer.TryParse(source, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }
}
