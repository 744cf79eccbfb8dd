using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using Prospector.Core.Email;
using Prospector.Email.Connections;

namespace Prospector.Email.Smtp;

/// <summary>
/// Sends over MailKit with one pooled, authenticated SMTP connection per endpoint (host, port, security, username).
/// A connection carries one transaction at a time; sends to the same endpoint queue on its gate.
/// </summary>
public sealed partial class SmtpEmailSender : IEmailSender, IAsyncDisposable, IDisposable
{
    // Servers drop idle sessions (Postfix after 300 s); after this long unused, a connection is probed with NOOP.
    private static readonly TimeSpan IdleCheckAfter = TimeSpan.FromSeconds(60);

    // Connections unused this long are closed, so endpoints no longer sending do not hold sockets forever.
    private static readonly TimeSpan CloseIdleAfter = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<ConnectionKey, PooledConnection> _connections = new();
    private readonly TimeProvider _timeProvider;
    private readonly bool _noDelay;
    private long _connectionsOpened;
    private long _lastSweep;
    private int _disposed;

    /// <summary>Creates a sender on the system clock.</summary>
    public SmtpEmailSender()
        : this(TimeProvider.System)
    {
    }

    /// <summary>Creates a sender whose Date headers and idle checks use <paramref name="timeProvider"/>.</summary>
    public SmtpEmailSender(TimeProvider timeProvider)
        : this(timeProvider, Options.Create(new SmtpSenderOptions()))
    {
    }

