using Microsoft.Extensions.DependencyInjection;
using Prospector.Core.Email;
using Prospector.Core.Inbound;
using Prospector.Email.Connections;
using Prospector.Email.Imap;
using Prospector.Email.Smtp;

namespace Prospector.Email.Tests;

public sealed class EmailServiceCollectionExtensionsTests
{
    [Fact]
    public async Task AddProspectorEmail_RegistersSingletons_WhenResolved()
    {
        await using var provider = new ServiceCollection().AddProspectorEmail().BuildServiceProvider();

        Assert.IsType<SmtpEmailSender>(provider.GetRequiredService<IEmailSender>());
        Assert.Same(provider.GetRequiredService<IEmailSender>(), provider.GetRequiredService<IEmailSender>());
        Assert.IsType<ImapMailboxReader>(provider.GetRequiredService<IMailboxReader>());
        Assert.Same(provider.GetRequiredService<MailboxConnectionTester>(), provider.GetRequiredService<MailboxConnectionTester>());
    }

    [Fact]
    public void AddProspectorEmail_DisposesTheSender_WhenTheProviderIsDisposedSynchronously()
    {
        var provider = new ServiceCollection().AddProspectorEmail().BuildServiceProvider();
        provider.GetRequiredService<IEmailSender>();

        provider.Dispose();
    }
}
