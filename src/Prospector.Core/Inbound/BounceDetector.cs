using System.Text;
using System.Text.RegularExpressions;
using MimeKit;

namespace Prospector.Core.Inbound;

/// <summary>
/// Recognises bounces: an RFC 3464 delivery status notification first, then the usual signs of a
/// non-standard bounce (MAILER-DAEMON sender, "Undeliverable:" subjects) with the status read from the text.
/// </summary>
internal static partial class BounceDetector
{
    internal sealed record Verdict(BounceInfo Info, string Reason, IReadOnlyList<string> ReferencedMessageIds);

    sealed record Recipient(string? Action, string? Status, string? Address, string? DiagnosticCode)
    {
        // RFC 3464: only "failed" is final; we call it hard when the status is permanent (5.x.x) or absent.
        // Action is a required field: when an MTA mangles it, the status class (RFC 3463) decides.
        public bool IsHard => Action switch
        {
            "failed" => Status is null || Status.StartsWith('5'),
            null => Status?.StartsWith('5') == true,
            _ => false,
        };
    }

    public static Verdict? Detect(MimeMessage message)
    {
        if (FromDsn(message) is { } dsn)
            return dsn;
        if (BounceSignal(message) is not { } signal)
            return null;

        // A relay that forwards a bounce attaches the DSN itself as a message/rfc822 part.
        return message.BodyParts.OfType<MessagePart>()
            .Select(part => part.Message is null ? null : FromDsn(part.Message))
            .FirstOrDefault(verdict => verdict is not null)
            ?? FromText(message, signal);
    }

    static Verdict? FromDsn(MimeMessage message)
    {
        var recipients = message.BodyParts.OfType<MessageDeliveryStatus>()
            .SelectMany(dsn => dsn.StatusGroups)
            .Where(group => group.Contains("Action") || group.Contains("Final-Recipient"))
            .Select(ReadRecipient)
            .ToList();
        if (recipients.Count == 0)
            return null;

        var primary = recipients.FirstOrDefault(r => r.IsHard)
            ?? recipients.FirstOrDefault(r => r.Action == "failed")
            ?? recipients[0];
        var info = new BounceInfo(recipients.Any(r => r.IsHard), primary.Status, primary.Address, primary.Action, primary.DiagnosticCode);
        return new Verdict(info, $"dsn action={Token(primary.Action)} status={primary.Status ?? "none"}", ReturnedMessageIds(message));
    }

    static Recipient ReadRecipient(HeaderList group)
    {
        var action = group["Action"]?.Trim().ToLowerInvariant();
        var diagnostic = StripType(group["Diagnostic-Code"]) is { } code ? Whitespace().Replace(code, " ") : null;
        var declared = FirstMatch(EnhancedStatus(), group["Status"]);
        var detailed = FirstMatch(EnhancedStatus(), diagnostic);
        // X.0.0 means "undefined"; the remote server's own code in Diagnostic-Code is then more specific.
        var status = declared is null || (declared.EndsWith(".0.0", StringComparison.Ordinal) && detailed?[0] == declared[0])
            ? detailed ?? declared
            : declared;
        // Original-Recipient is the address as we sent it; Final-Recipient may be an alias it expanded to.
        var address = StripType(group["Original-Recipient"]) ?? StripType(group["Final-Recipient"]);
        return new Recipient(string.IsNullOrEmpty(action) ? null : action, status, address?.Trim('<', '>'), diagnostic);
    }

    static Verdict FromText(MimeMessage message, string signal)
    {
        var text = NotificationText(message);
        // DSN fields pasted as text (broken MIME) first, then the first failure status or SMTP reply code.
        var status = StatusField().Match(text) is { Success: true } field ? field.Groups[1] : FailureStatus().Match(text);
        var code = ReplyCode().Match(text);
        Capture? evidence = status.Success ? status : code.Success ? code : null;

        // Without a status or reply code, trust the wording: a notice that says "delayed" is not final.
        var isHard = evidence is not null ? evidence.Value.StartsWith('5') : !DelayWording().IsMatch(message.Subject ?? "");
        var recipient = Address().Match(text);
        var diagnostic = evidence is null ? null : LineAround(text, evidence.Index);

        var info = new BounceInfo(isHard, status.Success ? status.Value : null, recipient.Success ? recipient.Value : null, null, diagnostic);
        var found = status.Success ? $" status={status.Value}" : code.Success ? $" code={code.Value}" : "";
        return new Verdict(info, $"bounce {signal}{found}", ReturnedMessageIds(message));
    }

    static string? BounceSignal(MimeMessage message)
    {
        var from = message.From.Mailboxes.FirstOrDefault();
        if (from is not null && BounceSender().IsMatch(from.LocalPart ?? ""))
            return "from=" + from.LocalPart!.ToLowerInvariant();
        // A prospect's "Re: package not delivered" is a reply; notices do not carry a reply prefix.
        var subject = message.Subject ?? "";
        return BounceSubject().IsMatch(subject) && !InboundClassifier.IsReplySubject(subject) ? "subject" : null;
    }

