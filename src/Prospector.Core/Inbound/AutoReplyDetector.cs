using System.Text.RegularExpressions;
using MimeKit;

namespace Prospector.Core.Inbound;

/// <summary>Recognises automatic answers: RFC 3834 Auto-Submitted, the common vendor headers, and OOO subjects.</summary>
internal static partial class AutoReplyDetector
{
    /// <summary>The log-safe reason when the message is an automatic reply; otherwise null.</summary>
    public static string? Detect(MimeMessage message)
    {
        var headers = message.Headers;
        // RFC 3834: any value other than "no" marks a message generated automatically.
        var autoSubmitted = FirstToken(headers[HeaderId.AutoSubmitted]);
        if (autoSubmitted is not null && autoSubmitted != "no")
            return "auto-submitted: " + (LogSafe().IsMatch(autoSubmitted) ? autoSubmitted : "other");

        if (headers.Contains("X-Autoreply"))
            return "x-autoreply";
        if (headers.Contains("X-Autorespond"))
            return "x-autorespond";
        if (FirstToken(headers[HeaderId.Precedence]) == "auto_reply")
            return "precedence: auto_reply";

        // The match is one of the phrases below, so it is safe to log; only its spacing and case vary.
        var subject = AutoReplySubject().Match(message.Subject ?? "");
        return subject.Success ? "subject: " + Whitespace().Replace(subject.Value.ToLowerInvariant(), " ") : null;
    }

    static string? FirstToken(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null : value.Split(';')[0].Trim().ToLowerInvariant();

    [GeneratedRegex(@"out\s+of\s+(?:the\s+)?office|automatic\s+reply|auto[\s-]?reply|autoresponse|^\s*auto:|"
        + @"abwesenheitsnotiz|automatische\s+antwort|réponse\s+automatique|^\s*absen(?:ce|t)\b|on\s+vacation|"
        + @"respuesta\s+automática|risposta\s+automatica|automatisch\s+antwoord|fuera\s+de\s+la\s+oficina",
        RegexOptions.IgnoreCase)]
    private static partial Regex AutoReplySubject();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"^[a-z0-9_-]{1,32}$")]
    private static partial Regex LogSafe();
}
