using System.Diagnostics;
using System.Globalization;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;

namespace Prospector.Bench;

/// <summary>One message of the run found in a recipient's INBOX.</summary>
public sealed record R1Delivery(string MessageId, string To, string Subject, string? InReplyTo);

/// <summary>
/// The soak's mail side: recipients are plus-addresses of the local test users (user01..user40@example.test, Postfix's
/// <c>recipient_delimiter = +</c> files user07+tag@ into user07's Maildir), read back over Dovecot's IMAP.
/// </summary>
public static class R1Mail
{
    public const int Users = 40;
    public const string Password = "test-pass";

    /// <summary>The recipient of prospect <paramref name="i"/>: unique per prospect, tagged with the run.</summary>
    public static string Recipient(string tag, int i)
        => string.Create(CultureInfo.InvariantCulture, $"user{1 + i % Users:00}+{tag}-{i}@example.test");

    public static string User(int n) => string.Create(CultureInfo.InvariantCulture, $"user{n:00}@example.test");

    /// <summary>
    /// Every message whose To contains <paramref name="tag"/>, once at least <paramref name="atLeast"/> arrived and the
    /// count held still for <paramref name="quiet"/> (Postfix delivers asynchronously), or at <paramref name="bound"/>.
    /// </summary>
    public static async Task<List<R1Delivery>> CollectAsync((string Host, int Port) imap, string tag, int atLeast, TimeSpan quiet, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        var (last, stableSince) = (-1, TimeSpan.Zero);
        while (true)
        {
            var all = await ReadAsync(imap, tag, expunge: false);
            if (all.Count != last)
            {
                Console.WriteLine($"  mail: {all.Count:N0} messages of the run delivered ({clock.Elapsed.TotalSeconds:0} s)");
                (last, stableSince) = (all.Count, clock.Elapsed);
            }

            if ((all.Count >= atLeast && clock.Elapsed - stableSince >= quiet) || clock.Elapsed > bound)
            {
                return all;
            }

            await Task.Delay(1000);
        }
    }

    /// <summary>Deletes the run's messages from the test mailboxes (they are shared with the test suites).</summary>
    public static Task ExpungeAsync((string Host, int Port) imap, string tag) => ReadAsync(imap, tag, expunge: true);

    private static async Task<List<R1Delivery>> ReadAsync((string Host, int Port) imap, string tag, bool expunge)
    {
        var all = new List<R1Delivery>();
        for (var u = 1; u <= Users; u++)
        {
            using var client = new ImapClient();
            await client.ConnectAsync(imap.Host, imap.Port, SecureSocketOptions.None);
            await client.AuthenticateAsync(User(u), Password);
            await client.Inbox.OpenAsync(expunge ? FolderAccess.ReadWrite : FolderAccess.ReadOnly);
            var uids = await client.Inbox.SearchAsync(SearchQuery.ToContains(tag));
            if (uids.Count > 0 && expunge)
            {
                await client.Inbox.AddFlagsAsync(uids, MessageFlags.Deleted, silent: true);
                await client.Inbox.ExpungeAsync(uids);
            }
            else if (uids.Count > 0)
            {
                foreach (var m in await client.Inbox.FetchAsync(uids, MessageSummaryItems.Envelope))
                {
                    var envelope = m.Envelope!;
                    all.Add(new R1Delivery(
                        envelope.MessageId?.Trim('<', '>') ?? "",
                        string.Join(',', envelope.To.Mailboxes.Select(a => a.Address.ToLowerInvariant())),
                        envelope.Subject ?? "",
                        envelope.InReplyTo?.Trim('<', '>')));
                }
            }

            await client.DisconnectAsync(true);
        }

        return all;
    }
}
