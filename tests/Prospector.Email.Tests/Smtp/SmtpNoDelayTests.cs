using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Prospector.Core.Email;
using Prospector.Email.Smtp;

namespace Prospector.Email.Tests.Smtp;

/// <summary>SmtpSenderOptions.NoDelay reaches the pooled connection's socket (read back with getsockopt, nothing timed).</summary>
public sealed class SmtpNoDelayTests
{
    private static SmtpEndpoint Sink(SmtpSink sink) => new("127.0.0.1", sink.Port, TransportSecurity.None, null, null);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SendAsync_OpensItsSocketWithTheConfiguredNoDelay_WhenSending(bool noDelay)
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var sender = new SmtpEmailSender(TimeProvider.System, Options.Create(new SmtpSenderOptions { NoDelay = noDelay }));

        var result = await sender.SendAsync(Sink(sink), MailTestSupport.Email(30, "someone@example.test"), CancellationToken.None);

        Assert.Equal(SendOutcome.Sent, result.Outcome);
        Assert.Equal(noDelay, sender.PooledSocketNoDelay(Sink(sink)));
    }

    [Fact]
    public async Task SendAsync_UsesNoDelay_WhenConstructedWithoutOptions()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var sender = new SmtpEmailSender(TimeProvider.System);

        await sender.SendAsync(Sink(sink), MailTestSupport.Email(30, "someone@example.test"), CancellationToken.None);

        Assert.True(sender.PooledSocketNoDelay(Sink(sink)));
    }

    [Fact]
    public async Task AddProspectorEmail_BuildsASenderWithNagleOn_WhenTheHostConfiguresNoDelayOff()
    {
        await using var sink = await SmtpSink.StartAsync();
        var services = new ServiceCollection().AddProspectorEmail();
        services.AddOptions<SmtpSenderOptions>().Configure(o => o.NoDelay = false);
        await using var provider = services.BuildServiceProvider();
        var sender = Assert.IsType<SmtpEmailSender>(provider.GetRequiredService<IEmailSender>());

        await sender.SendAsync(Sink(sink), MailTestSupport.Email(30, "someone@example.test"), CancellationToken.None);

        Assert.False(sender.PooledSocketNoDelay(Sink(sink)));
    }
}
