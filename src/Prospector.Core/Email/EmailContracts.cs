namespace Prospector.Core.Email;

/// <summary>How a connection to a mail server is secured.</summary>
public enum TransportSecurity
{
    /// <summary>Plain text (loopback and tests only).</summary>
    None,
    /// <summary>Plain connection upgraded with STARTTLS; refuses servers that do not offer it.</summary>
    StartTls,
    /// <summary>TLS from the first byte (SMTPS 465, IMAPS 993).</summary>
    SslOnConnect,
}

/// <summary>Where and how to submit mail for one mailbox.</summary>
public sealed record SmtpEndpoint(string Host, int Port, TransportSecurity Security, string? Username, string? Password)
{
    /// <summary>Never print the password.</summary>
    public override string ToString() => $"smtp://{Username}@{Host}:{Port} ({Security})";
}

/// <summary>Where and how to read one mailbox.</summary>
public sealed record ImapEndpoint(string Host, int Port, TransportSecurity Security, string Username, string Password, string Folder = "INBOX")
{
    /// <summary>Never print the password.</summary>
    public override string ToString() => $"imap://{Username}@{Host}:{Port}/{Folder} ({Security})";
}

/// <summary>A fully rendered email, ready for SMTP. Message ids are given without angle brackets.</summary>
public sealed record OutgoingEmail(
    string MessageId,
    string FromName,
    string FromAddress,
    string ToName,
    string ToAddress,
    string Subject,
    string TextBody,
    string? HtmlBody,
    string? InReplyTo,
    IReadOnlyList<string> References,
    IReadOnlyDictionary<string, string> Headers);

/// <summary>What the SMTP server said about one message, mapped to what the engine must do next.</summary>
public enum SendOutcome
{
    /// <summary>250 after the final ".": the server took responsibility for the message.</summary>
    Sent,
    /// <summary>Nothing was accepted (connect failure, 4xx before or at DATA): safe to retry later.</summary>
    Transient,
    /// <summary>5xx at RCPT TO: the address does not exist; a hard bounce.</summary>
    RecipientRejected,
    /// <summary>5xx at MAIL FROM or DATA, or a permanent authentication failure: do not retry this message.</summary>
    Rejected,
    /// <summary>Connection lost or timed out after the message body was sent: it may have been delivered. Never resend automatically.</summary>
    Unknown,
}

/// <summary>The result of one send attempt. <paramref name="Detail"/> is safe to log (no addresses, no body).</summary>
public sealed record SendResult(SendOutcome Outcome, string? Detail = null, int? SmtpStatusCode = null);

/// <summary>Submits rendered emails over SMTP. Implementations classify every failure into a <see cref="SendOutcome"/>
/// instead of throwing, except for cancellation.</summary>
public interface IEmailSender
{
    /// <summary>Sends one message through the given endpoint.</summary>
    Task<SendResult> SendAsync(SmtpEndpoint endpoint, OutgoingEmail email, CancellationToken cancellationToken);
}
