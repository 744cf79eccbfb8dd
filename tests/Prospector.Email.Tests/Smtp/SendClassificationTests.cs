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

    [Theory]
    [InlineData(SmtpStatusCode.MailboxBusy, SendOutcome.Transient)]
    [InlineData(SmtpStatusCode.TransactionFailed, SendOutcome.Rejected)]
    public void Classify_NamesData_WhenTheDataCommandIsRefused(SmtpStatusCode status, SendOutcome expected)
    {
        var result = SmtpEmailSender.Classify(new SmtpCommandException(SmtpErrorCode.UnexpectedStatusCode, status, "4.3.0 try later"), Stage.Envelope);

        Assert.Equal(expected, result.Outcome);
        Assert.Equal((int)status, result.SmtpStatusCode);
        Assert.StartsWith($"DATA answered {(int)status}", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Classify_ReturnsTransient_WhenAuthIsRefusedForNow()
    {
        var refused = new SmtpCommandException(SmtpErrorCode.UnexpectedStatusCode, (SmtpStatusCode)454, "4.7.0 Temporary authentication failure for pat@example.test");

        var result = SmtpEmailSender.Classify(new AuthenticationException("454: 4.7.0 Temporary authentication failure", refused), Stage.Auth);

        Assert.Equal((SendOutcome.Transient, 454, "AUTH answered 454 4.7.0"), (result.Outcome, result.SmtpStatusCode, result.Detail));
    }

    [Fact]
    public void Classify_ReturnsRejectedWithTheCode_WhenAuthIsRefusedForGood()
    {
        var refused = new SmtpCommandException(SmtpErrorCode.UnexpectedStatusCode, SmtpStatusCode.AuthenticationInvalidCredentials, "5.7.8 bad credentials for pat@example.test");

        var result = SmtpEmailSender.Classify(new AuthenticationException("535: 5.7.8 bad credentials", refused), Stage.Auth);

        Assert.Equal((SendOutcome.Rejected, 535), (result.Outcome, result.SmtpStatusCode));
        Assert.Equal("authentication failed: the server rejected the credentials (AUTH answered 535 5.7.8)", result.Detail);
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
