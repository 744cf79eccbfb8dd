using MailKit;
using MailKit.Net.Imap;

namespace Prospector.Email.Connections;

internal static class ImapFolders
{
    /// <summary>Opens a folder with EXAMINE, so that fetching never sets \Seen or changes anything else.</summary>
    internal static async Task<IMailFolder> OpenReadOnlyAsync(ImapClient client, string folderName, CancellationToken cancellationToken)
    {
        var folder = string.Equals(folderName, "INBOX", StringComparison.OrdinalIgnoreCase)
            ? client.Inbox
            : await client.GetFolderAsync(folderName, cancellationToken).ConfigureAwait(false);
        await folder.OpenAsync(FolderAccess.ReadOnly, cancellationToken).ConfigureAwait(false);
        return folder;
    }
}
