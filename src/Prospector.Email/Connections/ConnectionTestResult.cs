namespace Prospector.Email.Connections;

/// <summary>Outcome of a mailbox connection test. <see cref="Message"/> is safe to log and show to the user.</summary>
public sealed record ConnectionTestResult(bool Succeeded, MailConnectionStep? FailedStep, string Message)
{
    internal static ConnectionTestResult Success(string message) => new(true, null, message);

    internal static ConnectionTestResult Failure(MailConnectionStep step, string message) => new(false, step, message);
}
