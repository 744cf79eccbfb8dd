using Prospector.Core.Sequences;
using static Prospector.Core.Tests.Sequences.ParserKit;

namespace Prospector.Core.Tests.Sequences;

public class SequenceParserStepTypesTests
{
    [Fact]
    public void Parse_ReadsEveryStepType_WhenAllAreValid()
    {
        var definition = Valid("""
            [
              { "id": "intro", "type": "email", "subject": "Hi {{ first_name }}", "body": "Hello" },
              { "id": "pause", "type": "wait", "days": 3, "hours": 2, "minutes": 5, "seconds": 7, "business_days": true },
              { "id": "visit", "type": "linkedin_visit", "instructions": "Like a post" },
              { "id": "invite", "type": "linkedin_invite", "note": "Hi {{ first_name }}" },
              { "id": "dm", "type": "linkedin_message", "body": "Thanks for connecting" },
              { "id": "ring", "type": "call", "script": "Ask about {{ company }}" },
              { "id": "todo", "type": "manual_task", "title": "Research", "instructions": "Read their blog" },
              { "id": "hook", "type": "webhook", "url": "https://hooks.example.test/in?x=1", "payload": "{\"email\": \"{{ email }}\"}" },
              { "id": "check", "type": "branch", "if": "replied", "then": "end", "else": "bump" },
              { "id": "bump", "type": "email", "body": "Any thoughts?" }
            ]
            """);

        Assert.Equal(new WaitStep("pause", 3, new TimeSpan(2, 5, 7), BusinessDays: true), definition.Steps[1]);
        Assert.Equal(new LinkedInVisitStep("visit", "Like a post"), definition.Steps[2]);
        Assert.Equal(new LinkedInInviteStep("invite", "Hi {{ first_name }}"), definition.Steps[3]);
        Assert.Equal(new LinkedInMessageStep("dm", "Thanks for connecting"), definition.Steps[4]);
        Assert.Equal(new CallStep("ring", "Ask about {{ company }}"), definition.Steps[5]);
        Assert.Equal(new ManualTaskStep("todo", "Research", "Read their blog"), definition.Steps[6]);
        var hook = Assert.IsType<WebhookStep>(definition.Steps[7]);
        Assert.Equal(new Uri("https://hooks.example.test/in?x=1"), hook.Url);
        Assert.Equal("{\"email\": \"{{ email }}\"}", hook.Payload);
        Assert.Equal(new BranchStep("check", new EventCondition(BranchEvent.Replied), "end", "bump"), definition.Steps[8]);
    }

    [Fact]
    public void Parse_AllowsOptionalFieldsToBeAbsent_WhenStepsHaveThem()
    {
        var definition = Valid("""
            [
              { "type": "linkedin_visit" },
              { "type": "linkedin_invite" },
              { "type": "manual_task", "instructions": "Do it" },
              { "type": "webhook", "url": "http://example.test/hook" }
            ]
            """);

        Assert.Equal(new LinkedInVisitStep("step-1", null), definition.Steps[0]);
        Assert.Equal(new LinkedInInviteStep("step-2", null), definition.Steps[1]);
        Assert.Equal(new ManualTaskStep("step-3", null, "Do it"), definition.Steps[2]);
        Assert.Null(Assert.IsType<WebhookStep>(definition.Steps[3]).Payload);
    }

    [Theory]
    [InlineData("""{ "type": "linkedin_message" }""", "steps[1].body")]
    [InlineData("""{ "type": "linkedin_message", "body": "  " }""", "steps[1].body")]
    [InlineData("""{ "type": "call", "script": "" }""", "steps[1].script")]
    [InlineData("""{ "type": "manual_task", "title": "t" }""", "steps[1].instructions")]
    [InlineData("""{ "type": "webhook" }""", "steps[1].url")]
    [InlineData("""{ "type": "branch", "if": "replied" }""", "steps[1].then")]
    [InlineData("""{ "type": "branch", "then": "end" }""", "steps[1].if")]
    public void Parse_ReportsRequiredField_WhenItIsMissing(string step, string path)
    {
        var (definition, errors) = AfterIntro(step);

        Assert.Null(definition);
        AssertError(errors, path, "is required");
    }