    /// <summary>The human-readable notice, without the returned original that many MTAs paste below it.</summary>
    static string NotificationText(MimeMessage message)
    {
        // A multipart whose boundary does not match its parts leaves the whole notice in the preamble.
        var texts = message.BodyParts.OfType<TextPart>()
            .Select(p => p.IsHtml ? HtmlText.ToPlainText(p.Text) : p.Text)
            .Prepend((message.Body as Multipart)?.Preamble ?? "");
        var text = new StringBuilder();
        foreach (var line in texts.SelectMany(t => t.ReplaceLineEndings("\n").Split('\n').TakeWhile(l => !OriginalMessageMarker().IsMatch(l))))
            text.Append(line).Append('\n');
        return text.ToString();
    }

    /// <summary>The Message-ID of the returned original, then the ids it referred to, without angle brackets.</summary>
    static List<string> ReturnedMessageIds(MimeMessage message)
    {
        // text/rfc822-headers is a MessagePart too: MimeKit parses it as a message without a body.
        var original = message.BodyParts.OfType<MessagePart>().Select(p => p.Message).FirstOrDefault(m => m?.MessageId is not null);
        if (original is { MessageId: { } id })
            return [id, .. InboundClassifier.ReplyReferences(original).Where(r => r != id)];

        // Some MTAs paste the original into the text of the notice.
        var inline = message.BodyParts.OfType<TextPart>()
            .Select(p => InlineMessageId().Match(p.Text))
            .FirstOrDefault(m => m.Success);
        return inline is null ? [] : [inline.Groups[1].Value];
    }

    static string? FirstMatch(Regex regex, string? value) =>
        value is not null && regex.Match(value) is { Success: true } match ? match.Value : null;

    static string? StripType(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            return null;
        var semicolon = value.IndexOf(';', StringComparison.Ordinal);
        var stripped = (semicolon >= 0 ? value[(semicolon + 1)..] : value).Trim();
        return stripped.Length == 0 ? null : stripped;
    }

    static string LineAround(string text, int index)
    {
        var start = text.LastIndexOf('\n', Math.Max(0, index - 1)) + 1;
        var end = text.IndexOf('\n', index);
        return text[start..(end < 0 ? text.Length : end)].Trim();
    }

    static string Token(string? value) => value is not null && LogSafeToken().IsMatch(value) ? value : "none";

    // The second digit of an enhanced status is a subject class 0-7 (RFC 3463); this skips versions like 4.92.3.
    [GeneratedRegex(@"(?<![\d.])[245]\.[0-7]\.\d{1,3}(?![\d.])")]
    private static partial Regex EnhancedStatus();

    // In free text only failures count: transcripts are full of "250 2.0.0 Ok".
    [GeneratedRegex(@"(?<![\d.])[45]\.[0-7]\.\d{1,3}(?![\d.])")]
    private static partial Regex FailureStatus();

    [GeneratedRegex(@"^\s*Status:\s*([245]\.[0-7]\.\d{1,3})\b", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex StatusField();

    [GeneratedRegex(@"(?<![\w.:/-])[45]\d\d(?=[ -][45]\.\d|[ -]?[A-Za-z<#(])")]
    private static partial Regex ReplyCode();

    [GeneratedRegex(@"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")]
    private static partial Regex Address();

    [GeneratedRegex(@"^(?:mailer-?daemon|mail-daemon|post_?master)$", RegexOptions.IgnoreCase)]
    private static partial Regex BounceSender();

    [GeneratedRegex(@"undeliver|returned mail|returning message|mail delivery failed|delivery status notification|"
        + @"delivery (?:failure|failed|has failed|notification)|failure notice|failed delivery|failure delivery|"
        + @"could not be delivered|mail system error|mail failure|message delayed|delayed mail|non-?delivery|"
        + @"returned to sender|not delivered", RegexOptions.IgnoreCase)]
    private static partial Regex BounceSubject();

    [GeneratedRegex(@"delay|deferred|warning|retry|retried", RegexOptions.IgnoreCase)]
    private static partial Regex DelayWording();

    [GeneratedRegex(@"^\s*-{2,}.*(?:original message|copy of the message|below this line|returned message|message header|"
        + @"headers? follow|unsent message|original mail)|^(?:Return-Path|Received):",
        RegexOptions.IgnoreCase)]
    private static partial Regex OriginalMessageMarker();

    [GeneratedRegex(@"^\s*Message-ID:\s*<([^<>\s]+)>", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex InlineMessageId();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"^[a-z-]{1,20}$")]
    private static partial Regex LogSafeToken();
}
