using MailKit;
using Prospector.Core.Email;
using Prospector.Core.Inbound;
using Prospector.Email.Connections;
using Prospector.Email.Imap;
using Prospector.Email.Smtp;
using Prospector.Testing;

namespace Prospector.Email.Tests.Imap;

/// <summary>Against the local Dovecot. Each test reads its own user (10..15); mail comes from user31.</summary>
public sealed class ImapMailboxReaderTests : IAsyncLifetime
{
    private const int From = 31;
    private readonly SmtpEmailSender _sender = new();
    private readonly ImapMailboxReader _reader = new() { SinceSlack = TimeSpan.Zero };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _sender.DisposeAsync();

    [Fact]
    public async Task FetchNewAsync_ReadsOnlyMessagesSinceTheDate_WhenThereIsNoCursor()
    {
        const int user = 10;
        var before = await DeliverAsync(user);
        var since = await NextWholeSecondAsync();
        var after = await DeliverAsync(user);

        var batch = await _reader.FetchNewAsync(MailTestSupport.Imap(user), null, since, 1000, CancellationToken.None);

        var ids = batch.Messages.Select(m => m.Message.MessageId).ToList();
        Assert.Contains(after, ids);
        Assert.DoesNotContain(before, ids);
        Assert.False(batch.UidValidityChanged);
        Assert.NotEqual(0u, batch.Cursor.UidValidity);
        Assert.Equal(batch.Messages.Max(m => m.Uid), batch.Cursor.LastUid);
    }

    [Fact]
    public async Task FetchNewAsync_ReadsOnlyNewerMessages_WhenGivenTheReturnedCursor()
    {
        const int user = 11;
        var first = await DeliverAsync(user);
        var initial = await _reader.FetchNewAsync(MailTestSupport.Imap(user), null, DateTimeOffset.UtcNow.AddHours(-1), 1000, CancellationToken.None);
        Assert.Contains(first, initial.Messages.Select(m => m.Message.MessageId));

        var idle = await _reader.FetchNewAsync(MailTestSupport.Imap(user), initial.Cursor, DateTimeOffset.UtcNow.AddHours(-1), 1000, CancellationToken.None);
        var second = await DeliverAsync(user);
        var third = await DeliverAsync(user);
        var next = await _reader.FetchNewAsync(MailTestSupport.Imap(user), initial.Cursor, DateTimeOffset.UtcNow.AddHours(-1), 1000, CancellationToken.None);

        Assert.Empty(idle.Messages);
        Assert.Equal(initial.Cursor, idle.Cursor);
        Assert.Equal([second, third], next.Messages.Select(m => m.Message.MessageId!).ToArray());
        Assert.All(next.Messages, m => Assert.True(m.Uid > initial.Cursor.LastUid));
        Assert.Equal(new SyncCursor(initial.Cursor.UidValidity, next.Messages[^1].Uid), next.Cursor);
        Assert.False(next.UidValidityChanged);
    }

    [Fact]
    public async Task FetchNewAsync_RereadsSinceTheDateAndSaysSo_WhenUidValidityChanged()
    {
        const int user = 12;
        var message = await DeliverAsync(user);
        var current = await _reader.FetchNewAsync(MailTestSupport.Imap(user), null, DateTimeOffset.UtcNow.AddHours(-1), 1000, CancellationToken.None);
        var stale = new SyncCursor(current.Cursor.UidValidity + 1, current.Cursor.LastUid);

        var batch = await _reader.FetchNewAsync(MailTestSupport.Imap(user), stale, DateTimeOffset.UtcNow.AddHours(-1), 1000, CancellationToken.None);

        Assert.True(batch.UidValidityChanged);
        Assert.Contains(message, batch.Messages.Select(m => m.Message.MessageId));
        Assert.Equal(current.Cursor, batch.Cursor);
    }

    [Fact]
    public async Task FetchNewAsync_StartsAfterEverythingPresent_WhenNothingArrivedSinceTheDate()
    {
        const int user = 13;
        await DeliverAsync(user);

        var empty = await _reader.FetchNewAsync(MailTestSupport.Imap(user), null, DateTimeOffset.UtcNow.AddDays(2), 1000, CancellationToken.None);
        var newer = await DeliverAsync(user);
        var next = await _reader.FetchNewAsync(MailTestSupport.Imap(user), empty.Cursor, DateTimeOffset.UtcNow.AddDays(2), 1000, CancellationToken.None);

        Assert.Empty(empty.Messages);
        Assert.NotEqual(0u, empty.Cursor.LastUid);
        Assert.Equal([newer], next.Messages.Select(m => m.Message.MessageId!).ToArray());
    }

