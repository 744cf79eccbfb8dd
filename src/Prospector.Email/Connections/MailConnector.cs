using System.Net.Sockets;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Smtp;
using MailKit.Security;
using Prospector.Core.Email;

namespace Prospector.Email.Connections;

/// <summary>Opens SMTP and IMAP connections the same way everywhere: our own socket with Nagle off.</summary>
internal static class MailConnector
{
    /// <summary>How long the TCP connect may take before we call the server unreachable.</summary>
    internal static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(15);

    internal static SecureSocketOptions ToSocketOptions(TransportSecurity security) => security switch
    {
        TransportSecurity.None => SecureSocketOptions.None,
        TransportSecurity.StartTls => SecureSocketOptions.StartTls,
        TransportSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        _ => throw new ArgumentOutOfRangeException(nameof(security), security, "Unknown transport security."),
    };

    /// <summary>
    /// Connects <paramref name="client"/> (greeting, EHLO/CAPABILITY, TLS as configured) over a socket we create.
    /// MailKit writes in 4 KB chunks; with Nagle on, the last partial chunk of a message waits for the peer's
    /// delayed ACK (~40 ms per message over ~4 KB), so the socket gets NoDelay before MailKit sees it.
    /// </summary>
    internal static async Task ConnectAsync(
        MailService client, string host, int port, TransportSecurity security, TimeSpan connectTimeout, CancellationToken cancellationToken)
        => await ConnectAsync(client, host, port, security, connectTimeout, noDelay: true, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// As above with TCP_NODELAY set to <paramref name="noDelay"/> (off only to measure what Nagle costs). Returns the
    /// socket, which <paramref name="client"/> now owns (disposing the client closes it), so callers can inspect it.
    /// </summary>
    internal static async Task<Socket> ConnectAsync(
        MailService client, string host, int port, TransportSecurity security, TimeSpan connectTimeout, bool noDelay,
        CancellationToken cancellationToken)
    {
        var socket = await OpenSocketAsync(host, port, connectTimeout, noDelay, cancellationToken).ConfigureAwait(false);
        try
        {
            await client.ConnectAsync(socket, host, port, ToSocketOptions(security), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<Socket> OpenSocketAsync(string host, int port, TimeSpan timeout, bool noDelay, CancellationToken cancellationToken)
    {
        // Dual-mode socket: reaches IPv4 and IPv6 addresses that the host name resolves to.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(host, port, timeoutSource.Token).ConfigureAwait(false);
            socket.NoDelay = noDelay;
            return socket;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"TCP connect did not complete within {timeout.TotalSeconds:0.#} s.");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Refines the step a connection attempt failed at from the exception type (TLS and auth errors are
    /// raised from inside the connect and authenticate calls).</summary>
    internal static MailConnectionStep StepOf(Exception exception, MailConnectionStep current) => exception switch
    {
        SslHandshakeException => MailConnectionStep.Tls,
        AuthenticationException => MailConnectionStep.Auth,
        // MailKit raises NotSupportedException from Connect when STARTTLS is required but not offered.
        NotSupportedException when current == MailConnectionStep.Connect => MailConnectionStep.Tls,
        _ => current,
    };

    /// <summary>A log-safe description of a connection failure: exception types and codes, never server text
    /// (which may echo addresses) and never credentials.</summary>
    internal static string Describe(Exception exception, MailConnectionStep step) => (step, exception) switch
    {
        (_, SocketException socket) => $"could not connect ({socket.SocketErrorCode})",
        (_, TimeoutException) when step == MailConnectionStep.Connect => "connect timed out",
        (_, TimeoutException) => "the server did not answer in time",
        (_, SslHandshakeException) => "TLS handshake failed (certificate or protocol mismatch)",
        (MailConnectionStep.Tls, NotSupportedException) => "the server does not offer STARTTLS",
        (_, AuthenticationException) => "authentication failed: the server rejected the credentials",
        (MailConnectionStep.Auth, NotSupportedException) => "the server offers no usable authentication mechanism",
        (_, FolderNotFoundException) => "the folder does not exist",
        (_, ImapCommandException imap) => $"the IMAP server answered {imap.Response}",
        (_, SmtpCommandException smtp) => $"the SMTP server answered {(int)smtp.StatusCode}",
        (_, ImapProtocolException) => "IMAP protocol error (unexpected response or connection dropped)",
        (_, SmtpProtocolException) => "SMTP protocol error (unexpected response or connection dropped)",
        (_, IOException) => "connection lost",
        _ => $"unexpected {exception.GetType().Name}",
    };
}
