namespace Prospector.Core.Sequences;

/// <summary>
/// An outreach sequence: steps with stable ids. Control flows from one step to the next in order; a
/// <see cref="BranchStep"/> jumps to another step's id or to <see cref="StepTargets.End"/>.
/// </summary>
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

/// <summary>One step of a sequence. <see cref="Id"/> is stable across edits and versions; sends and tasks are keyed on it.</summary>
public abstract record SequenceStep(string Id)
{
    /// <summary>The step type as written in the definition ("email", "wait", …).</summary>
    public abstract string Type { get; }

    /// <summary>True for steps that an SDR performs by hand (a task in the owner's inbox).</summary>
    public virtual bool IsTask => false;
}

/// <summary>Send an email. A step without a subject replies in the thread of the first email ("Re: …").</summary>
public sealed record EmailStep(string Id, string? Subject, string Body) : SequenceStep(Id)
{
    /// <inheritdoc />
    public override string Type => StepTypes.Email;
}

/// <summary>
/// Wait before the next step. <see cref="Days"/> are calendar days, or business days (Monday–Friday) when
/// <see cref="BusinessDays"/>; <see cref="Time"/> (hours, minutes, seconds) is always elapsed time.
/// </summary>
public sealed record WaitStep(string Id, int Days, TimeSpan Time, bool BusinessDays = false) : SequenceStep(Id)
{
    /// <summary>A calendar wait of a fixed duration.</summary>
    public WaitStep(string id, TimeSpan duration)
        : this(id, duration.Days, duration - TimeSpan.FromDays(duration.Days))
    {
    }

    /// <summary>The duration when days are calendar days.</summary>
    public TimeSpan Duration => TimeSpan.FromDays(Days) + Time;

    /// <inheritdoc />
    public override string Type => StepTypes.Wait;
}

/// <summary>Visit the prospect's LinkedIn profile (a task, or a LinkedIn provider later).</summary>
public sealed record LinkedInVisitStep(string Id, string? Instructions) : SequenceStep(Id)
{
    /// <inheritdoc />
    public override string Type => StepTypes.LinkedInVisit;

    /// <inheritdoc />
    public override bool IsTask => true;
}

/// <summary>Send a LinkedIn connection invitation, with an optional note (at most 300 characters once rendered).</summary>
public sealed record LinkedInInviteStep(string Id, string? Note) : SequenceStep(Id)
{
    /// <summary>LinkedIn's limit on an invitation note.</summary>
    public const int MaxNoteLength = 300;

    /// <inheritdoc />
    public override string Type => StepTypes.LinkedInInvite;

    /// <inheritdoc />
    public override bool IsTask => true;
}

/// <summary>Send a LinkedIn message to a connection.</summary>
public sealed record LinkedInMessageStep(string Id, string Body) : SequenceStep(Id)
{
    /// <inheritdoc />
    public override string Type => StepTypes.LinkedInMessage;

    /// <inheritdoc />
    public override bool IsTask => true;
}

/// <summary>Call the prospect, following a script.</summary>
public sealed record CallStep(string Id, string Script) : SequenceStep(Id)
{
    /// <inheritdoc />
    public override string Type => StepTypes.Call;

    /// <inheritdoc />
    public override bool IsTask => true;
}

/// <summary>Anything else an SDR does by hand.</summary>
public sealed record ManualTaskStep(string Id, string? Title, string Instructions) : SequenceStep(Id)
{
    /// <inheritdoc />
    public override string Type => StepTypes.ManualTask;

    /// <inheritdoc />
    public override bool IsTask => true;
}

/// <summary>POST a rendered JSON payload to an HTTPS URL (e.g. another tool's inbound hook).</summary>
public sealed record WebhookStep(string Id, Uri Url, string? Payload) : SequenceStep(Id)
{
    /// <inheritdoc />
    public override string Type => StepTypes.Webhook;
}

/// <summary>
/// Go to <see cref="Then"/> when <see cref="Condition"/> holds, else to <see cref="Else"/> (null: the next step).
/// Targets are step ids or <see cref="StepTargets.End"/>.
/// </summary>
public sealed record BranchStep(string Id, BranchCondition Condition, string Then, string? Else) : SequenceStep(Id)
{
    /// <inheritdoc />
    public override string Type => StepTypes.Branch;
}

/// <summary>Special branch targets.</summary>
public static class StepTargets
{
    /// <summary>Finish the sequence.</summary>
    public const string End = "end";
}

/// <summary>What a branch tests.</summary>
public abstract record BranchCondition;

/// <summary>Something that happened to the enrollment (or a fact about the prospect) before the branch is reached.</summary>
public sealed record EventCondition(BranchEvent Event) : BranchCondition;

/// <summary>The events a branch can test.</summary>
public enum BranchEvent
{
    /// <summary>The prospect replied (a human reply was recorded).</summary>
    Replied,

    /// <summary>An email of this enrollment was opened (by a human, when tracking is on).</summary>
    Opened,

    /// <summary>A tracked link was clicked.</summary>
    Clicked,

    /// <summary>The LinkedIn invitation was accepted.</summary>
    LinkedInConnected,

    /// <summary>The prospect has an email address.</summary>
    EmailFound,
}

/// <summary>A test on a prospect field (<c>title</c>, <c>company_domain</c>, <c>custom.industry</c>, …).</summary>
public sealed record FieldCondition(string Field, FieldOperator Operator, string? Value) : BranchCondition;

/// <summary>Operators of a <see cref="FieldCondition"/>. Text comparisons ignore case.</summary>
public enum FieldOperator
{
    /// <summary>Equal to the value.</summary>
    Equals,

    /// <summary>Not equal to the value (an absent field is not equal).</summary>
    NotEquals,

    /// <summary>Contains the value.</summary>
    Contains,

    /// <summary>Present and not blank.</summary>
    Exists,

    /// <summary>Absent or blank.</summary>
    Missing,
}

/// <summary>What is known about an enrollment when a branch is evaluated.</summary>
/// <param name="Events">Events that happened (replied, opened, …).</param>
/// <param name="Fields">Prospect fields by template name (<c>first_name</c>, <c>custom.industry</c>, …).</param>
public sealed record EnrollmentFacts(IReadOnlySet<BranchEvent> Events, IReadOnlyDictionary<string, string?> Fields);

/// <summary>Step type names as they appear in JSON.</summary>
public static class StepTypes
{
    /// <summary>An email step.</summary>
    public const string Email = "email";

    /// <summary>A wait step.</summary>
    public const string Wait = "wait";

    /// <summary>Visit a LinkedIn profile.</summary>
    public const string LinkedInVisit = "linkedin_visit";

    /// <summary>Send a LinkedIn invitation.</summary>
    public const string LinkedInInvite = "linkedin_invite";

    /// <summary>Send a LinkedIn message.</summary>
    public const string LinkedInMessage = "linkedin_message";

    /// <summary>A phone call.</summary>
    public const string Call = "call";

    /// <summary>A manual task.</summary>
    public const string ManualTask = "manual_task";

    /// <summary>An outgoing webhook.</summary>
    public const string Webhook = "webhook";

    /// <summary>A conditional jump.</summary>
    public const string Branch = "branch";

    /// <summary>Every step type.</summary>
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        Email, Wait, LinkedInVisit, LinkedInInvite, LinkedInMessage, Call, ManualTask, Webhook, Branch,
    };
}
