using static Prospector.Core.Tests.Sequences.ParserKit;

namespace Prospector.Core.Tests.Sequences;

public class SequenceGraphTests
{
    [Fact]
    public void Parse_AcceptsBranchSkippingAhead_WhenEveryStepStaysReachable()
    {
        Valid("""
            [
              { "id": "intro", "type": "email", "subject": "Hi", "body": "b" },
              { "type": "wait", "days": 2 },
              { "type": "branch", "if": "replied", "then": "end" },
              { "type": "branch", "if": "opened", "then": "hot", "else": "cold" },
              { "id": "cold", "type": "email", "body": "still there?" },
              { "type": "branch", "if": "replied", "then": "end", "else": "end" },
              { "id": "hot", "type": "call", "script": "call them" }
            ]
            """);
    }

    [Fact]
    public void Parse_ReportsUnknownTarget_WhenBranchNamesMissingStep()
    {
        var (_, errors) = AfterIntro("""{ "type": "branch", "if": "replied", "then": "end", "else": "ghost" }""");

        var error = SingleError(errors, "steps[1].else");
        Assert.Contains("no step has id 'ghost'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsSelfJump_WhenBranchTargetsItself()
    {
        var (_, errors) = AfterIntro("""{ "id": "b", "type": "branch", "if": "replied", "then": "b" }""");

        var error = SingleError(errors, "steps[1].then");
        Assert.Contains("cannot jump to itself", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsUnreachableStep_WhenBranchJumpsOverItBothWays()
    {
        var (_, errors) = AfterIntro("""
            { "type": "branch", "if": "replied", "then": "end", "else": "last" },
            { "type": "call", "script": "never" },
            { "id": "last", "type": "email", "body": "b" }
            """);

        var error = SingleError(errors, "steps[2]");
        Assert.Contains("unreachable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsEveryUnreachableStep_WhenTailFollowsAnEndJump()
    {
        var (_, errors) = AfterIntro("""
            { "type": "branch", "if": "replied", "then": "end", "else": "end" },
            { "type": "wait", "days": 1 },
            { "type": "email", "body": "b" }
            """);

        Assert.Equal(["steps[2]", "steps[3]"], errors.Select(e => e.Path));
    }

    [Fact]
    public void Parse_ReportsLoopAtJumpingBranch_WhenLoopHasNoWait()
    {
        var (_, errors) = Parse("""
            [
              { "id": "intro", "type": "email", "subject": "Hi", "body": "b" },
              { "id": "again", "type": "call", "script": "ring" },
              { "type": "branch", "if": "replied", "then": "end", "else": "again" }
            ]
            """);

        var error = SingleError(errors, "steps[2]");
        Assert.Contains("'else' jumps back to 'again'", error.Message, StringComparison.Ordinal);
        Assert.Contains("no wait", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReportsLoop_WhenBranchesBounceBetweenEachOther()
    {
        var (_, errors) = Parse("""
            [
              { "id": "intro", "type": "email", "subject": "Hi", "body": "b" },
              { "id": "a", "type": "branch", "if": "opened", "then": "b", "else": "end" },
              { "id": "b", "type": "branch", "if": "clicked", "then": "a", "else": "end" }
            ]
            """);

        AssertError(errors, "steps[2]", "'then' jumps back to 'a'");
    }

    [Fact]
    public void Parse_AcceptsLoop_WhenItContainsAWait()
    {
        Valid("""
            [
              { "id": "intro", "type": "email", "subject": "Hi", "body": "b" },
              { "id": "pause", "type": "wait", "days": 1 },
              { "id": "check", "type": "branch", "if": "replied", "then": "end" },
              { "type": "manual_task", "instructions": "nudge" },
              { "type": "branch", "if": "linkedin_connected", "then": "end", "else": "pause" }
            ]
            """);
    }

    [Fact]
    public void Parse_AcceptsLoop_WhenItJumpsBackOntoTheWaitItself()
    {
        Valid("""
            [
              { "id": "intro", "type": "email", "subject": "Hi", "body": "b" },
              { "id": "check", "type": "branch", "if": "replied", "then": "end" },
              { "id": "pause", "type": "wait", "hours": 4 },
              { "type": "branch", "if": "opened", "then": "check", "else": "end" }
            ]
            """);
    }

    [Fact]
    public void Parse_ReportsNothingToDo_WhenOnlyWaitsAndBranches()
    {
        var (_, errors) = Parse("""[ { "type": "wait", "days": 1 }, { "type": "branch", "if": "replied", "then": "end" } ]""");

        var error = SingleError(errors, "steps");
        Assert.Contains("at least one email step, task or webhook", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "type": "call", "script": "s" }""")]
    [InlineData("""{ "type": "webhook", "url": "https://e.test" }""")]
    [InlineData("""{ "type": "linkedin_visit" }""")]
    public void Parse_AcceptsSequenceWithoutEmail_WhenAnotherStepDoesSomething(string step)
        => Valid($$"""[ { "type": "wait", "days": 1 }, {{step}} ]""");

    [Fact]
    public void Parse_ReportsSubjectlessEmail_WhenBranchCanSkipTheFirstEmail()
    {
        var (_, errors) = Parse("""
            [
              { "type": "branch", "if": "email_found", "then": "intro", "else": "follow" },
              { "id": "intro", "type": "email", "subject": "Hi", "body": "b" },
              { "type": "wait", "days": 1 },
              { "id": "follow", "type": "email", "body": "bump" }
            ]
            """);

        var error = SingleError(errors, "steps[3].subject");
        Assert.Contains("no thread to reply in", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AcceptsSubjectlessEmail_WhenEveryPathSendsASubjectFirst()
    {
        Valid("""
            [
              { "type": "branch", "if": "email_found", "then": "intro", "else": "end" },
              { "id": "intro", "type": "email", "subject": "Hi", "body": "b" },
              { "type": "wait", "days": 1 },
              { "type": "branch", "if": "opened", "then": "warm" },
              { "type": "email", "body": "cold bump" },
              { "type": "branch", "if": "replied", "then": "end", "else": "end" },
              { "id": "warm", "type": "email", "body": "warm bump" }
            ]
            """);
    }

    [Fact]
    public void Parse_ReportsSubjectlessEmail_WhenTasksComeBeforeIt()
    {
        var (_, errors) = Parse("""[ { "type": "call", "script": "s" }, { "type": "email", "body": "b" } ]""");

        SingleError(errors, "steps[1].subject");
    }

    [Fact]
    public void Parse_ReportsGraphErrorsTogetherWithFieldErrors_WhenBothExist()
    {
        var (_, errors) = Parse("""
            [
              { "type": "email", "body": "b" },
              { "type": "call" },
              { "type": "branch", "if": "replied", "then": "end", "else": "end" },
              { "type": "manual_task", "instructions": "x" }
            ]
            """);

        AssertError(errors, "steps[0].subject", "needs a subject");
        AssertError(errors, "steps[1].script", "is required");
        AssertError(errors, "steps[3]", "unreachable");
    }
}
