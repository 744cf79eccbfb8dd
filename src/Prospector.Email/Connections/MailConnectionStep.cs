namespace Prospector.Email.Connections;

/// <summary>The step of talking to a mail server at which something failed.</summary>
public enum MailConnectionStep
{
    /// <summary>TCP connect or the server's greeting.</summary>
    Connect,
    /// <summary>TLS (implicit or STARTTLS).</summary>
    Tls,
    /// <summary>SMTP AUTH or IMAP LOGIN/AUTHENTICATE.</summary>
    Auth,
    /// <summary>Opening the IMAP folder.</summary>
    Select,
    /// <summary>Searching or fetching messages in an open IMAP folder.</summary>
    Fetch,
}
