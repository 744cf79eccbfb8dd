namespace Prospector.Core.Sequences;

/// <summary>An outreach sequence: an ordered list of steps with stable ids.</summary>
public sealed record SequenceDefinition(IReadOnlyList<SequenceStep> Steps)
{
    /// <summary>The index of the step with this id, or -1.</summary>
    public int IndexOf(string stepId)
    {
        for (var i = 0; i < Steps.Count; i++)
        {
            if (Steps[i].Id == stepId)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>One step of a sequence. <see cref="Id"/> is stable across edits; sends are keyed on it.</summary>
public abstract record SequenceStep(string Id)
{
    /// <summary>The step type as written in the definition ("email", "wait", …).</summary>
    public abstract string Type { get; }
}

/// <summary>Send an email. A step without a subject replies in the thread of the first email ("Re: …").</summary>
public sealed record EmailStep(string Id, string? Subject, string Body) : SequenceStep(Id)
{
    /// <inheritdoc />
    public override string Type => StepTypes.Email;
}

/// <summary>Wait a fixed duration before the next step (calendar time; business days come with scheduling).</summary>
public sealed record WaitStep(string Id, TimeSpan Duration) : SequenceStep(Id)
{
    /// <inheritdoc />
    public override string Type => StepTypes.Wait;
}

/// <summary>Step type names as they appear in JSON.</summary>
public static class StepTypes
{
    /// <summary>An email step.</summary>
    public const string Email = "email";

    /// <summary>A wait step.</summary>
    public const string Wait = "wait";

    /// <summary>Types planned but not yet runnable: accepted names so the error can say "not supported yet".</summary>
    public static readonly IReadOnlySet<string> Planned = new HashSet<string>(StringComparer.Ordinal)
    {
        "linkedin_visit", "linkedin_invite", "linkedin_message", "call", "manual_task", "webhook",
    };
}
