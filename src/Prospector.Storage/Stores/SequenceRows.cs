namespace Prospector.Storage.Stores;

/// <summary>States of a sequence: active ⇄ paused, then archived (final: no new enrollments, running ones end).</summary>
public static class SequenceStates
{
    /// <summary>Enrollments run and new ones are accepted.</summary>
    public const string Active = "active";

    /// <summary>Nothing is dispatched and nothing is enrolled until resumed.</summary>
    public const string Paused = "paused";

    /// <summary>Final: read-only, its enrollments ended.</summary>
    public const string Archived = "archived";

    /// <summary>Every state.</summary>
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Active, Paused, Archived };
}

/// <summary>A state change asked of a sequence.</summary>
public enum SequenceTransition
{
    /// <summary>active → paused.</summary>
    Pause,

    /// <summary>paused → active.</summary>
    Resume,

    /// <summary>active or paused → archived.</summary>
    Archive,
}

/// <summary>How a change to a sequence ended.</summary>
public enum SequenceChange
{
    /// <summary>Applied.</summary>
    Done,

    /// <summary>No such sequence in the workspace.</summary>
    NotFound,

    /// <summary>Not allowed in the sequence's current state (or, for a move, steps left unmapped).</summary>
    Conflict,
}

/// <summary>Where the enrollments on one step of the old version go: a step index of the new version, or null for the end.</summary>
public sealed record StepMove(int? ToStep, string Detail)
{
    /// <summary>The kind of the target step (<see cref="Prospector.Core.Sequences.StepChannels"/>).</summary>
    public string Channel { get; init; } = Prospector.Core.Sequences.StepChannels.Email;
}

/// <summary>The outcome of moving enrollments between versions; <see cref="UnmappedSteps"/> are old step indexes nobody mapped.</summary>
public sealed record MoveResult(SequenceChange Outcome, int Moved, IReadOnlyList<int> UnmappedSteps);

public sealed class SequenceVersionRow
{
    public Guid SequenceId { get; init; }
    public int Version { get; init; }
    public string Definition { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public long RunningEnrollments { get; init; }
}

public sealed class PreviewProspectRow
{
    public Guid Id { get; init; }
    public string? Email { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Title { get; init; }
    public string? Phone { get; init; }
    public string? Country { get; init; }
    public string? LinkedinUrl { get; init; }
    public string? Company { get; init; }
    public string? CompanyDomain { get; init; }
    public string CustomFields { get; init; } = "{}";
    public string? OwnerName { get; init; }
    public string? OwnerEmail { get; init; }
}

public sealed class PreviewMailboxRow
{
    public Guid Id { get; init; }
    public string FromName { get; init; } = "";
    public string FromAddress { get; init; } = "";
    public string? Signature { get; init; }
}

/// <summary>What a preview renders with. <see cref="EnrollmentFacts"/> holds the event types and state of the prospect's enrollment in the sequence, if any.</summary>
public sealed record PreviewContext(PreviewProspectRow Prospect, PreviewMailboxRow? Mailbox, IReadOnlyList<string> EnrollmentFacts);
