using Prospector.Email.Connections;

namespace Prospector.Email.Imap;

/// <summary>A mailbox could not be read. The message is safe to log (no addresses, no credentials);
/// the caller retries the whole sync later.</summary>
public sealed class MailboxSyncException : Exception
{
    /// <summary>Creates the exception for a failure at <paramref name="step"/>.</summary>
    public MailboxSyncException(MailConnectionStep step, string message, Exception? innerException)
        : base(message, innerException)
    {
        Step = step;
    }

    /// <summary>Creates the exception with a message only.</summary>
    public MailboxSyncException()
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    public MailboxSyncException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public MailboxSyncException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The step that failed.</summary>
    public MailConnectionStep Step { get; }
}
