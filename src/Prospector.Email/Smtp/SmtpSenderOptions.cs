namespace Prospector.Email.Smtp;

/// <summary>How <see cref="SmtpEmailSender"/> opens its connections (the server fills it from its EmailOptions).</summary>
public sealed class SmtpSenderOptions
{
    /// <summary>
    /// TCP_NODELAY on SMTP sockets (default on). MailKit writes in 4 KB chunks; with Nagle on, the last partial chunk
    /// of a message over ~4 KB waits for the peer's delayed ACK (~40 ms per message). Off only to measure that cost.
    /// </summary>
    public bool NoDelay { get; set; } = true;
}
