namespace Prospector.Core.Inbound;

/// <summary>What an inbound message is, as far as a running sequence is concerned.</summary>
public enum InboundKind
{
    /// <summary>A person answered.</summary>
    HumanReply,
    /// <summary>An automatic answer (out of office, vacation, autoresponder): does not stop a sequence.</summary>
    AutoReply,
    /// <summary>A delivery status notification or other bounce.</summary>
    Bounce,
    /// <summary>A person asked to be removed (unsubscribe, stop, remove me).</summary>
    Unsubscribe,
    /// <summary>Anything else (newsletters, spam, unrelated mail).</summary>
    Other,
}

/// <summary>Details of a bounce, from the DSN when there is one.</summary>
/// <param name="IsHard">True when the failure is permanent (RFC 3464 Action: failed with a 5.x.x status, or an SMTP 5xx).</param>
/// <param name="Status">Enhanced status code such as 5.1.1, if known.</param>
/// <param name="Recipient">The failed recipient address, if known (from Final-Recipient/Original-Recipient).</param>
/// <param name="Action">RFC 3464 Action (failed, delayed, delivered, relayed, expanded), if a DSN.</param>
/// <param name="DiagnosticCode">The remote server's diagnostic text, if any.</param>
public sealed record BounceInfo(bool IsHard, string? Status, string? Recipient, string? Action, string? DiagnosticCode);

/// <summary>The verdict on one inbound message, with the evidence that produced it.</summary>
/// <param name="Kind">What the message is.</param>
/// <param name="Reason">Short, log-safe explanation of the rule that fired (no addresses, no body text).</param>
/// <param name="ReferencedMessageIds">Message-IDs (without angle brackets) this message points at, most specific first:
/// for replies In-Reply-To then References newest first; for bounces the Message-ID of the returned original.</param>
/// <param name="Bounce">Bounce details when <see cref="Kind"/> is <see cref="InboundKind.Bounce"/>.</param>
/// <param name="ReplyText">The visible text the sender wrote, quotes and signatures removed as far as known (replies only).</param>
public sealed record InboundClassification(
    InboundKind Kind,
    string Reason,
    IReadOnlyList<string> ReferencedMessageIds,
    BounceInfo? Bounce,
    string? ReplyText);