    /// <summary>Creates a sender on <paramref name="timeProvider"/> that opens its sockets as <paramref name="options"/> say.</summary>
    public SmtpEmailSender(TimeProvider timeProvider, IOptions<SmtpSenderOptions> options)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(options);
        _timeProvider = timeProvider;
        _noDelay = options.Value.NoDelay;
        _lastSweep = timeProvider.GetTimestamp();
    }

    /// <summary>TCP_NODELAY as read back from the socket of the pooled connection to <paramref name="endpoint"/>; null when none is open.</summary>
    internal bool? PooledSocketNoDelay(SmtpEndpoint endpoint)
        => _connections.TryGetValue(ConnectionKey.Of(endpoint), out var connection) && connection.Client is { IsConnected: true }
            ? connection.Socket?.NoDelay
            : null;

    /// <summary>SMTP sessions established so far (connect + greeting + EHLO succeeded).</summary>
    internal long ConnectionsOpened => Interlocked.Read(ref _connectionsOpened);

    internal TimeSpan ConnectTimeout { get; init; } = MailConnector.DefaultConnectTimeout;

    /// <summary>How long to wait for any one server reply (MailKit's default is 2 minutes).</summary>
    internal TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(SmtpEndpoint endpoint, OutgoingEmail email, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(email);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();

        if (!OutgoingMessageBuilder.TryBuild(email, _timeProvider.GetUtcNow(), out var built, out var error))
        {
            return new SendResult(SendOutcome.Rejected, $"refused before sending: {error}");
        }

        CloseIdleConnections();
        var connection = _connections.GetOrAdd(ConnectionKey.Of(endpoint), static _ => new PooledConnection());
        await connection.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return new SendResult(SendOutcome.Transient, "sender is shutting down; nothing was sent");
            }

            return await SendOnConnectionAsync(connection, endpoint, built!, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            connection.Gate.Release();
        }
    }

    private async Task<SendResult> SendOnConnectionAsync(
        PooledConnection connection, SmtpEndpoint endpoint, BuiltMessage built, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var progress = new SendProgress();
            var reused = false;
            try
            {
                SmtpClient client;
                (client, reused) = await GetClientAsync(connection, endpoint, progress, cancellationToken).ConfigureAwait(false);
                progress.Stage = SendStage.Envelope;
                await client.SendAsync(FormatOptions.Default, built.Message, built.Sender, [built.Recipient], cancellationToken, progress)
                    .ConfigureAwait(false);
                connection.LastUsed = _timeProvider.GetTimestamp();
                return new SendResult(SendOutcome.Sent, "accepted after DATA", 250);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The session is mid-transaction in an unknown state; never reuse it.
                connection.Close();
                throw;
            }
            catch (Exception ex)
            {
                // A command rejection leaves the session usable (MailKit sends RSET); anything else does not.
                if (ex is SmtpCommandException command && command.StatusCode != SmtpStatusCode.ServiceNotAvailable
                    && connection.Client is { IsConnected: true })
                {
                    connection.LastUsed = _timeProvider.GetTimestamp();
                }
                else
                {
                    connection.Close();
                }

                // A pooled session the server had already dropped fails at MAIL FROM; nothing was accepted, so one
                // retry on a fresh connection is safe.
                if (reused && attempt == 1 && progress.Stage == SendStage.Envelope && IsTransportFailure(ex))
                {
                    continue;
                }

                return Classify(ex, progress.Stage);
            }
        }
    }

    private async Task<(SmtpClient Client, bool Reused)> GetClientAsync(
        PooledConnection connection, SmtpEndpoint endpoint, SendProgress progress, CancellationToken cancellationToken)
    {
        if (connection.Client is { IsConnected: true } pooled && string.Equals(connection.Password, endpoint.Password, StringComparison.Ordinal))
        {
            if (_timeProvider.GetElapsedTime(connection.LastUsed) < IdleCheckAfter)
            {
                return (pooled, true);
            }

            try
            {
                await pooled.NoOpAsync(cancellationToken).ConfigureAwait(false);
                connection.LastUsed = _timeProvider.GetTimestamp();
                return (pooled, true);
            }
            catch (Exception ex) when (IsTransportFailure(ex) || ex is SmtpCommandException)
            {
                // Dead or unhappy session: reconnect below.
            }
        }

        connection.Close();
        progress.Stage = SendStage.Connect;
        var client = new SmtpClient { Timeout = (int)CommandTimeout.TotalMilliseconds };
        try
        {
            connection.Socket = await MailConnector.ConnectAsync(client, endpoint.Host, endpoint.Port, endpoint.Security, ConnectTimeout, _noDelay, cancellationToken)
                .ConfigureAwait(false);
            Interlocked.Increment(ref _connectionsOpened);
            if (endpoint.Username is not null)
            {
                progress.Stage = SendStage.Auth;
                await client.AuthenticateAsync(endpoint.Username, endpoint.Password ?? string.Empty, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            client.Dispose();
            throw;
        }

        connection.Client = client;
        connection.Password = endpoint.Password;
        connection.LastUsed = _timeProvider.GetTimestamp();
        return (client, false);
    }

    private static bool IsTransportFailure(Exception ex)
        => ex is IOException or SmtpProtocolException or ServiceNotConnectedException or SocketException or TimeoutException;

    internal static SendResult Classify(Exception ex, SendStage stage)
    {
        switch (ex)
        {
            case SmtpCommandException command:
                return FromCommand(command, stage);
            case AuthenticationException { InnerException: SmtpCommandException refused } when (int)refused.StatusCode is >= 400 and < 500:
                // MailKit wraps the AUTH reply: a 4xx (454 temporary authentication failure) is worth retrying.
                return FromCommand(refused, SendStage.Auth);
            case AuthenticationException { InnerException: SmtpCommandException refused }:
                var answered = FromCommand(refused, SendStage.Auth);
                return new SendResult(SendOutcome.Rejected, $"authentication failed: the server rejected the credentials ({answered.Detail})", answered.SmtpStatusCode);
            case AuthenticationException:
                return new SendResult(SendOutcome.Rejected, "authentication failed: the server rejected the credentials");
            case ServiceNotAuthenticatedException:
                return new SendResult(SendOutcome.Rejected, "authentication required by the server but not configured", 530);
            case NotSupportedException when stage == SendStage.Auth:
                return new SendResult(SendOutcome.Rejected, "authentication failed: the server offers no usable mechanism");
        }

        if (stage == SendStage.Body)
        {
            // The body (and perhaps the final ".") went out but no reply came: the server may have queued it.
            return new SendResult(SendOutcome.Unknown, $"{Kind(ex)} after DATA, before the server confirmed the message");
        }

        if (stage == SendStage.Connect)
        {
            var step = MailConnector.StepOf(ex, MailConnectionStep.Connect);
            return new SendResult(SendOutcome.Transient, $"{step.ToString().ToLowerInvariant()} failed: {MailConnector.Describe(ex, step)}");
        }

        return new SendResult(SendOutcome.Transient, $"{Kind(ex)} at {stage.ToString().ToLowerInvariant()}, before DATA; nothing was accepted");
    }

    private static SendResult FromCommand(SmtpCommandException command, SendStage stage)
    {
        var code = (int)command.StatusCode;
        var where = command.ErrorCode switch
        {
            SmtpErrorCode.RecipientNotAccepted => "RCPT TO",
            SmtpErrorCode.SenderNotAccepted => "MAIL FROM",
            SmtpErrorCode.MessageNotAccepted => stage == SendStage.Body ? "end of DATA" : "DATA",
            // MAIL and RCPT have their own codes; before the body, the only other command of a send is DATA (MailKit
            // reports a refused DATA as an unexpected status code).
            SmtpErrorCode.UnexpectedStatusCode when stage == SendStage.Envelope => "DATA",
            _ => stage switch
            {
                SendStage.Connect => "connect",
                SendStage.Auth => "AUTH",
                _ => "SMTP command",
            },
        };

        // Only the status codes go into the detail: server text often echoes the addresses.
        var enhanced = EnhancedStatusCode().Match(command.Message);
        var detail = enhanced.Success ? $"{where} answered {code} {enhanced.Groups[1].Value}" : $"{where} answered {code}";
        var outcome = code switch
        {
            >= 400 and < 500 => SendOutcome.Transient,
            >= 500 and < 600 when command.ErrorCode == SmtpErrorCode.RecipientNotAccepted => SendOutcome.RecipientRejected,
            >= 500 and < 600 => SendOutcome.Rejected,
            _ => stage == SendStage.Body ? SendOutcome.Unknown : SendOutcome.Transient,
        };
        return new SendResult(outcome, detail, code);
    }

    private static string Kind(Exception ex) => ex switch
    {
        TimeoutException => "timeout",
        SmtpProtocolException => "protocol error",
        ServiceNotConnectedException => "not connected",
        IOException or SocketException => "connection lost",
        _ => $"unexpected {ex.GetType().Name}",
    };

    [GeneratedRegex(@"^\s*([245]\.\d{1,3}\.\d{1,3})(?:\s|$)", RegexOptions.CultureInvariant)]
    private static partial Regex EnhancedStatusCode();

    private void CloseIdleConnections()
    {
        var now = _timeProvider.GetTimestamp();
        var last = Interlocked.Read(ref _lastSweep);
        if (_timeProvider.GetElapsedTime(last, now) < IdleCheckAfter || Interlocked.CompareExchange(ref _lastSweep, now, last) != last)
        {
            return;
        }

        foreach (var connection in _connections.Values)
        {
            if (connection.Client is not null && connection.Gate.Wait(0))
            {
                try
                {
                    if (_timeProvider.GetElapsedTime(connection.LastUsed, now) > CloseIdleAfter)
                    {
                        connection.Close();
                    }
                }
                finally
                {
                    connection.Gate.Release();
                }
            }
        }
    }

    /// <summary>Says QUIT on every pooled connection and closes it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var connection in _connections.Values)
        {
            // A send still in flight gets a short grace period; after that its connection is closed under it.
            var entered = await connection.Gate.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            try
            {
                if (entered && connection.Client is { IsConnected: true } client)
                {
                    using var quitTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    try
                    {
                        await client.DisconnectAsync(true, quitTimeout.Token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (IsTransportFailure(ex) || ex is OperationCanceledException)
                    {
                        // Closing anyway.
                    }
                }
            }
            finally
            {
                connection.Close();
                if (entered)
                {
                    connection.Gate.Release();
                }
            }
        }
    }

    /// <summary>Closes every pooled connection without QUIT.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var connection in _connections.Values)
        {
            connection.Close();
        }
    }

    internal enum SendStage
    {
        Connect,
        Auth,
        Envelope,
        Body,
    }

    /// <summary>
    /// Tells which side of DATA a failure happened on. MailKit 4.18 has no hook between the 354 reply and the body
    /// (its OnXxx overrides cover MAIL FROM and RCPT TO only), but it reports transfer progress only while writing
    /// the message body: after DATA got its 354 (or with BDAT, once the chunk is on its way). It always reports at
    /// least once before it writes the final ".", so "progress seen" is a safe marker for "may have been delivered".
    /// </summary>
    private sealed class SendProgress : ITransferProgress
    {
        public SendStage Stage { get; set; }

        public void Report(long bytesTransferred, long totalSize) => Stage = SendStage.Body;

        public void Report(long bytesTransferred) => Stage = SendStage.Body;
    }

    private readonly record struct ConnectionKey(string Host, int Port, TransportSecurity Security, string? Username)
    {
        public static ConnectionKey Of(SmtpEndpoint endpoint)
            => new(endpoint.Host.ToLowerInvariant(), endpoint.Port, endpoint.Security, endpoint.Username);
    }

    private sealed class PooledConnection
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public SmtpClient? Client { get; set; }

        public string? Password { get; set; }

        /// <summary>The socket under <see cref="Client"/> (owned and closed by it).</summary>
        public Socket? Socket { get; set; }

        public long LastUsed { get; set; }

        public void Close()
        {
            Client?.Dispose();
            Client = null;
            Socket = null;
        }
    }
}
