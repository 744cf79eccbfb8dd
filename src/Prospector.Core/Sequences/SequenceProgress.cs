namespace Prospector.Core.Sequences;

/// <summary>Where an enrollment goes next: the index of the next actionable step and when it is due, or the end.</summary>
/// <param name="StepIndex">Index of the next non-wait step, or null when the sequence is finished.</param>
/// <param name="DueAt">When that step is due.</param>
public readonly record struct NextStep(int? StepIndex, DateTimeOffset DueAt)
{
    /// <summary>True when nothing is left to do.</summary>
    public bool IsFinished => StepIndex is null;
}

/// <summary>Pure sequence progression. Calendar waits only; sending windows and business days plug in with scheduling.</summary>
public static class SequenceProgress
{
    /// <summary>
    /// From step <paramref name="fromIndex"/> (inclusive) at time <paramref name="from"/>, skips over waits, adding their
    /// durations, and returns the next actionable step and its due time.
    /// </summary>
    public static NextStep Next(SequenceDefinition definition, int fromIndex, DateTimeOffset from)
    {
        var due = from;
        for (var i = fromIndex; i < definition.Steps.Count; i++)
        {
            if (definition.Steps[i] is WaitStep wait)
            {
                due += wait.Duration;
                continue;
            }

            return new NextStep(i, due);
        }

        return new NextStep(null, due);
    }

    /// <summary>The email subject for a step: its own, or "Re: " + the thread's first subject for a follow-up.</summary>
    public static string SubjectFor(string? renderedSubject, string? threadSubject)
    {
        if (!string.IsNullOrWhiteSpace(renderedSubject))
        {
            return renderedSubject;
        }

        var root = threadSubject ?? string.Empty;
        return root.StartsWith("Re: ", StringComparison.OrdinalIgnoreCase) ? root : "Re: " + root;
    }
}
