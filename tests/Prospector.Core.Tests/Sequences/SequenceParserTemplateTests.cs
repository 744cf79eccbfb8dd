using Prospector.Core.Sequences;
using Prospector.Core.Templates;
using static Prospector.Core.Tests.Sequences.ParserKit;

namespace Prospector.Core.Tests.Sequences;

public class SequenceParserTemplateTests
{
    private static readonly TemplateScope Scope = new(new HashSet<string>(StringComparer.Ordinal) { "industry" });

    [Fact]
    public void Parse_ReportsUnknownVariable_WhenSubjectHasTypo()
    {
        var (_, errors) = Parse("""[ { "type": "email", "subject": "Hi {{ frist_name }}", "body": "b" } ]""");

        var error = SingleError(errors, "steps[0].subject");
        Assert.Equal("unknown variable 'frist_name'", error.Message);
    }

    [Theory]
    [InlineData("{{ prospect.frist_name }}", "prospect.frist_name")]
    [InlineData("{{ owner.phone }}", "owner.phone")]
    [InlineData("{% if vip %}x{% endif %}", "vip")]
    [InlineData("{{ first_name | default: nickname }}", "nickname")]
    public void Parse_ReportsUnknownVariable_WhenTemplateReadsIt(string body, string name)
    {
        var (_, errors) = Parse($$"""[ { "type": "email", "subject": "s", "body": "{{body}}" } ]""");

        Assert.Equal($"unknown variable '{name}'", SingleError(errors, "steps[0].body").Message);
    }

    [Fact]
    public void Parse_AcceptsStandardVariablesAndLocals_WhenTemplateUsesThem()
    {
        Valid("""
            [ { "type": "email", "subject": "{Hi|Hello} {{ first_name | default: 'there' }}",
                "body": "{% assign greeting = owner.first_name %}{{ greeting }} {{ company.name }} {{ company }} {{ sender.signature }} {% for i in (1..2) %}{{ i }}{{ forloop.index }}{% endfor %}{% capture c %}x{% endcapture %}{{ c }}" } ]
            """);
    }

    [Fact]
    public void Parse_ReportsUnknownVariableInTaskAndWebhook_WhenTheyHaveTypos()
    {
        var (_, errors) = AfterIntro("""
            { "type": "call", "script": "{{ compnay }}" },
            { "type": "webhook", "url": "https://e.test", "payload": "{\"e\": \"{{ emial }}\"}" }
            """);

        Assert.Equal("unknown variable 'compnay'", SingleError([errors[0]], "steps[1].script").Message);
        Assert.Equal("unknown variable 'emial'", SingleError([errors[1]], "steps[2].payload").Message);
    }

    [Fact]
    public void Parse_ReportsUnknownCustomField_WhenScopeDoesNotHaveItAndNoDefault()
    {
        var (_, errors) = Parse("""[ { "type": "email", "subject": "s", "body": "In {{ custom.sector }}" } ]""", Scope);

        var error = SingleError(errors, "steps[0].body");
        Assert.Equal("no prospect in this workspace has custom field 'sector'; add a default: {{ custom.sector | default: \"…\" }}", error.Message);
    }

    [Theory]
    [InlineData("In {{ custom.industry }}")]
    [InlineData("In {{ custom.sector | default: 'your sector' }}")]
    [InlineData("In {{ custom.sector | upcase | default: 'your sector' }}")]
    [InlineData("In {{ custom['sector'] | default: 'x' }}")]
    public void Parse_AcceptsCustomField_WhenScopeKnowsItOrDefaultIsGiven(string body)
    {
        var (_, errors) = Parse($$"""[ { "type": "email", "subject": "s", "body": "{{body}}" } ]""", Scope);

        Assert.Empty(errors);
    }

    [Fact]
    public void Parse_ReportsUnknownCustomField_WhenOneOfTwoReadsHasNoDefault()
    {
        var (_, errors) = Parse("""[ { "type": "email", "subject": "s", "body": "{{ custom.sector | default: 'x' }} {{ custom.sector }}" } ]""", Scope);

        SingleError(errors, "steps[0].body");
    }

    [Fact]
    public void Parse_AcceptsAnyCustomField_WhenNoScopeIsGiven()
    {
        var (_, errors) = Parse("""[ { "type": "email", "subject": "s", "body": "{{ custom.sector }}" } ]""");

        Assert.Empty(errors);
    }

    [Fact]
    public void Parse_ChecksVariablesInEverySpintaxOption_WhenOptionsDiffer()
    {
        var (_, errors) = Parse("""[ { "type": "email", "subject": "s", "body": "{Hi {{ first_name }}|Hello {{ frist_name }}}" } ]""");

        Assert.Equal("unknown variable 'frist_name'", SingleError(errors, "steps[0].body").Message);
    }

    [Fact]
    public void Deserialize_IgnoresVariableChecks_WhenStoredDefinitionUsesUnknownNames()
    {
        var stored = """[ { "id": "a", "type": "email", "subject": "Hi {{ frist_name }}", "body": "{{ custom.sector }}" } ]""";

        var definition = SequenceParser.Deserialize(stored);

        Assert.Equal("Hi {{ frist_name }}", Assert.IsType<EmailStep>(definition.Steps[0]).Subject);
    }
}
