using Prospector.Core.Sequences;

namespace Prospector.Server.Simulation;

/// <summary>Event types a simulation can inject.</summary>
public static class SimulatedEvents
{
    /// <summary>A human reply: stops the enrollment (live inbound effect).</summary>
    public const string Reply = "reply";
    /// <summary>An automatic out-of-office answer (live inbound effect: an auto_reply event).</summary>
    public const string OutOfOffice = "out_of_office";
    /// <summary>A hard bounce: stops the enrollment and suppresses the address (scratch database only).</summary>
    public const string Bounce = "bounce";
    /// <summary>The prospect opened an email (a fact branches read).</summary>
    public const string Opened = "opened";
    /// <summary>The prospect clicked a link (a fact branches read).</summary>
    public const string Clicked = "clicked";
    /// <summary>The prospect accepted a LinkedIn invitation (a fact branches read; invite tasks complete as connected).</summary>
    public const string LinkedInConnected = "linkedin_connected";

    /// <summary>All of them.</summary>
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        Reply, OutOfOffice, Bounce, Opened, Clicked, LinkedInConnected,
    };
}

/// <summary>An event injected at an instant for one prospect. <see cref="Until"/>: an out-of-office return date.</summary>
public sealed record SimulatedEvent(Guid ProspectId, string Type, DateTimeOffset At, DateTimeOffset? Until = null);

/// <summary>What to simulate, once the scratch database holds the workspace, sequence, prospects and mailboxes.</summary>
/// <param name="WorkspaceId">The workspace (its scratch copy).</param>
/// <param name="SequenceId">The sequence.</param>
/// <param name="Version">The version enrolled into.</param>
/// <param name="Definition">That version's definition.</param>
/// <param name="ProspectIds">Prospects to enroll, in order (the mailbox rotation follows it).</param>
/// <param name="MailboxIds">The mailbox pool.</param>
/// <param name="Start">The virtual clock's first instant (the enroll time).</param>
/// <param name="Horizon">How far to run.</param>
/// <param name="Events">Injected events.</param>
/// <param name="MaxSteps">Work limit: steps the dispatcher may claim before the run is refused.</param>
public sealed record SimulationPlan(
    Guid WorkspaceId, Guid SequenceId, int Version, SequenceDefinition Definition, IReadOnlyList<Guid> ProspectIds, IReadOnlyList<Guid> MailboxIds,
    DateTimeOffset Start, TimeSpan Horizon, IReadOnlyList<SimulatedEvent> Events, int MaxSteps);

/// <summary>
/// One step the engine ran for a prospect: when, which step, from which mailbox (emails), when the sequence wanted it and why
/// it waited (window, weekend, not_sending_day, holiday, daily_cap, hourly_cap, gap, paused).
/// </summary>
public sealed record TimelineEntry(
    DateTimeOffset At, Guid ProspectId, string? Prospect, string StepId, string StepType, Guid? MailboxId, DateTimeOffset? WantedAt, IReadOnlyList<string> Waited);

/// <summary>Emails sent by a mailbox on one of its local days.</summary>
public sealed record DayVolume(DateOnly Date, Guid MailboxId, int Emails);

/// <summary>A prospect that was not enrolled, and why (the enroll route's reasons).</summary>
public sealed record SimulationSkip(Guid ProspectId, string Reason);

/// <summary>An injected event that had nothing to act on (e.g. a reply before anything was sent), and why.</summary>
public sealed record IgnoredEvent(int Index, string Reason);

/// <summary>
/// What a simulation found. <see cref="Outcomes"/> counts enrollments by final state (<c>completed</c>, <c>replied</c>,
/// <c>bounced</c>, <c>active</c> when still running at the horizon…), with the reason for paused and stopped ones
/// (<c>paused:no_email</c>), and skipped prospects by reason (<c>skipped:suppressed</c>). <see cref="FinishedAt"/> is when
/// the last prospect finished, null when some have not within the horizon (<see cref="Unfinished"/>).
/// </summary>
public sealed record SimulationResult(
    IReadOnlyList<TimelineEntry> Timeline, IReadOnlyList<DayVolume> PerDay, IReadOnlyDictionary<string, int> Outcomes,
    DateTimeOffset? FinishedAt, int Unfinished, IReadOnlyList<SimulationSkip> Skipped, IReadOnlyList<IgnoredEvent> IgnoredEvents,
    int StepsRun, DateTimeOffset Start, DateTimeOffset HorizonEnd);

/// <summary>The run needed more work than its limit allows.</summary>
public sealed class SimulationLimitException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SimulationLimitException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public SimulationLimitException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public SimulationLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
