using Prospector.Core.Templates;

namespace Prospector.Core.Tests.Templates;

public class TemplateVariablesTests
{
    private static Dictionary<string, bool> Variables(string source)
        => TemplateRenderer.Variables(source).ToDictionary(v => v.Name, v => v.HasDefault, StringComparer.Ordinal);

    [Fact]
    public void Variables_ListsDottedNames_WhenTemplateReadsObjectsAndCustomFields()
    {
        var variables = Variables("Hi {{ first_name }} from {{ owner.name }} about {{ custom.industry }} at {{ company.domain }}");

        Assert.Equal(
            new Dictionary<string, bool> { ["first_name"] = false, ["owner.name"] = false, ["custom.industry"] = false, ["company.domain"] = false },
            variables);
    }

    [Fact]
    public void Variables_MarksDefault_WhenReadGoesThroughDefaultFilter()
    {
        var variables = Variables("{{ first_name | default: last_name }} {{ custom.x | downcase | default: 'y' }} {{ title | default: 'z' | upcase }}");

        Assert.True(variables["first_name"]);
        Assert.False(variables["last_name"]);
        Assert.True(variables["custom.x"]);
        Assert.True(variables["title"]);
    }

    [Fact]
    public void Variables_FindsReadsInConditionsLoopsAndAssignments_WhenTemplateUsesTags()
    {
        var variables = Variables("""
            {% if title contains 'VP' and country == 'FR' %}{% endif %}
            {% unless custom.vip %}{% endunless %}
            {% assign name = prospect.first_name | default: 'x' %}{{ name }}
            {% for tag in custom.tags %}{{ tag }}{{ forloop.index }}{% endfor %}
            {% case phone %}{% when '1' %}{% endcase %}
            {% capture sig %}{{ sender.signature }}{% endcapture %}{{ sig }}
            """);

        Assert.Equal(
            ["country", "custom.tags", "custom.vip", "phone", "prospect.first_name", "sender.signature", "title"],
            variables.Keys.Order(StringComparer.Ordinal));
        Assert.True(variables["prospect.first_name"]);
    }

    [Fact]
    public void Variables_ReportsFlatNameOnce_WhenMemberOfAFlatStringIsRead()
        => Assert.Equal(["first_name"], Variables("{{ first_name.size }} {{ first_name }}").Keys);

    [Fact]
    public void Variables_ReportsNoDefault_WhenOneOfSeveralReadsLacksIt()
        => Assert.False(Variables("{{ custom.x | default: 'a' }} {{ custom.x }}")["custom.x"]);

    [Fact]
    public void Variables_ReadsEverySpintaxOption_WhenOptionsUseDifferentVariables()
        => Assert.Equal(["company", "first_name"], Variables("{Hi {{ first_name }}|Team {{ company }}}").Keys.Order(StringComparer.Ordinal));

    [Fact]
    public void Variables_Throws_WhenTemplateDoesNotParse()
        => Assert.Throws<TemplateException>(() => TemplateRenderer.Variables("{{ first_name "));

    [Theory]
    [InlineData("first_name", true)]
    [InlineData("owner.first_name", true)]
    [InlineData("custom.anything", true)]
    [InlineData("custom.", false)]
    [InlineData("frist_name", false)]
    [InlineData("owner.phone", false)]
    public void IsKnown_ReturnsExpected_WhenNameIsChecked(string name, bool known)
        => Assert.Equal(known, TemplateVariables.IsKnown(name));
}
