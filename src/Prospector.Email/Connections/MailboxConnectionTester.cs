using MailKit.Net.Imap;
using MailKit.Net.Smtp;
using Prospector.Core.Email;

namespace Prospector.Email.Connections;

/// <summary>Checks that a mailbox's SMTP and IMAP settings work, step by step, before it is used.</summary>
public sealed class MailboxConnectionTester
{
    internal TimeSpan ConnectTimeout { get; init; } = MailConnector.DefaultConnectTimeout;

    /// <summary>Connects (greeting, EHLO, TLS as configured) and authenticates when a username is set.</summary>
    public async Task<ConnectionTestResult> TestSmtpAsync(SmtpEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        using var client = new SmtpClient();
        var step = MailConnectionStep.Connect;
        try
        {
            await MailConnector.ConnectAsync(client, endpoint.Host, endpoint.Port, endpoint.Security, ConnectTimeout, cancellationToken)
                .ConfigureAwait(false);
            if (endpoint.Username is not null)
            {
                step = MailConnectionStep.Auth;
                await client.AuthenticateAsync(endpoint.Username, endpoint.Password ?? string.Empty, cancellationToken).ConfigureAwait(false);
            }

            await client.DisconnectAsync(true, cancellationToken).ConfigureAwait(false);
            return ConnectionTestResult.Success(endpoint.Username is null ? "SMTP connected" : "SMTP connected and authenticated");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Fail("SMTP", step, ex);
        }
    }

    /// <summary>Connects, logs in and opens the folder read-only.</summary>
    public async Task<ConnectionTestResult> TestImapAsync(ImapEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        using var client = new ImapClient();
        var step = new StepTracker();
        try
        {
            await ImapFolders.OpenAsync(client, endpoint, ConnectTimeout, step, cancellationToken).ConfigureAwait(false);
            await client.DisconnectAsync(true, cancellationToken).ConfigureAwait(false);
            return ConnectionTestResult.Success("IMAP connected, authenticated and folder opened");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Fail("IMAP", step.Current, ex);
        }
    }

    private static ConnectionTestResult Fail(string protocol, MailConnectionStep step, Exception exception)
    {
        var failedStep = MailConnector.StepOf(exception, step);
        return ConnectionTestResult.Failure(failedStep, $"{protocol} {failedStep.ToString().ToLowerInvariant()} failed: {MailConnector.Describe(exception, failedStep)}");
    }
}
