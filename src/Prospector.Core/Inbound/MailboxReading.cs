using MimeKit;
using Prospector.Core.Email;

namespace Prospector.Core.Inbound;

/// <summary>Where a mailbox sync stopped: the folder's UIDVALIDITY and the highest UID already read.</summary>
public sealed record SyncCursor(uint UidValidity, uint LastUid);

/// <summary>One message read from the mailbox.</summary>
public sealed record FetchedMessage(uint Uid, MimeMessage Message);

/// <summary>New messages and the cursor to store once they are processed.</summary>
public sealed record FetchBatch(SyncCursor Cursor, IReadOnlyList<FetchedMessage> Messages, bool UidValidityChanged);

/// <summary>Reads new messages from a mailbox, UID-incrementally.</summary>
public interface IMailboxReader
{
    /// <summary>
    /// Returns messages with a UID above <paramref name="cursor"/>'s, at most <paramref name="maxMessages"/>, in UID order.
    /// With no cursor, or when the folder's UIDVALIDITY differs from the cursor's, reads the messages that arrived
    /// on or after <paramref name="since"/> instead (and sets <see cref="FetchBatch.UidValidityChanged"/> in the latter case).
    /// </summary>
    Task<FetchBatch> FetchNewAsync(ImapEndpoint endpoint, SyncCursor? cursor, DateTimeOffset since, int maxMessages, CancellationToken cancellationToken);
}
