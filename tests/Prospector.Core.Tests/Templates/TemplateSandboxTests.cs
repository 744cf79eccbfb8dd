using Prospector.Core.Templates;

namespace Prospector.Core.Tests.Templates;

public class TemplateSandboxTests
{
    private static readonly TemplateModel Model = new("ada@acme.test", "Ada", "Lovelace", "Acme", "acme.test", new Dictionary<string, string>(), "Sam");

    private static async Task AssertFailsFast(string source, string message)
    {
        var render = Task.Run(() => TemplateRenderer.Render(source, Model));
        var finished = await Task.WhenAny(render, Task.Delay(TimeSpan.FromSeconds(10)));

        Assert.Same(render, finished);
        var exception = await Assert.ThrowsAsync<TemplateException>(() => render);
        Assert.Contains(message, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public Task Render_ThrowsTemplateException_WhenNestedLoopsExceedSteps()
        => AssertFailsFast("{% for a in (1..1000) %}{% for b in (1..1000) %}{% for c in (1..1000) %}x{% endfor %}{% endfor %}{% endfor %}", "could not be rendered");

    [Fact]
    public Task Render_ThrowsTemplateException_WhenAppendDoublesAStringRepeatedly()
        => AssertFailsFast("{% assign s = 'xxxxxxxxxx' %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}", "value built by the template");

    [Fact]
    public Task Render_ThrowsTemplateException_WhenCaptureDoublesRepeatedly()
        => AssertFailsFast("{% capture s %}xxxxxxxxxx{% endcapture %}{% for i in (1..40) %}{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}{{ s | size }}", "value built by the template");

    [Fact]
    public Task Render_ThrowsTemplateException_WhenOutputExceedsLimit()
        => AssertFailsFast("{% assign s = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' %}{% for i in (1..2500) %}{{ s }}{% endfor %}", "rendered text is longer");

    [Fact]
    public void Render_ThrowsTemplateException_WhenBlocksNestTooDeep()
    {
        var source = string.Concat(Enumerable.Repeat("{% if true %}", 3000)) + "x" + string.Concat(Enumerable.Repeat("{% endif %}", 3000));

        Assert.False(TemplateRenderer.TryParse(source, out var error));
        Assert.Contains("nest deeper", error, StringComparison.Ordinal);
        Assert.Throws<TemplateException>(() => TemplateRenderer.Render(source, Model));
    }

    [Fact]
    public void Render_ThrowsTemplateException_WhenFilterChainWouldOverflowTheStack()
    {
        var source = "{{ first_name" + string.Concat(Enumerable.Repeat(" | upcase", 11_000)) + " }}";

        Assert.False(TemplateRenderer.TryParse(source, out var error));
        Assert.Contains("longer than", error, StringComparison.Ordinal);
        Assert.Throws<TemplateException>(() => TemplateRenderer.Render(source, Model));
    }

    [Fact]
    public void Render_ThrowsTemplateException_WhenSourceIsTooLong()
    {
        var source = new string('x', TemplateRenderer.MaxSourceLength + 1);

        Assert.False(TemplateRenderer.TryParse(source, out _));
        Assert.Throws<TemplateException>(() => TemplateRenderer.Render(source, Model));
    }

    [Theory]
    [InlineData("{% include 'secrets' %}")]
    [InlineData("{%- render 'secrets' -%}")]
    [InlineData("{% layout 'x' %}")]
    public void Render_ThrowsTemplateException_WhenTemplateLoadsAFile(string source)
    {
        Assert.False(TemplateRenderer.TryParse(source, out var error));
        Assert.Contains("not allowed", error, StringComparison.Ordinal);
        Assert.Throws<TemplateException>(() => TemplateRenderer.Render(source, Model));
    }

    [Fact]
    public void Render_KeepsCacheBounded_WhenManyDistinctTemplatesAreRendered()
    {
        for (var i = 0; i < 2_100; i++)
        {
            TemplateRenderer.Render($"#{i} {{{{ first_name }}}}", Model);
        }

        Assert.InRange(TemplateRenderer.CachedCount, 1, 2_000);
    }
}
