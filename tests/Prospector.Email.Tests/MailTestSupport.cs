using System.Net;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using MimeKit;
using Prospector.Core.Email;
using Prospector.Testing;

namespace Prospector.Email.Tests;

/// <summary>Endpoints of the local Postfix/Dovecot, test emails, and a direct MailKit probe of a user's inbox.</summary>
internal static class MailTestSupport
{
    public static readonly TimeSpan ArrivalTimeout = TimeSpan.FromSeconds(20);

    public static SmtpEndpoint Smtp()
    {
        var (host, port) = TestServices.Smtp;
        return new SmtpEndpoint(host, port, TransportSecurity.None, null, null);
    }

    public static ImapEndpoint Imap(int user, string? password = null, string folder = "INBOX")
    {
        var (host, port) = TestServices.Imap;
        return new ImapEndpoint(host, port, TransportSecurity.None, TestServices.MailUser(user), password ?? TestServices.MailPassword, folder);
    }

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static string NewMessageId() => $"{Guid.NewGuid():N}@prospector.test";

    public static string Tag() => Guid.NewGuid().ToString("N")[..12];

    public static OutgoingEmail Email(
        int fromUser,
        string to,
        string? subject = null,
        string? html = null,
        string? inReplyTo = null,
        IReadOnlyList<string>? references = null,
        IReadOnlyDictionary<string, string>? headers = null,
        string? text = null)
        => new(
            NewMessageId(),
            "Sam Sender",
            TestServices.MailUser(fromUser),
            "Pat Prospect",
            to,
            subject ?? $"Hello {Tag()}",
            text ?? "Plain body line 1\r\nline 2",
            html,
            inReplyTo,
            references ?? [],
            headers ?? new Dictionary<string, string>());

    /// <summary>Waits until a message with <paramref name="messageId"/> is in the user's INBOX and returns it.</summary>
    public static async Task<MimeMessage> WaitForMessageAsync(int user, string messageId, TimeSpan? timeout = null)
        => await FindMessageAsync(user, messageId, timeout ?? ArrivalTimeout)
           ?? throw new TimeoutException($"Message {messageId} did not arrive in user{user:00}'s INBOX.");

    /// <summary>The message with <paramref name="messageId"/>, or null when it has not arrived within <paramref name="timeout"/>.</summary>
    public static async Task<MimeMessage?> FindMessageAsync(int user, string messageId, TimeSpan timeout)
    {
        using var client = await ConnectAsync(user);
        var inbox = client.Inbox;
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await inbox.OpenAsync(FolderAccess.ReadOnly);
            var uids = await inbox.SearchAsync(SearchQuery.HeaderContains("Message-ID", messageId));
            if (uids.Count > 0)
            {
                return await inbox.GetMessageAsync(uids[^1]);
            }

            if (DateTime.UtcNow > deadline)
            {
                return null;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The flags of the message with <paramref name="messageId"/> in the user's INBOX.</summary>
    public static async Task<MessageFlags?> FlagsOfAsync(int user, string messageId)
    {
        using var client = await ConnectAsync(user);
        var inbox = client.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadOnly);
        var uids = await inbox.SearchAsync(SearchQuery.HeaderContains("Message-ID", messageId));
        if (uids.Count == 0)
        {
            return null;
        }

        var summaries = await inbox.FetchAsync(uids, MessageSummaryItems.Flags);
        return summaries[0].Flags;
    }

    private static async Task<ImapClient> ConnectAsync(int user)
    {
        var (host, port) = TestServices.Imap;
        var client = new ImapClient();
        await client.ConnectAsync(host, port, SecureSocketOptions.None);
        await client.AuthenticateAsync(TestServices.MailUser(user), TestServices.MailPassword);
        return client;
    }
}
