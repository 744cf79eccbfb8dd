namespace Prospector.Core.Sequences;

/// <summary>Where an enrollment goes next: the index of the next actionable step and when it is due, or the end.</summary>
/// <param name="StepIndex">Index of the next step to run (email, task, webhook, or a branch reached after a wait), or null when finished.</param>
/// <param name="DueAt">When that step is due.</param>
public readonly record struct NextStep(int? StepIndex, DateTimeOffset DueAt)
{
    /// <summary>True when nothing is left to do.</summary>
    public bool IsFinished => StepIndex is null;
}

/// <summary>
/// Pure sequence progression. Waits are folded into the due time (calendar days, or Monday–Friday business days
/// counted in UTC until scheduling brings time zones and holidays). A branch reached with no wait in between is
/// evaluated at once with the facts given; a branch behind a wait is returned as the next step, to be evaluated
/// when it is due (so "if opened" looks at what happened during the wait).
/// </summary>
public static class SequenceProgress
{
    private static readonly EnrollmentFacts NoFacts = new(new HashSet<BranchEvent>(), new Dictionary<string, string?>());

    /// <summary>
    /// From step <paramref name="fromIndex"/> (inclusive) at time <paramref name="from"/>: the next actionable step and its due time.
    /// </summary>
    public static NextStep Next(SequenceDefinition definition, int fromIndex, DateTimeOffset from, EnrollmentFacts? facts = null)
    {
        facts ??= NoFacts;
        var due = from;
        var waited = false;
        var index = fromIndex;
        // Validation refuses loops without a wait; the bound is a second line of defence for stored definitions.
        for (var hops = 0; hops <= definition.Steps.Count * 2; hops++)
        {
            if (index < 0 || index >= definition.Steps.Count)
            {
                return new NextStep(null, due);
            }

            switch (definition.Steps[index])
            {
                case WaitStep wait:
                    due = AddWait(due, wait);
                    waited = true;
                    index++;
                    continue;
                case BranchStep branch when !waited:
                    var target = BranchEvaluator.Holds(branch.Condition, facts) ? branch.Then : branch.Else;
                    index = target is null ? index + 1 : target == StepTargets.End ? -1 : definition.IndexOf(target);
                    continue;
                default:
                    return new NextStep(index, due);
            }
        }

        throw new InvalidOperationException("sequence loops without a wait");
    }

    /// <summary>Adds a wait to an instant: calendar days, or business days that skip Saturday and Sunday.</summary>
    public static DateTimeOffset AddWait(DateTimeOffset from, WaitStep wait)
    {
        if (!wait.BusinessDays)
        {
            return from + wait.Duration;
        }

        var due = from;
        var left = wait.Days;
        while (left > 0)
        {
            due = due.AddDays(1);
            if (due.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday))
            {
                left--;
            }
        }

        while (due.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
        {
            due = due.AddDays(1);
        }

        return due + wait.Time;
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

/// <summary>Evaluates branch conditions against an enrollment's facts.</summary>
public static class BranchEvaluator
{
    /// <summary>True when <paramref name="condition"/> holds.</summary>
    public static bool Holds(BranchCondition condition, EnrollmentFacts facts)
    {
        switch (condition)
        {
            case EventCondition e:
                return facts.Events.Contains(e.Event);
            case FieldCondition f:
                var value = facts.Fields.TryGetValue(f.Field, out var v) ? v?.Trim() : null;
                var present = !string.IsNullOrEmpty(value);
                return f.Operator switch
                {
                    FieldOperator.Exists => present,
                    FieldOperator.Missing => !present,
                    FieldOperator.Equals => present && string.Equals(value, f.Value?.Trim(), StringComparison.OrdinalIgnoreCase),
                    FieldOperator.NotEquals => !present || !string.Equals(value, f.Value?.Trim(), StringComparison.OrdinalIgnoreCase),
                    FieldOperator.Contains => present && f.Value is not null && value!.Contains(f.Value.Trim(), StringComparison.OrdinalIgnoreCase),
                    _ => false,
                };
            default:
                throw new ArgumentOutOfRangeException(nameof(condition), condition, "unknown branch condition");
        }
    }
}
