using System.Text.RegularExpressions;
using MimeKit;

namespace Prospector.Core.Inbound;

/// <summary>Decides what an inbound message means for a running sequence. Pure: reads only the message.</summary>
public static partial class InboundClassifier
{
    const int MaxUnsubscribeWords = 25;

    /// <summary>
    /// Classifies <paramref name="message"/>, in order: bounce (RFC 3464 DSN, else the usual bounce signs),
    /// automatic reply (RFC 3834), unsubscribe request, human reply, other.
    /// </summary>
    public static InboundClassification Classify(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);

        // A DSN also carries Auto-Submitted: auto-replied, so bounces are looked for first.
        if (BounceDetector.Detect(message) is { } bounce)
            return new(InboundKind.Bounce, bounce.Reason, bounce.ReferencedMessageIds, bounce.Info, null);

        var references = ReplyReferences(message);
        var text = ReplyTextExtractor.Extract(message);
        if (AutoReplyDetector.Detect(message) is { } autoReason)
            return new(InboundKind.AutoReply, autoReason, references, null, text);

        var replyReason = message.InReplyTo is not null ? "in-reply-to"
            : message.References.Count > 0 ? "references"
            : IsReplySubject(message.Subject) ? "subject: re"
            : null;
        if (UnsubscribeReason(message, text, replyReason is not null) is { } unsubscribeReason)
            return new(InboundKind.Unsubscribe, unsubscribeReason, references, null, text);

        return replyReason is null
            ? new(InboundKind.Other, "no reply signals", references, null, null)
            : new(InboundKind.HumanReply, replyReason, references, null, text);
    }

    /// <summary>In-Reply-To first, then References newest (last) first; deduplicated, without angle brackets.</summary>
    internal static List<string> ReplyReferences(MimeMessage message)
    {
        IEnumerable<string> ids = message.InReplyTo is { } inReplyTo ? [inReplyTo] : [];
        return ids.Concat(message.References.Reverse()).Distinct(StringComparer.Ordinal).ToList();
    }

    internal static bool IsReplySubject(string? subject) => ReplySubject().IsMatch(subject ?? "");

    // A short reply that asks for removal, or a mail to our unsubscribe address (subject "unsubscribe", empty body).
    // Other mail is not trusted: a newsletter's short footer says "unsubscribe" too.
    static string? UnsubscribeReason(MimeMessage message, string text, bool isReply)
    {
        var words = Words().Replace(text.ToLowerInvariant().Replace('’', '\''), " ").Trim();
        if (words.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length > MaxUnsubscribeWords)
            return null;
        if (isReply && RemovalRequest().IsMatch(words))
            return "removal request in reply";
        return UnsubscribeSubject().IsMatch(message.Subject ?? "") && (words.Length == 0 || RemovalRequest().IsMatch(words))
            ? "subject: unsubscribe"
            : null;
    }

    [GeneratedRegex(@"[^\p{L}\p{N}']+")]
    private static partial Regex Words();

    // Matched against lower-cased words separated by single spaces.
    [GeneratedRegex(@"\b(?:unsubscribe|unsub|remove me|remove us|remove my|please remove|take me off|take us off|opt me out|"
        + @"opt out|do not contact|don't contact|do not email|don't email|stop emailing|stop sending|stop contacting|"
        + @"stop writing|stop mailing|désinscri\w*|desinscri\w*|désabonn\w*|desabonn\w*|retirez moi|abmelden|austragen|"
        + @"darme de baja|dar de baja)\b|^(?:please )?stop(?: please)?$")]
    private static partial Regex RemovalRequest();

    [GeneratedRegex(@"\b(?:unsubscribe|désinscri|désabonn|remove)", RegexOptions.IgnoreCase)]
    private static partial Regex UnsubscribeSubject();

    [GeneratedRegex(@"^\s*(?:re|aw|sv|antw)\s*:", RegexOptions.IgnoreCase)]
    private static partial Regex ReplySubject();
}
