using System.Text.Json;
using Prospector.Core.Sequences;

namespace Prospector.Core.Tests.Sequences;

public class SequenceParserTests
{
    private static (SequenceDefinition? Definition, IReadOnlyList<ValidationError> Errors) Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return SequenceParser.Parse(document.RootElement.Clone());
    }

    private static void AssertError(IReadOnlyList<ValidationError> errors, string path, string messagePart)
        => Assert.Contains(errors, e => e.Path == path && e.Message.Contains(messagePart, StringComparison.Ordinal));

    [Fact]
    public void Parse_ReturnsDefinition_WhenStepsAreValid()
    {
        var (definition, errors) = Parse("""
            [
              { "type": "email", "subject": "Hi {{ first_name }}", "body": "Hello" },
              { "type": "wait", "days": 2, "hours": 3 },
              { "id": "bump", "type": "email", "body": "Any thoughts?" }
            ]
            """);

        Assert.Empty(errors);
        Assert.NotNull(definition);
        Assert.Equal(3, definition.Steps.Count);
        var first = Assert.IsType<EmailStep>(definition.Steps[0]);
        Assert.Equal("Hi {{ first_name }}", first.Subject);
        var wait = Assert.IsType<WaitStep>(definition.Steps[1]);
        Assert.Equal(TimeSpan.FromDays(2) + TimeSpan.FromHours(3), wait.Duration);
        var bump = Assert.IsType<EmailStep>(definition.Steps[2]);
        Assert.Null(bump.Subject);
        Assert.Equal("bump", bump.Id);
    }

    [Fact]
    public void Parse_AssignsStepNIds_WhenIdIsOmitted()
    {
        var (definition, errors) = Parse("""
            [
              { "type": "email", "subject": "S", "body": "B" },
              { "type": "wait", "days": 1 },
              { "type": "email", "body": "B2" }
            ]
            """);

        Assert.Empty(errors);
        Assert.Equal(["step-1", "step-2", "step-3"], definition!.Steps.Select(s => s.Id));
    }

    [Fact]
    public void Parse_ReportsAllErrorsAtOnceWithPaths_WhenSeveralStepsAreBad()
    {
        var (definition, errors) = Parse("""
            [
              { "type": "email", "subject": "Hi", "body": "ok" },
              { "type": "fax" },
              { "type": "call" },
              { "type": "email", "subject": "x", "body": "b", "cc": "boss@example.com" },
              { "type": "email", "subject": "x" },
              { "type": "email", "subject": "a\r\nBcc: evil@example.com", "body": "b" },
              { "type": "email", "body": "{% if %}" },
              { "type": "wait", "days": -1 }
            ]
            """);

        Assert.Null(definition);
        AssertError(errors, "steps[1].type", "unknown step type 'fax'");
        AssertError(errors, "steps[2].script", "is required");
        AssertError(errors, "steps[3].cc", "unknown property");
        AssertError(errors, "steps[4].body", "is required");
        AssertError(errors, "steps[5].subject", "CR, LF");
        AssertError(errors, "steps[6].body", "template error");
        AssertError(errors, "steps[7].days", "0 to 3650");
        Assert.True(errors.Count >= 7);
    }

    [Fact]
    public void Parse_ReportsUnknownStepType_NotNotSupported_WhenTypeIsNotPlanned()
    {
        var (_, errors) = Parse("""[ { "type": "email", "subject": "s", "body": "b" }, { "type": "fax" } ]""");

        var error = Assert.Single(errors);
        Assert.Equal("steps[1].type", error.Path);
        Assert.DoesNotContain("not supported yet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsScriptRequired_WhenCallHasNoScript()
    {
        var (_, errors) = Parse("""[ { "type": "email", "subject": "s", "body": "b" }, { "type": "call" } ]""");

        var error = Assert.Single(errors);
        Assert.Equal("steps[1].script", error.Path);
        Assert.Equal("is required", error.Message);
    }

    [Fact]
    public void Parse_ReportsSubjectError_WhenSubjectContainsLineFeedOnly()
    {
        var (definition, errors) = Parse("""[ { "type": "email", "subject": "a\nb", "body": "b" } ]""");

        Assert.Null(definition);
        AssertError(errors, "steps[0].subject", "must not contain CR, LF or NUL");
    }

    [Fact]
    public void Parse_ReportsTemplateErrorOnBodyPath_WhenBodyIsInvalidLiquid()
    {
        var (definition, errors) = Parse("""[ { "type": "email", "subject": "s", "body": "Hi {{ first_name " } ]""");

        Assert.Null(definition);
        var error = Assert.Single(errors);
        Assert.Equal("steps[0].body", error.Path);
        Assert.StartsWith("template error", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsError_WhenWaitHasZeroDuration()
    {
        var (_, errors) = Parse("""[ { "type": "email", "subject": "s", "body": "b" }, { "type": "wait", "days": 0 } ]""");

        AssertError(errors, "steps[1]", "positive duration");
    }

    [Fact]
    public void Parse_ReportsDuplicateId_WhenTwoStepsShareAnId()
    {
        var (definition, errors) = Parse("""
            [
              { "id": "a", "type": "email", "subject": "s", "body": "b" },
              { "id": "a", "type": "wait", "days": 1 }
            ]
            """);

        Assert.Null(definition);
        var error = Assert.Single(errors);
        Assert.Equal("steps[1].id", error.Path);
        Assert.Contains("duplicate step id 'a'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsDuplicateId_WhenExplicitIdCollidesWithDefaultId()
    {
        var (_, errors) = Parse("""
            [
              { "type": "email", "subject": "s", "body": "b" },
              { "id": "step-1", "type": "wait", "days": 1 }
            ]
            """);

        AssertError(errors, "steps[1].id", "duplicate");
    }

    [Fact]
    public void Parse_ReportsNoEmailStep_WhenOnlyWaits()
    {
        var (definition, errors) = Parse("""[ { "type": "wait", "days": 1 } ]""");

        Assert.Null(definition);
        var error = Assert.Single(errors);
        Assert.Equal("steps", error.Path);
        Assert.Contains("at least one email step", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsMissingSubject_WhenFirstEmailHasNone()
    {
        var (definition, errors) = Parse("""[ { "type": "wait", "days": 1 }, { "type": "email", "body": "b" } ]""");

        Assert.Null(definition);
        var error = Assert.Single(errors);
        Assert.Equal("steps[1].subject", error.Path);
        Assert.Contains("needs a subject", error.Message, StringComparison.Ordinal);
        Assert.Contains("no thread to reply in", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsMissingSubject_WhenFirstEmailSubjectIsWhitespace()
    {
        var (_, errors) = Parse("""[ { "type": "email", "subject": "   ", "body": "b" } ]""");

        AssertError(errors, "steps[0].subject", "needs a subject");
    }

    [Fact]
    public void Parse_PointsSubjectErrorAtOriginalIndex_WhenEarlierStepFailedToParse()
    {
        var (_, errors) = Parse("""[ { "type": "call" }, { "type": "email", "body": "b" } ]""");

        AssertError(errors, "steps[1].subject", "needs a subject");
    }

    [Fact]
    public void Parse_ReportsError_WhenStepsIsEmptyArray()
    {
        var (definition, errors) = Parse("[]");

        Assert.Null(definition);
        AssertError(errors, "steps", "at least one step");
    }

    [Fact]
    public void Parse_ReportsError_WhenStepsIsNotAnArray()
    {
        var (definition, errors) = Parse("""{ "type": "email" }""");

        Assert.Null(definition);
        AssertError(errors, "steps", "must be an array");
    }

    [Fact]
    public void SerializeThenDeserialize_ReturnsEqualSteps_WhenWaitsAreShort()
    {
        var original = new SequenceDefinition(
        [
            new EmailStep("intro", "Hello {{ first_name }}, \"quoted\"", "Body line 1\nline 2 {{ company }}"),
            new WaitStep("pause", TimeSpan.FromMinutes(30)),
            new EmailStep("bump", null, "Just checking in"),
        ]);

        var roundTripped = SequenceParser.Deserialize(SequenceParser.Serialize(original));

        Assert.Equal(original.Steps, roundTripped.Steps);
    }

    [Fact]
    public void SerializeThenDeserialize_ReturnsEqualSteps_WhenWaitIsDays()
    {
        var original = new SequenceDefinition(
        [
            new EmailStep("intro", "Hello", "Body"),
            new WaitStep("pause", TimeSpan.FromDays(2)),
            new EmailStep("bump", null, "Bump"),
        ]);

        var roundTripped = SequenceParser.Deserialize(SequenceParser.Serialize(original));

        Assert.Equal(original.Steps, roundTripped.Steps);
    }
}
