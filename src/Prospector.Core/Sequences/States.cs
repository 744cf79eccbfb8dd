namespace Prospector.Core.Sequences;

/// <summary>States of an enrollment (one prospect in one sequence). Only <see cref="Active"/> is ever dispatched.</summary>
public static class EnrollmentStates
{
    /// <summary>Steps remain and will run when due.</summary>
    public const string Active = "active";
    /// <summary>Held; <c>stop_reason</c> says why (e.g. <c>send_unknown</c> waits for ops).</summary>
    public const string Paused = "paused";
    /// <summary>Every step ran.</summary>
    public const string Completed = "completed";
    /// <summary>The prospect replied: the sequence stops.</summary>
    public const string Replied = "replied";
    /// <summary>The address hard-bounced: stopped and suppressed.</summary>
    public const string Bounced = "bounced";
    /// <summary>The prospect asked to be removed: stopped and suppressed.</summary>
    public const string Unsubscribed = "unsubscribed";
    /// <summary>Stopped before sending because the address is on the suppression list.</summary>
    public const string Suppressed = "suppressed";
    /// <summary>A permanent send error that is not the recipient's (message refused, auth).</summary>
    public const string Failed = "failed";
    /// <summary>Stopped by a user (or by archiving the sequence); <c>stop_reason</c> says which.</summary>
    public const string Stopped = "stopped";
}

/// <summary>States of one send (unique per enrollment and step): planned → sending → sent | failed | unknown.</summary>
public static class SendStates
{
    /// <summary>Waiting for a (re)try after a transient failure.</summary>
    public const string Planned = "planned";
    /// <summary>Committed before the SMTP transaction; a crash leaves it here and the next claim marks it unknown.</summary>
    public const string Sending = "sending";
    /// <summary>The server answered 250 after the final ".".</summary>
    public const string Sent = "sent";
    /// <summary>Permanently refused.</summary>
    public const string Failed = "failed";
    /// <summary>May or may not have been delivered; never resent automatically.</summary>
    public const string Unknown = "unknown";
}
