using MailKit;
using MailKit.Net.Imap;
using Prospector.Core.Email;

namespace Prospector.Email.Connections;

/// <summary>Where an IMAP session got to, so a failure can name the step that failed.</summary>
internal sealed class StepTracker
{
    public MailConnectionStep Current { get; set; } = MailConnectionStep.Connect;
}

internal static class ImapFolders
{
    /// <summary>Connects, logs in and opens the endpoint's folder read-only, recording each step in <paramref name="step"/>.</summary>
    internal static async Task<IMailFolder> OpenAsync(
        ImapClient client, ImapEndpoint endpoint, TimeSpan connectTimeout, StepTracker step, CancellationToken cancellationToken)
    {
        step.Current = MailConnectionStep.Connect;
        await MailConnector.ConnectAsync(client, endpoint.Host, endpoint.Port, endpoint.Security, connectTimeout, cancellationToken)
            .ConfigureAwait(false);
        step.Current = MailConnectionStep.Auth;
        await client.AuthenticateAsync(endpoint.Username, endpoint.Password, cancellationToken).ConfigureAwait(false);
        step.Current = MailConnectionStep.Select;
        return await OpenReadOnlyAsync(client, endpoint.Folder, cancellationToken).ConfigureAwait(false);
    }

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
