using MimeKit;
using Prospector.Core.Email;

namespace Prospector.Email.Smtp;

/// <summary>A MIME message plus the SMTP envelope it goes out with.</summary>
internal sealed record BuiltMessage(MimeMessage Message, MailboxAddress Sender, MailboxAddress Recipient);

/// <summary>
/// Turns an <see cref="OutgoingEmail"/> into a <see cref="MimeMessage"/>, refusing anything that could inject
/// headers or SMTP parameters. Errors are log-safe: they name the field, never its value.
/// </summary>
internal static class OutgoingMessageBuilder
{
    // Headers the builder owns; letting the template set them would duplicate or override them
    // (and Bcc/Resent-* would change who MailKit thinks the recipients are).
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "From", "To", "Cc", "Bcc", "Sender", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Return-Path", "Received",
    };

    internal static bool TryBuild(OutgoingEmail email, DateTimeOffset date, out BuiltMessage? built, out string? error)
    {
        built = null;
        error = Validate(email);
        if (error is not null)
        {
            return false;
        }

        try
        {
            return TryBuildValidated(email, date, out built, out error);
        }
        catch (Exception ex) when (ex is ParseException or ArgumentException)
        {
            error = "an address or message id could not be parsed";
            return false;
        }
    }

    private static bool TryBuildValidated(OutgoingEmail email, DateTimeOffset date, out BuiltMessage? built, out string? error)
    {
        built = null;
        error = null;
        var sender = new MailboxAddress(email.FromName, email.FromAddress);
        var recipient = new MailboxAddress(email.ToName, email.ToAddress);
        var message = new MimeMessage();
        message.From.Add(sender);
        message.To.Add(recipient);
        message.Subject = email.Subject;
        message.Date = date;

        // MimeKit parses ids it is given; read them back so that what goes out is exactly what the caller stored.
        message.MessageId = email.MessageId;
        if (message.MessageId != email.MessageId)
        {
            error = "Message-ID is not a valid msg-id";
            return false;
        }

        if (email.InReplyTo is not null)
        {
            message.InReplyTo = email.InReplyTo;
            if (message.InReplyTo != email.InReplyTo)
            {
                error = "In-Reply-To is not a valid msg-id";
                return false;
            }
        }

        foreach (var reference in email.References)
        {
            message.References.Add(reference);
        }

        if (!message.References.SequenceEqual(email.References, StringComparer.Ordinal))
        {
            error = "References contains an invalid msg-id";
            return false;
        }

        foreach (var (name, value) in email.Headers)
        {
            message.Headers.Add(name, value);
        }

        var body = new BodyBuilder { TextBody = email.TextBody, HtmlBody = email.HtmlBody };
        message.Body = body.ToMessageBody();
        built = new BuiltMessage(message, sender, recipient);
        return true;
    }

    private static string? Validate(OutgoingEmail email)
    {
        if (!IsPlainAddress(email.FromAddress))
        {
            return "From address is not a plain addr-spec";
        }

        if (!IsPlainAddress(email.ToAddress))
        {
            return "To address is not a plain addr-spec";
        }

        if (HasLineBreakOrNul(email.FromName) || HasLineBreakOrNul(email.ToName))
        {
            return "a display name contains CR, LF or NUL";
        }

        if (HasLineBreakOrNul(email.Subject))
        {
            return "Subject contains CR, LF or NUL";
        }

        if (!IsPlainMessageId(email.MessageId))
        {
            return "Message-ID is not a valid msg-id";
        }

        if (email.InReplyTo is not null && !IsPlainMessageId(email.InReplyTo))
        {
            return "In-Reply-To is not a valid msg-id";
        }

        if (email.References.Any(r => !IsPlainMessageId(r)))
        {
            return "References contains an invalid msg-id";
        }

        foreach (var (name, value) in email.Headers)
        {
            if (HasLineBreakOrNul(name) || HasLineBreakOrNul(value))
            {
                return "a header name or value contains CR, LF or NUL";
            }

            if (!IsFieldName(name))
            {
                return "a header name is not a valid field name";
            }

            if (ReservedHeaders.Contains(name) || name.StartsWith("Resent-", StringComparison.OrdinalIgnoreCase))
            {
                // The name is a validated token, so it is safe to log.
                return $"header {name} is set by the sender and cannot be overridden";
            }
        }

        return null;
    }

    private static bool HasLineBreakOrNul(string? value) => value is not null && value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0;

    // RFC 5322 field-name: printable US-ASCII except colon.
    private static bool IsFieldName(string name) => name.Length > 0 && name.All(c => c is > ' ' and < '\u007f' and not ':');

    // An addr-spec with no room for SMTP parameter injection (no spaces, brackets or controls).
    private static bool IsPlainAddress(string address)
    {
        if (string.IsNullOrEmpty(address) || address.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '<' or '>' or ',' or ';' or '"'))
        {
            return false;
        }

        var at = address.LastIndexOf('@');
        return at > 0 && at < address.Length - 1;
    }

    // Message ids travel without angle brackets (see OutgoingEmail).
    private static bool IsPlainMessageId(string id)
        => id.Length > 0 && id.Contains('@', StringComparison.Ordinal)
           && id.All(c => c is > ' ' and < '\u007f' and not '<' and not '>');
}
