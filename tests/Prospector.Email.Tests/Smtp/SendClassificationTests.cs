using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Prospector.Core.Email;
using Prospector.Email.Smtp;
using Stage = Prospector.Email.Smtp.SmtpEmailSender.SendStage;

namespace Prospector.Email.Tests.Smtp;

/// <summary>The exception → outcome table, without a server.</summary>
public sealed class SendClassificationTests
{
    [Theory]
    [InlineData(SmtpErrorCode.RecipientNotAccepted, SmtpStatusCode.MailboxUnavailable, "Envelope", SendOutcome.RecipientRejected)]
    [InlineData(SmtpErrorCode.RecipientNotAccepted, SmtpStatusCode.MailboxBusy, "Envelope", SendOutcome.Transient)]
    [InlineData(SmtpErrorCode.SenderNotAccepted, SmtpStatusCode.MailboxUnavailable, "Envelope", SendOutcome.Rejected)]
    [InlineData(SmtpErrorCode.SenderNotAccepted, SmtpStatusCode.InsufficientStorage, "Envelope", SendOutcome.Transient)]
    [InlineData(SmtpErrorCode.MessageNotAccepted, SmtpStatusCode.TransactionFailed, "Envelope", SendOutcome.Rejected)]
    [InlineData(SmtpErrorCode.MessageNotAccepted, SmtpStatusCode.TransactionFailed, "Body", SendOutcome.Rejected)]
    [InlineData(SmtpErrorCode.MessageNotAccepted, SmtpStatusCode.ServiceNotAvailable, "Body", SendOutcome.Transient)]
    [InlineData(SmtpErrorCode.UnexpectedStatusCode, SmtpStatusCode.ServiceNotAvailable, "Connect", SendOutcome.Transient)]
    public void Classify_MapsTheReplyCode_WhenTheServerRefusedACommand(SmtpErrorCode error, SmtpStatusCode status, string stage, SendOutcome expected)
    {
        var result = SmtpEmailSender.Classify(new SmtpCommandException(error, status, "5.1.1 <pat@example.test>: mailbox unknown"), Enum.Parse<Stage>(stage));

        Assert.Equal(expected, result.Outcome);
        Assert.Equal((int)status, result.SmtpStatusCode);
        Assert.DoesNotContain("@", result.Detail, StringComparison.Ordinal);
    }

    public static TheoryData<Exception> TransportFailures => new()
    {
        new IOException("reset"),
        new SmtpProtocolException("unexpected disconnect"),
        new ServiceNotConnectedException(),
        new TimeoutException(),
        new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset),
    };

    [Theory]
    [MemberData(nameof(TransportFailures))]
    public void Classify_ReturnsUnknown_WhenTheConnectionFailsAfterDataWasAccepted(Exception failure)
        => Assert.Equal(SendOutcome.Unknown, SmtpEmailSender.Classify(failure, Stage.Body).Outcome);

    [Theory]
    [MemberData(nameof(TransportFailures))]
    public void Classify_ReturnsTransient_WhenTheConnectionFailsBeforeData(Exception failure)
    {
        Assert.Equal(SendOutcome.Transient, SmtpEmailSender.Classify(failure, Stage.Envelope).Outcome);
        Assert.Equal(SendOutcome.Transient, SmtpEmailSender.Classify(failure, Stage.Connect).Outcome);
    }

    [Fact]
    public void Classify_ReturnsRejected_WhenAuthenticationFails()
    {
        var result = SmtpEmailSender.Classify(new AuthenticationException("535 5.7.8 bad credentials for pat@example.test"), Stage.Auth);

        Assert.Equal(SendOutcome.Rejected, result.Outcome);
        Assert.Contains("authentication", result.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("@", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Classify_ReturnsTransient_WhenTlsFailsAtConnect()
    {
        var result = SmtpEmailSender.Classify(new SslHandshakeException("bad certificate"), Stage.Connect);

        Assert.Equal(SendOutcome.Transient, result.Outcome);
        Assert.StartsWith("tls", result.Detail, StringComparison.Ordinal);
    }
}