    [Theory]
    [InlineData("""{ "type": "linkedin_visit", "note": "x" }""", "steps[1].note")]
    [InlineData("""{ "type": "linkedin_invite", "body": "x" }""", "steps[1].body")]
    [InlineData("""{ "type": "call", "script": "s", "body": "x" }""", "steps[1].body")]
    [InlineData("""{ "type": "webhook", "url": "https://e.test", "headers": {} }""", "steps[1].headers")]
    [InlineData("""{ "type": "wait", "days": 1, "weeks": 1 }""", "steps[1].weeks")]
    [InlineData("""{ "type": "branch", "if": "replied", "then": "end", "otherwise": "end" }""", "steps[1].otherwise")]
    [InlineData("""{ "type": "branch", "if": { "field": "title", "operator": "exists", "case": true }, "then": "end" }""", "steps[1].if.case")]
    public void Parse_ReportsUnknownProperty_WhenStepHasOne(string step, string path)
    {
        var (_, errors) = AfterIntro(step);

        AssertError(errors, path, "unknown property");
    }

    [Fact]
    public void Parse_ReportsNoteTooLong_WhenInviteNoteExceeds300Characters()
    {
        var (_, errors) = AfterIntro($$"""{ "type": "linkedin_invite", "note": "{{new string('a', 301)}}" }""");

        var error = SingleError(errors, "steps[1].note");
        Assert.Equal("at most 300 characters", error.Message);
    }

    [Fact]
    public void Parse_AcceptsNote_WhenItIsExactly300Characters()
    {
        var (_, errors) = AfterIntro($$"""{ "type": "linkedin_invite", "note": "{{new string('a', 300)}}" }""");

        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("ftp://example.test/x", "absolute http or https")]
    [InlineData("/relative/path", "absolute http or https")]
    [InlineData("not a url", "absolute http or https")]
    [InlineData("https://user:secret@example.test/hook", "user name or password")]
    public void Parse_ReportsUrlError_WhenWebhookUrlIsNotAllowed(string url, string message)
    {
        var (_, errors) = AfterIntro($$"""{ "type": "webhook", "url": "{{url}}" }""");

        AssertError(errors, "steps[1].url", message);
    }

    [Fact]
    public void Parse_ReportsTemplateError_WhenWebhookPayloadIsBrokenLiquid()
    {
        var (_, errors) = AfterIntro("""{ "type": "webhook", "url": "https://e.test", "payload": "{\"a\": \"{{ email \"}" }""");

        AssertError(errors, "steps[1].payload", "template error");
    }

