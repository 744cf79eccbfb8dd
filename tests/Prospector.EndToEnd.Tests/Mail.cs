using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Smtp;
using MailKit.Search;
using MailKit.Security;
using MimeKit;
using Prospector.Testing;

namespace Prospector.EndToEnd.Tests;

/// <summary>What a prospect does with their real mailbox on the local Dovecot/Postfix.</summary>
internal static class Mail
{
    /// <summary>Messages in a user's INBOX whose To contains <paramref name="toContains"/>.</summary>
    public static async Task<IReadOnlyList<MimeMessage>> InboxAsync(string login, string toContains)
    {
        var (host, port) = TestServices.Imap;
        using var imap = new ImapClient();
        await imap.ConnectAsync(host, port, SecureSocketOptions.None);
        await imap.AuthenticateAsync(login, TestServices.MailPassword);
        await imap.Inbox.OpenAsync(FolderAccess.ReadOnly);
        var uids = await imap.Inbox.SearchAsync(SearchQuery.ToContains(toContains));
        var messages = new List<MimeMessage>();
        foreach (var uid in uids)
        {
            messages.Add(await imap.Inbox.GetMessageAsync(uid));
        }

        await imap.DisconnectAsync(true);
        return messages;
    }

    /// <summary>Waits until <paramref name="predicate"/> holds for the inbox, or fails after <paramref name="timeout"/>.</summary>
    public static async Task<IReadOnlyList<MimeMessage>> WaitForAsync(string login, string toContains, Func<IReadOnlyList<MimeMessage>, bool> predicate, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var messages = await InboxAsync(login, toContains);
            if (predicate(messages))
            {
                return messages;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}; inbox of {login} has {messages.Count} matching message(s)");
            }

            await Task.Delay(300);
        }
    }

    /// <summary>Sends a message through the local Postfix.</summary>
    public static async Task SendAsync(MimeMessage message)
    {
        var (host, port) = TestServices.Smtp;
        using var smtp = new SmtpClient();
        await smtp.ConnectAsync(host, port, SecureSocketOptions.None);
        await smtp.SendAsync(message);
        await smtp.DisconnectAsync(true);
    }
}
