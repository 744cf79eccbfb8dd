using Prospector.Core.Templates;

namespace Prospector.Core.Tests.Templates;

public class SpintaxTests
{
    private static readonly TemplateModel Model = new("ada@acme.test", "Ada", "Lovelace", "Acme", "acme.test", new Dictionary<string, string>(), "Sam");

    private static string Render(string source, string? key) => TemplateRenderer.Render(source, Model, new RenderOptions(SpinKey: key));

    [Fact]
    public void Render_PicksFirstOption_WhenNoSpinKeyIsGiven()
        => Assert.Equal("Hi Ada, quick question", TemplateRenderer.Render("{Hi|Hello|Hey} {{ first_name }}, {quick|short} question", Model));

    [Fact]
    public void Render_GivesSameText_WhenSpinKeyIsTheSame()
    {
        const string source = "{Hi|Hello|Hey|Good day} {{ first_name }}, {a|b|c|d|e}{x|y}";

        var first = Render(source, "prospect-1:step-a");

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(first, Render(source, "prospect-1:step-a"));
        }
    }

    [Fact]
    public void Choose_IsStableAcrossProcesses_WhenKeyAndPositionAreFixed()
    {
        // SHA-256 based: these values never change between runs, machines or .NET versions.
        Assert.Equal(Spintax.Choose("prospect-1:step-a", 0, 1000), Spintax.Choose("prospect-1:step-a", 0, 1000));
        Assert.Equal(ExpectedChoice("prospect-1:step-a", 0, 1000), Spintax.Choose("prospect-1:step-a", 0, 1000));
        Assert.Equal(ExpectedChoice("k", 17, 7), Spintax.Choose("k", 17, 7));
    }

    [Fact]
    public void Render_SpreadsOverEveryOption_WhenKeysDiffer()
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < 1000; i++)
        {
            var text = Render("{Hi|Hello|Hey|Howdy}", $"prospect-{i}:step-1");
            counts[text] = counts.GetValueOrDefault(text) + 1;
        }

        Assert.Equal(["Hello", "Hey", "Hi", "Howdy"], counts.Keys.Order(StringComparer.Ordinal));
        Assert.All(counts.Values, count => Assert.InRange(count, 180, 320));
    }

    [Fact]
    public void Render_ChoosesGroupsIndependently_WhenTemplateHasSeveralGroups()
    {
        var combinations = Enumerable.Range(0, 200).Select(i => Render("{a|b}{c|d}", $"key-{i}")).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(["ac", "ad", "bc", "bd"], combinations.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Render_ResolvesNestedGroups_WhenOptionsContainGroups()
    {
        var outputs = Enumerable.Range(0, 300).Select(i => Render("{Hi|{Hello|Hey} there}", $"k{i}")).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(["Hello there", "Hey there", "Hi"], outputs.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Render_LeavesLiquidUntouched_WhenOptionsContainFiltersAndTags()
    {
        var outputs = Enumerable.Range(0, 100)
            .Select(i => Render("{Hi {{ first_name | default: 'x' }}|{% if company %}Team {{ company }}{% endif %}}", $"k{i}"))
            .ToHashSet(StringComparer.Ordinal);

        Assert.Equal(["Hi Ada", "Team Acme"], outputs.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Render_NeverSpinsProspectData_WhenValueLooksLikeSpintax()
    {
        var model = Model with { FirstName = "{A|B}" };

        Assert.Equal("Hi {A|B}", TemplateRenderer.Render("Hi {{ first_name }}", model, new RenderOptions(SpinKey: "k")));
    }

    [Fact]
    public void Render_KeepsBracesWithoutBars_WhenTextUsesThemLiterally()
        => Assert.Equal("p { color: red } and {x}", Render("p { color: red } and {x}", "k"));

    [Theory]
    [InlineData("{Hi|Hello", "never closed")]
    [InlineData("Hi}", "no matching")]
    [InlineData("{a|{b|c}", "never closed")]
    public void TryParse_ReportsUnbalancedBraces_WhenSpintaxIsBroken(string source, string message)
    {
        Assert.False(TemplateRenderer.TryParse(source, out var error));
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Throws<TemplateException>(() => TemplateRenderer.Render(source, Model));
    }

    [Fact]
    public void TryParse_ReportsTooDeep_WhenGroupsNestPastTheLimit()
    {
        var source = string.Concat(Enumerable.Repeat("{ a|", 40)) + new string('}', 40);

        Assert.False(TemplateRenderer.TryParse(source, out var error));
        Assert.Contains("nest deeper", error, StringComparison.Ordinal);
    }

    private static int ExpectedChoice(string key, int offset, int count)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{key}\u001f{offset}"));
        return (int)(BitConverter.ToUInt64(hash, 0) % (ulong)count);
    }
}