    [Fact]
    public void Parse_DoesNotTreatJsonBracesAsSpintax_WhenPayloadHasBarsAndBraces()
    {
        var (_, errors) = AfterIntro("""{ "type": "webhook", "url": "https://e.test", "payload": "{\"a\": \"x|y\", \"b\": {}}" }""");

        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("{\"name\": {{ first_name }}}")]
    [InlineData("not json {{ email }}")]
    [InlineData("{\"a\": 1")]
    public void Parse_ReportsPayloadError_WhenPayloadDoesNotRenderToJson(string payload)
    {
        var (_, errors) = AfterIntro($$"""{ "type": "webhook", "url": "https://e.test", "payload": {{System.Text.Json.JsonSerializer.Serialize(payload)}} }""");

        var error = SingleError(errors, "steps[1].payload");
        Assert.StartsWith("must be JSON once rendered", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AcceptsPayload_WhenValuesAreQuotedAndLiquidBuildsTheJson()
    {
        var (_, errors) = AfterIntro("""{ "type": "webhook", "url": "https://e.test", "payload": "{\"email\": \"{{ email }}\", \"vip\": {% if title contains 'VP' %}true{% else %}false{% endif %}, \"n\": {{ custom.count | default: 0 }}}" }""");

        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("""{ "type": "wait", "days": 1, "business_days": "yes" }""", "steps[1].business_days", "true or false")]
    [InlineData("""{ "type": "wait", "hours": 4, "business_days": true }""", "steps[1].business_days", "days of at least 1")]
    [InlineData("""{ "type": "wait", "hours": 1.5 }""", "steps[1].hours", "whole number")]
    [InlineData("""{ "type": "wait", "minutes": 4000 }""", "steps[1].minutes", "0 to 3650")]
    [InlineData("""{ "type": "wait" }""", "steps[1]", "positive duration")]
    public void Parse_ReportsWaitError_WhenWaitIsInvalid(string step, string path, string message)
    {
        var (_, errors) = AfterIntro(step);

        AssertError(errors, path, message);
    }

    [Fact]
    public void Parse_KeepsDaysAndTimeApart_WhenWaitHasBoth()
    {
        var definition = Valid($"[ {Intro}, " + """{ "id": "w", "type": "wait", "days": 1, "hours": 30 } ]""");

        var wait = Assert.IsType<WaitStep>(definition.Steps[1]);
        Assert.Equal(1, wait.Days);
        Assert.Equal(TimeSpan.FromHours(30), wait.Time);
        Assert.False(wait.BusinessDays);
    }

    [Theory]
    [InlineData("replied", BranchEvent.Replied)]
    [InlineData("opened", BranchEvent.Opened)]
    [InlineData("clicked", BranchEvent.Clicked)]
    [InlineData("linkedin_connected", BranchEvent.LinkedInConnected)]
    [InlineData("email_found", BranchEvent.EmailFound)]
    public void Parse_ReadsEventCondition_WhenIfIsAnEventName(string name, BranchEvent expected)
    {
        var definition = Valid($"[ {Intro}, " + $$"""{ "type": "branch", "if": "{{name}}", "then": "end" } ]""");

        Assert.Equal(new EventCondition(expected), Assert.IsType<BranchStep>(definition.Steps[1]).Condition);
    }

    [Theory]
    [InlineData("""{ "field": "title", "operator": "contains", "value": "VP" }""", "title", FieldOperator.Contains, "VP")]
    [InlineData("""{ "field": "company_domain", "operator": "equals", "value": "acme.test" }""", "company_domain", FieldOperator.Equals, "acme.test")]
    [InlineData("""{ "field": "custom.industry", "operator": "not_equals", "value": "retail" }""", "custom.industry", FieldOperator.NotEquals, "retail")]
    [InlineData("""{ "field": "phone", "operator": "exists" }""", "phone", FieldOperator.Exists, null)]
    [InlineData("""{ "field": "linkedin_url", "operator": "missing" }""", "linkedin_url", FieldOperator.Missing, null)]
    [InlineData("""{ "field": "prospect.title", "operator": "exists" }""", "title", FieldOperator.Exists, null)]
    [InlineData("""{ "field": "company.domain", "operator": "exists" }""", "company_domain", FieldOperator.Exists, null)]
    public void Parse_ReadsFieldCondition_WhenIfIsAnObject(string condition, string field, FieldOperator op, string? value)
    {
        var definition = Valid($"[ {Intro}, " + $$"""{ "type": "branch", "if": {{condition}}, "then": "end" } ]""");

        Assert.Equal(new FieldCondition(field, op, value), Assert.IsType<BranchStep>(definition.Steps[1]).Condition);
    }

    [Theory]
    [InlineData("\"bounced\"", "steps[1].if", "unknown event 'bounced'")]
    [InlineData("42", "steps[1].if", "event name or a field condition")]
    [InlineData("""{ "field": "frist_name", "operator": "exists" }""", "steps[1].if.field", "unknown field 'frist_name'")]
    [InlineData("""{ "field": "owner.name", "operator": "exists" }""", "steps[1].if.field", "unknown field")]
    [InlineData("""{ "operator": "exists" }""", "steps[1].if.field", "is required")]
    [InlineData("""{ "field": "title", "operator": "like", "value": "x" }""", "steps[1].if.operator", "unknown operator 'like'")]
    [InlineData("""{ "field": "title", "operator": "equals" }""", "steps[1].if.value", "is required with 'equals'")]
    [InlineData("""{ "field": "title", "operator": "contains", "value": "" }""", "steps[1].if.value", "is required with 'contains'")]
    [InlineData("""{ "field": "title", "operator": "exists", "value": "x" }""", "steps[1].if.value", "not used with 'exists'")]
    public void Parse_ReportsConditionError_WhenConditionIsInvalid(string condition, string path, string message)
    {
        var (definition, errors) = AfterIntro($$"""{ "type": "branch", "if": {{condition}}, "then": "end" }""");

        Assert.Null(definition);
        AssertError(errors, path, message);
    }

    [Fact]
    public void Parse_ReportsTemplateErrorsOnEachField_WhenTaskTemplatesAreBroken()
    {
        var (_, errors) = AfterIntro("""
            { "type": "linkedin_visit", "instructions": "{% if %}" },
            { "type": "linkedin_invite", "note": "{{ first_name " },
            { "type": "linkedin_message", "body": "{% for %}" },
            { "type": "call", "script": "{{ }" },
            { "type": "manual_task", "title": "{{ x ", "instructions": "ok" }
            """);

        foreach (var path in new[] { "steps[1].instructions", "steps[2].note", "steps[3].body", "steps[4].script", "steps[5].title" })
        {
            AssertError(errors, path, "template error");
        }
    }

    [Fact]
    public void Parse_ReportsTemplateErrorOnFirstLineOnly_WhenParserMessageHasSeveralLines()
    {
        var (_, errors) = AfterIntro("""{ "type": "call", "script": "line one\n{% if %}\nline three" }""");

        var error = SingleError(errors, "steps[1].script");
        Assert.StartsWith("template error: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Parse_ReportsSingleLineError_WhenManualTaskTitleHasLineBreak()
    {
        var (_, errors) = AfterIntro("""{ "type": "manual_task", "title": "a\nb", "instructions": "x" }""");

        AssertError(errors, "steps[1].title", "CR, LF or NUL");
    }

    [Fact]
    public void Parse_ReportsNul_WhenSubjectContainsNul()
    {
        var (_, errors) = Parse("""[ { "type": "email", "subject": "a\u0000b", "body": "b" } ]""");

        AssertError(errors, "steps[0].subject", "CR, LF or NUL");
    }

    [Fact]
    public void Parse_ReportsReservedId_WhenStepIsNamedEnd()
    {
        var (_, errors) = Parse("""[ { "id": "end", "type": "email", "subject": "s", "body": "b" } ]""");

        AssertError(errors, "steps[0].id", "reserved");
    }

    [Fact]
    public void Parse_ReportsUnbalancedSpintax_WhenBraceIsNeverClosed()
    {
        var (_, errors) = Parse("""[ { "type": "email", "subject": "{Hi|Hello there", "body": "b" } ]""");

        var error = SingleError(errors, "steps[0].subject");
        Assert.Contains("never closed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsUnbalancedSpintax_WhenClosingBraceHasNoOpening()
    {
        var (_, errors) = Parse("""[ { "type": "email", "subject": "s", "body": "Hi|Hello}" } ]""");

        AssertError(errors, "steps[0].body", "no matching");
    }

    [Fact]
    public void Parse_ReportsErrorsInManyStepsAtOnce_WhenSeveralTypesAreBroken()
    {
        var (definition, errors) = AfterIntro("""
            { "type": "linkedin_invite", "note": 5 },
            { "type": "webhook", "url": "ftp://x" },
            { "type": "branch", "if": "maybe", "then": "nowhere" },
            { "type": "wait", "days": 1, "business_days": 1 }
            """);

        Assert.Null(definition);
        AssertError(errors, "steps[1].note", "must be a string");
        AssertError(errors, "steps[2].url", "http or https");
        AssertError(errors, "steps[3].if", "unknown event 'maybe'");
        AssertError(errors, "steps[3].then", "no step has id 'nowhere'");
        AssertError(errors, "steps[4].business_days", "true or false");
    }
}
