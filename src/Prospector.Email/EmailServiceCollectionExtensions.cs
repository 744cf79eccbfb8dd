using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prospector.Core.Email;
using Prospector.Core.Inbound;
using Prospector.Email.Connections;
using Prospector.Email.Imap;
using Prospector.Email.Smtp;

namespace Prospector.Email;

/// <summary>Composition root of the email project.</summary>
public static class EmailServiceCollectionExtensions
{
    /// <summary>
    /// Registers the pooled SMTP sender (configured by <see cref="SmtpSenderOptions"/>: the host fills them, e.g. with
    /// <c>AddOptions&lt;SmtpSenderOptions&gt;().Configure(…)</c>), the IMAP mailbox reader and the connection tester as singletons.
    /// </summary>
    public static IServiceCollection AddProspectorEmail(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<SmtpSenderOptions>();
        services.TryAddSingleton<IEmailSender, SmtpEmailSender>();
        services.TryAddSingleton<IMailboxReader, ImapMailboxReader>();
        services.TryAddSingleton<MailboxConnectionTester>();
        return services;
    }
}
