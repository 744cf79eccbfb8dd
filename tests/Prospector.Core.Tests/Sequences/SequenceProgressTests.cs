using Prospector.Core.Sequences;

namespace Prospector.Core.Tests.Sequences;

public class SequenceProgressTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private static readonly SequenceDefinition Definition = new(
    [
        new EmailStep("e1", "Hello", "b"),
        new WaitStep("w1", TimeSpan.FromDays(2)),
        new WaitStep("w2", TimeSpan.FromHours(5)),
        new EmailStep("e2", null, "b"),
        new WaitStep("w3", TimeSpan.FromDays(1)),
    ]);

    [Fact]
    public void Next_ReturnsSameStepAtStartTime_WhenStepIsEmail()
    {
        var next = SequenceProgress.Next(Definition, 0, Start);

        Assert.Equal(0, next.StepIndex);
        Assert.Equal(Start, next.DueAt);
        Assert.False(next.IsFinished);
    }

    [Fact]
    public void Next_SkipsWaitsAndSumsDurations_WhenWaitsPrecedeEmail()
    {
        var next = SequenceProgress.Next(Definition, 1, Start);

        Assert.Equal(3, next.StepIndex);
        Assert.Equal(Start + TimeSpan.FromDays(2) + TimeSpan.FromHours(5), next.DueAt);
    }

    [Fact]
    public void Next_ReturnsFinished_WhenOnlyWaitsRemain()
    {
        var next = SequenceProgress.Next(Definition, 4, Start);

        Assert.True(next.IsFinished);
        Assert.Null(next.StepIndex);
    }

    [Fact]
    public void Next_ReturnsFinished_WhenIndexIsPastEnd()
    {
        var next = SequenceProgress.Next(Definition, 5, Start);

        Assert.True(next.IsFinished);
        Assert.Equal(Start, next.DueAt);
    }

    [Fact]
    public void SubjectFor_ReturnsOwnSubject_WhenStepHasOne()
        => Assert.Equal("New topic", SequenceProgress.SubjectFor("New topic", "Hello"));

    [Fact]
    public void SubjectFor_PrefixesRe_WhenFollowUpHasNoSubject()
        => Assert.Equal("Re: Hello", SequenceProgress.SubjectFor(null, "Hello"));

    [Fact]
    public void SubjectFor_PrefixesRe_WhenRenderedSubjectIsWhitespace()
        => Assert.Equal("Re: Hello", SequenceProgress.SubjectFor("  ", "Hello"));

    [Theory]
    [InlineData("Re: Hello")]
    [InlineData("RE: Hello")]
    public void SubjectFor_DoesNotDoubleRe_WhenThreadSubjectAlreadyStartsWithRe(string thread)
        => Assert.Equal(thread, SequenceProgress.SubjectFor(null, thread));
}