    [Fact]
    public async Task FetchNewAsync_ReturnsAtMostMaxInUidOrderWithoutMarkingSeen_WhenMoreAreWaiting()
    {
        const int user = 14;
        var start = await _reader.FetchNewAsync(MailTestSupport.Imap(user), null, DateTimeOffset.UtcNow.AddDays(2), 10, CancellationToken.None);
        var sent = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            sent.Add(await DeliverAsync(user));
        }

        var page1 = await _reader.FetchNewAsync(MailTestSupport.Imap(user), start.Cursor, DateTimeOffset.MinValue, 2, CancellationToken.None);
        var page2 = await _reader.FetchNewAsync(MailTestSupport.Imap(user), page1.Cursor, DateTimeOffset.MinValue, 2, CancellationToken.None);
        var page3 = await _reader.FetchNewAsync(MailTestSupport.Imap(user), page2.Cursor, DateTimeOffset.MinValue, 2, CancellationToken.None);

        Assert.Equal(sent.Take(2), page1.Messages.Select(m => m.Message.MessageId));
        Assert.True(page1.Messages[0].Uid < page1.Messages[1].Uid);
        Assert.Equal(page1.Messages[1].Uid, page1.Cursor.LastUid);
        Assert.Equal(sent.Skip(2), page2.Messages.Select(m => m.Message.MessageId));
        Assert.Empty(page3.Messages);
        Assert.Equal(page2.Cursor, page3.Cursor);
        foreach (var id in sent)
        {
            var flags = await MailTestSupport.FlagsOfAsync(user, id);
            Assert.False(flags!.Value.HasFlag(MessageFlags.Seen));
        }
    }

    [Fact]
    public async Task FetchNewAsync_ThrowsAuthFailure_WhenThePasswordIsWrong()
    {
        // Same user and wrong password as MailboxConnectionTesterTests: Dovecot does not raise its per-IP auth
        // penalty for a repeated credential pair, so the two tests do not slow every other login on 127.0.0.1.
        var error = await Assert.ThrowsAsync<MailboxSyncException>(
            () => _reader.FetchNewAsync(MailTestSupport.Imap(20, password: "wrong-pass"), null, DateTimeOffset.UtcNow, 10, CancellationToken.None));

        Assert.Equal(MailConnectionStep.Auth, error.Step);
        Assert.Contains("auth", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("@", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pass", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FetchNewAsync_ThrowsConnectFailure_WhenNothingListens()
    {
        var endpoint = MailTestSupport.Imap(15) with { Port = MailTestSupport.ClosedPort() };

        var error = await Assert.ThrowsAsync<MailboxSyncException>(
            () => _reader.FetchNewAsync(endpoint, null, DateTimeOffset.UtcNow, 10, CancellationToken.None));

        Assert.Equal(MailConnectionStep.Connect, error.Step);
    }

    [Fact]
    public async Task FetchNewAsync_ThrowsSelectFailure_WhenTheFolderDoesNotExist()
    {
        var error = await Assert.ThrowsAsync<MailboxSyncException>(
            () => _reader.FetchNewAsync(MailTestSupport.Imap(15, folder: "NoSuchFolder"), null, DateTimeOffset.UtcNow, 10, CancellationToken.None));

        Assert.Equal(MailConnectionStep.Select, error.Step);
    }

    /// <summary>Sends one message to the user and waits until IMAP sees it, so UIDs follow send order.</summary>
    private async Task<string> DeliverAsync(int user)
    {
        var email = MailTestSupport.Email(From, TestServices.MailUser(user, MailTestSupport.Tag()));
        var result = await _sender.SendAsync(MailTestSupport.Smtp(), email, CancellationToken.None);
        Assert.Equal(SendOutcome.Sent, result.Outcome);
        await MailTestSupport.WaitForMessageAsync(user, email.MessageId);
        return email.MessageId;
    }

    /// <summary>INTERNALDATE has whole seconds: a "since" on a second boundary, strictly after what was delivered so far.</summary>
    private static async Task<DateTimeOffset> NextWholeSecondAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var since = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(1);
        await Task.Delay(since - now + TimeSpan.FromMilliseconds(50));
        return since;
    }
}
