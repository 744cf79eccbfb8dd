using Prospector.Core.Scheduling;

namespace Prospector.Core.Sequences;

/// <summary>Where an enrollment goes next: the index of the next actionable step and when it is due, or the end.</summary>
/// <param name="StepIndex">Index of the next step to run (email, task, webhook, or a branch reached after a wait), or null when finished.</param>
/// <param name="DueAt">When that step is due.</param>
public readonly record struct NextStep(int? StepIndex, DateTimeOffset DueAt)
{
    /// <summary>True when nothing is left to do.</summary>
    public bool IsFinished => StepIndex is null;

    /// <summary>The time the sequence itself asked for (before windows and holidays); null when the same as <see cref="DueAt"/>.</summary>
    public DateTimeOffset? WantedAt { get; init; }

    /// <summary>Why <see cref="DueAt"/> is later than <see cref="WantedAt"/>.</summary>
    public WaitReasons Reasons { get; init; }

    /// <summary>The kind of the step (<see cref="StepChannels"/>); null when unknown (treated as email: waits for mailbox capacity).</summary>
    public string? Channel { get; init; }
}

/// <summary>Step kinds as the dispatcher's claim sees them: only email steps take a mailbox slot; email and task steps keep to the sending window.</summary>
public static class StepChannels
{
    /// <summary>An email: needs a mailbox slot and the window.</summary>
    public const string Email = "email";
    /// <summary>A LinkedIn, call or manual task: kept to the window (the SDR's and the prospect's working hours), no slot.</summary>
    public const string Task = "task";
    /// <summary>A webhook call: runs when due.</summary>
    public const string Webhook = "webhook";
    /// <summary>A branch reached after a wait: evaluated when due.</summary>
    public const string Branch = "branch";

    /// <summary>The channel of a step.</summary>
    public static string Of(SequenceStep step) => step switch
    {
        EmailStep => Email,
        WebhookStep => Webhook,
        BranchStep => Branch,
        { IsTask: true } => Task,
        _ => Email,
    };

    /// <summary>True for channels kept to the sending window.</summary>
    public static bool KeepsWindow(string? channel) => channel is null or Email or Task;
}

/// <summary>
/// Pure sequence progression. Waits are folded into the due time (calendar days, or business days: the sending days of
/// the prospect's schedule, without its country's holidays, in their zone; Monday–Friday in UTC when no schedule is given). A branch reached with no wait in between is
/// evaluated at once with the facts given; a branch behind a wait is returned as the next step, to be evaluated
/// when it is due (so "if opened" looks at what happened during the wait).
/// </summary>
public static class SequenceProgress
{
    private static readonly EnrollmentFacts NoFacts = new(new HashSet<BranchEvent>(), new Dictionary<string, string?>());

    /// <summary>
    /// From step <paramref name="fromIndex"/> (inclusive) at time <paramref name="from"/>: the next actionable step and its due time.
    /// </summary>
    public static NextStep Next(SequenceDefinition definition, int fromIndex, DateTimeOffset from, EnrollmentFacts? facts = null, StepSchedule? schedule = null)
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
                    due = schedule is not null && wait.BusinessDays
                        ? Scheduler.AddBusinessDays(due, wait.Days, null, schedule) + wait.Time
                        : AddWait(due, wait);
                    waited = true;
                    index++;
                    continue;
                case BranchStep when waited:
                    return new NextStep(index, due) { Channel = StepChannels.Branch };
                case BranchStep branch:
                    var target = BranchEvaluator.Holds(branch.Condition, facts) ? branch.Then : branch.Else;
                    index = target is null ? index + 1 : target == StepTargets.End ? -1 : definition.IndexOf(target);
                    continue;
                default:
                    return new NextStep(index, due) { Channel = StepChannels.Of(definition.Steps[index]) };
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

    /// <summary>
    /// Places a next step in its prospect's schedule: email and task steps move to the first allowed instant of the
    /// window (jitter keyed by <paramref name="jitterKey"/>), others run when due. Keeps the wanted time and the reasons.
    /// </summary>
    public static NextStep Place(NextStep next, StepSchedule schedule, string jitterKey)
    {
        if (next.IsFinished || !StepChannels.KeepsWindow(next.Channel))
        {
            return next;
        }

        var placed = Scheduler.Place(next.DueAt, schedule, jitterKey);
        return next with { DueAt = placed.At, WantedAt = next.WantedAt ?? next.DueAt, Reasons = next.Reasons | placed.Reasons };
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
