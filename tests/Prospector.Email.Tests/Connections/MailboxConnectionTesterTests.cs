using Prospector.Core.Email;
using Prospector.Email.Connections;

namespace Prospector.Email.Tests.Connections;

/// <summary>Against the local Postfix/Dovecot; reads user20 only and sends nothing.</summary>
public sealed class MailboxConnectionTesterTests
{
    private const int User = 20;
    private readonly MailboxConnectionTester _tester = new();

    [Fact]
    public async Task TestImapAsync_Succeeds_WhenTheSettingsAreRight()
    {
        var result = await _tester.TestImapAsync(MailTestSupport.Imap(User), CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Null(result.FailedStep);
    }

    [Fact]
    public async Task TestImapAsync_ReportsAuth_WhenThePasswordIsWrong()
    {
        var result = await _tester.TestImapAsync(MailTestSupport.Imap(User, password: "wrong-pass"), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal(MailConnectionStep.Auth, result.FailedStep);
        Assert.StartsWith("IMAP auth failed", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pass", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("@", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestImapAsync_ReportsConnect_WhenThePortIsClosed()
    {
        var result = await _tester.TestImapAsync(MailTestSupport.Imap(User) with { Port = MailTestSupport.ClosedPort() }, CancellationToken.None);

        Assert.Equal(MailConnectionStep.Connect, result.FailedStep);
        Assert.Contains("ConnectionRefused", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestImapAsync_ReportsSelect_WhenTheFolderDoesNotExist()
    {
        var result = await _tester.TestImapAsync(MailTestSupport.Imap(User, folder: "NoSuchFolder"), CancellationToken.None);

        Assert.Equal(MailConnectionStep.Select, result.FailedStep);
    }

    [Fact]
    public async Task TestImapAsync_ReportsTls_WhenTheServerOffersNoStartTls()
    {
        var result = await _tester.TestImapAsync(MailTestSupport.Imap(User) with { Security = TransportSecurity.StartTls }, CancellationToken.None);

        Assert.Equal(MailConnectionStep.Tls, result.FailedStep);
    }

    [Fact]
    public async Task TestSmtpAsync_Succeeds_WhenTheSettingsAreRight()
    {
        var result = await _tester.TestSmtpAsync(MailTestSupport.Smtp(), CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
    }

    [Fact]
    public async Task TestSmtpAsync_ReportsConnect_WhenThePortIsClosed()
    {
        var result = await _tester.TestSmtpAsync(MailTestSupport.Smtp() with { Port = MailTestSupport.ClosedPort() }, CancellationToken.None);

        Assert.Equal(MailConnectionStep.Connect, result.FailedStep);
    }

    [Fact]
    public async Task TestSmtpAsync_ReportsTls_WhenTheServerOffersNoStartTls()
    {
        var result = await _tester.TestSmtpAsync(MailTestSupport.Smtp() with { Security = TransportSecurity.StartTls }, CancellationToken.None);

        Assert.Equal(MailConnectionStep.Tls, result.FailedStep);
    }

    [Fact]
    public async Task TestSmtpAsync_ReportsAuth_WhenTheServerOffersNoAuthentication()
    {
        // The local Postfix has no SASL; a mailbox configured with credentials cannot authenticate there.
        var result = await _tester.TestSmtpAsync(MailTestSupport.Smtp() with { Username = "user20@example.test", Password = "test-pass" }, CancellationToken.None);

        Assert.Equal(MailConnectionStep.Auth, result.FailedStep);
        Assert.DoesNotContain("@", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestSmtpAsync_ReportsAuth_WhenThePasswordIsWrong()
    {
        // smtp-sink offers AUTH; with -f AUTH it refuses every attempt with 5xx.
        await using var sink = await SmtpSink.StartAsync("-f", "AUTH");

        var result = await _tester.TestSmtpAsync(new SmtpEndpoint("127.0.0.1", sink.Port, TransportSecurity.None, "user", "wrong-pass"), CancellationToken.None);

        Assert.Equal(MailConnectionStep.Auth, result.FailedStep);
        Assert.DoesNotContain("wrong-pass", result.Message, StringComparison.Ordinal);
    }
}
