using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MimeKit;
using Prospector.Core.Email;
using Prospector.Core.Inbound;
using Prospector.Email.Connections;

namespace Prospector.Email.Imap;

/// <summary>
/// Reads a mailbox UID-incrementally over IMAP. Each call uses its own <see cref="ImapClient"/> (MailKit clients are
/// not thread-safe) and opens the folder read-only, so fetching never sets \Seen.
/// </summary>
public sealed class ImapMailboxReader : IMailboxReader
{
    internal TimeSpan ConnectTimeout { get; init; } = MailConnector.DefaultConnectTimeout;

    // INTERNALDATE has one-second resolution and the server's clock is not ours; a little slack on "since" means
    // a first sync may see a message or two from just before it, never that it misses one.
    internal TimeSpan SinceSlack { get; init; } = TimeSpan.FromMinutes(1);

    /// <inheritdoc />
    public async Task<FetchBatch> FetchNewAsync(
        ImapEndpoint endpoint, SyncCursor? cursor, DateTimeOffset since, int maxMessages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessages);

        using var client = new ImapClient();
        var step = new StepTracker();
        try
        {
            var folder = await ImapFolders.OpenAsync(client, endpoint, ConnectTimeout, step, cancellationToken).ConfigureAwait(false);
            step.Current = MailConnectionStep.Fetch;
            var batch = await ReadAsync(folder, cursor, since, maxMessages, cancellationToken).ConfigureAwait(false);
            await DisconnectQuietlyAsync(client, cancellationToken).ConfigureAwait(false);
            return batch;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var failed = MailConnector.StepOf(ex, step.Current);
            throw new MailboxSyncException(
                failed,
                $"IMAP mailbox sync failed at {failed.ToString().ToLowerInvariant()}: {MailConnector.Describe(ex, failed)}",
                ex);
        }
    }

    private static async Task DisconnectQuietlyAsync(ImapClient client, CancellationToken cancellationToken)
    {
        try
        {
            await client.DisconnectAsync(true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ImapProtocolException or ImapCommandException)
        {
            // The batch is complete; a failed LOGOUT must not throw it away.
        }
    }

    private async Task<FetchBatch> ReadAsync(
        IMailFolder folder, SyncCursor? cursor, DateTimeOffset since, int maxMessages, CancellationToken cancellationToken)
    {
        var uidValidity = folder.UidValidity;
        var validityChanged = cursor is not null && cursor.UidValidity != uidValidity;
        var incremental = cursor is not null && !validityChanged;

        var candidates = incremental
            ? await NewerThanAsync(folder, cursor!.LastUid, cancellationToken).ConfigureAwait(false)
            : await ArrivedSinceAsync(folder, since, cancellationToken).ConfigureAwait(false);

        var selected = candidates.Order().Take(maxMessages).ToList();
        var messages = await FetchMessagesAsync(folder, selected, cancellationToken).ConfigureAwait(false);

        uint lastUid;
        if (selected.Count > 0)
        {
            // Also past messages expunged between SEARCH and FETCH: they are gone either way.
            lastUid = selected[^1];
        }
        else if (incremental)
        {
            lastUid = cursor!.LastUid;
        }
        else
        {
            // Nothing arrived since the date: start after everything present, so the next call does not rescan.
            lastUid = await HighestUidAsync(folder, cancellationToken).ConfigureAwait(false);
        }

        return new FetchBatch(new SyncCursor(uidValidity, lastUid), messages, validityChanged);
    }

    private static async Task<IReadOnlyList<uint>> NewerThanAsync(IMailFolder folder, uint lastUid, CancellationToken cancellationToken)
    {
        if (lastUid == uint.MaxValue || (folder.UidNext is { } next && next.Id <= lastUid + 1))
        {
            // UIDNEXT from EXAMINE says nothing arrived after the cursor: skip the round trip.
            return [];
        }

        var range = new UniqueIdRange(new UniqueId(lastUid + 1), UniqueId.MaxValue);
        var found = await folder.SearchAsync(SearchQuery.Uids(range), cancellationToken).ConfigureAwait(false);

        // "n:*" always includes the highest UID in the folder, even when it is below n.
        return found.Select(u => u.Id).Where(id => id > lastUid).ToList();
    }

    private async Task<IReadOnlyList<uint>> ArrivedSinceAsync(IMailFolder folder, DateTimeOffset since, CancellationToken cancellationToken)
    {
        // Clamp so that "since forever" (DateTimeOffset.MinValue) does not underflow below.
        if (since < DateTimeOffset.UnixEpoch)
        {
            since = DateTimeOffset.UnixEpoch;
        }

        // SEARCH SINCE compares dates only, in the server's time zone: ask from the day before, then filter on
        // INTERNALDATE ourselves.
        var day = since.UtcDateTime.Date.AddDays(-1);
        var found = await folder.SearchAsync(SearchQuery.DeliveredAfter(day), cancellationToken).ConfigureAwait(false);
        if (found.Count == 0)
        {
            return [];
        }

        var summaries = await folder.FetchAsync(found, MessageSummaryItems.UniqueId | MessageSummaryItems.InternalDate, cancellationToken)
            .ConfigureAwait(false);
        var threshold = since - SinceSlack;
        return summaries
            .Where(s => s.InternalDate is not { } arrived || arrived >= threshold)
            .Select(s => s.UniqueId.Id)
            .ToList();
    }

    private static async Task<uint> HighestUidAsync(IMailFolder folder, CancellationToken cancellationToken)
    {
        if (folder.UidNext is { } next)
        {
            return next.Id - 1;
        }

        // The server did not send UIDNEXT with EXAMINE.
        var all = await folder.SearchAsync(SearchQuery.All, cancellationToken).ConfigureAwait(false);
        return all.Count == 0 ? 0 : all.Max(u => u.Id);
    }

    private static async Task<IReadOnlyList<FetchedMessage>> FetchMessagesAsync(
        IMailFolder folder, List<uint> uids, CancellationToken cancellationToken)
    {
        if (uids.Count == 0)
        {
            return [];
        }

        // One UID FETCH (UID BODY.PEEK[]) for the whole batch instead of a round trip per message.
        var fetched = new List<FetchedMessage>(uids.Count);
        var imapFolder = (ImapFolder)folder;
        await imapFolder.GetStreamsAsync(
            uids.Select(id => new UniqueId(id)).ToList(),
            async (_, _, uid, stream, ct) =>
            {
                var message = await MimeMessage.LoadAsync(stream, ct).ConfigureAwait(false);
                fetched.Add(new FetchedMessage(uid.Id, message));
            },
            cancellationToken).ConfigureAwait(false);

        fetched.Sort((a, b) => a.Uid.CompareTo(b.Uid));
        return fetched;
    }
}
