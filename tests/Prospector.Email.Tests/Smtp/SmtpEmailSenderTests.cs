using MimeKit;
using Prospector.Core.Email;
using Prospector.Email.Smtp;
using Prospector.Testing;

namespace Prospector.Email.Tests.Smtp;

/// <summary>Against the local Postfix. Mail goes from and to users 01..04 only, so no other class sees it.</summary>
public sealed class SmtpEmailSenderTests : IAsyncLifetime
{
    private const int Sender = 1;
    private const int Receiver = 2;
    private const int PoolReceiver = 3;
    private const int HostileReceiver = 4;

    private readonly SmtpEmailSender _sender = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _sender.DisposeAsync();

    [Fact]
    public async Task SendAsync_DeliversIdsSubjectAndBothBodies_WhenSentThroughPostfix()
    {
        var parent = MailTestSupport.NewMessageId();
        var root = MailTestSupport.NewMessageId();
        var email = MailTestSupport.Email(
            Sender,
            TestServices.MailUser(Receiver, MailTestSupport.Tag()),
            subject: $"Quarterly review {MailTestSupport.Tag()} – ünïcode",
            html: "<p>Hello <b>Pat</b></p>",
            inReplyTo: parent,
            references: [root, parent],
            headers: new Dictionary<string, string> { ["X-Prospector-Step"] = "step-42", ["List-Unsubscribe"] = "<https://example.test/u/1>" });

        var result = await _sender.SendAsync(MailTestSupport.Smtp(), email, CancellationToken.None);

        Assert.Equal(SendOutcome.Sent, result.Outcome);
        Assert.Equal(250, result.SmtpStatusCode);
        var received = await MailTestSupport.WaitForMessageAsync(Receiver, email.MessageId);
        Assert.Equal(email.MessageId, received.MessageId);
        Assert.Equal(parent, received.InReplyTo);
        Assert.Equal([root, parent], received.References.ToArray());
        Assert.Equal(email.Subject, received.Subject);
        Assert.Equal(email.FromAddress, received.From.Mailboxes.Single().Address);
        Assert.Equal("Sam Sender", received.From.Mailboxes.Single().Name);
        Assert.Equal(email.ToAddress, received.To.Mailboxes.Single().Address);
        Assert.Equal("step-42", received.Headers["X-Prospector-Step"]);
        var alternative = Assert.IsType<MultipartAlternative>(received.Body);
        Assert.Equal(2, alternative.Count);
        Assert.Equal(email.TextBody.ReplaceLineEndings("\n"), received.TextBody?.ReplaceLineEndings("\n").TrimEnd('\n'));
        Assert.Equal(email.HtmlBody, received.HtmlBody?.TrimEnd('\r', '\n'));
    }

    [Fact]
    public async Task SendAsync_SendsPlainTextOnly_WhenNoHtmlBody()
    {
        var email = MailTestSupport.Email(Sender, TestServices.MailUser(Receiver, MailTestSupport.Tag()));

        var result = await _sender.SendAsync(MailTestSupport.Smtp(), email, CancellationToken.None);

        Assert.Equal(SendOutcome.Sent, result.Outcome);
        var received = await MailTestSupport.WaitForMessageAsync(Receiver, email.MessageId);
        var text = Assert.IsType<TextPart>(received.Body);
        Assert.True(text.IsPlain);
        Assert.Null(received.InReplyTo);
        Assert.Empty(received.References);
    }

    [Fact]
    public async Task SendAsync_ReusesOneConnection_WhenTwoMessagesGoToTheSameEndpoint()
    {
        var first = MailTestSupport.Email(Sender, TestServices.MailUser(PoolReceiver, MailTestSupport.Tag()));
        var second = MailTestSupport.Email(Sender, TestServices.MailUser(PoolReceiver, MailTestSupport.Tag()));

        var r1 = await _sender.SendAsync(MailTestSupport.Smtp(), first, CancellationToken.None);
        var r2 = await _sender.SendAsync(MailTestSupport.Smtp(), second, CancellationToken.None);

        Assert.Equal(SendOutcome.Sent, r1.Outcome);
        Assert.Equal(SendOutcome.Sent, r2.Outcome);
        Assert.Equal(1, _sender.ConnectionsOpened);
        await MailTestSupport.WaitForMessageAsync(PoolReceiver, first.MessageId);
        await MailTestSupport.WaitForMessageAsync(PoolReceiver, second.MessageId);
    }

    [Fact]
    public async Task SendAsync_SerializesConcurrentSendsOnOneConnection_WhenSentInParallel()
    {
        var emails = Enumerable.Range(0, 8)
            .Select(_ => MailTestSupport.Email(Sender, TestServices.MailUser(PoolReceiver, MailTestSupport.Tag())))
            .ToList();

        var results = await Task.WhenAll(emails.Select(e => _sender.SendAsync(MailTestSupport.Smtp(), e, CancellationToken.None)));

        Assert.All(results, r => Assert.Equal(SendOutcome.Sent, r.Outcome));
        Assert.Equal(1, _sender.ConnectionsOpened);
        foreach (var email in emails)
        {
            await MailTestSupport.WaitForMessageAsync(PoolReceiver, email.MessageId);
        }
    }

    [Fact]
    public async Task SendAsync_ReturnsRecipientRejected550_WhenRcptIsRefused()
    {
        var email = MailTestSupport.Email(Sender, "x@reject.test");

        var result = await _sender.SendAsync(MailTestSupport.Smtp(), email, CancellationToken.None);

        Assert.Equal(SendOutcome.RecipientRejected, result.Outcome);
        Assert.Equal(550, result.SmtpStatusCode);
        Assert.Contains("RCPT TO", result.Detail, StringComparison.Ordinal);
        Assert.Contains("5.1.1", result.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("@", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_KeepsTheConnection_WhenARecipientWasRejected()
    {
        var rejected = await _sender.SendAsync(MailTestSupport.Smtp(), MailTestSupport.Email(Sender, "x@reject.test"), CancellationToken.None);
        var email = MailTestSupport.Email(Sender, TestServices.MailUser(PoolReceiver, MailTestSupport.Tag()));
        var sent = await _sender.SendAsync(MailTestSupport.Smtp(), email, CancellationToken.None);

        Assert.Equal(SendOutcome.RecipientRejected, rejected.Outcome);
        Assert.Equal(SendOutcome.Sent, sent.Outcome);
        Assert.Equal(1, _sender.ConnectionsOpened);
        await MailTestSupport.WaitForMessageAsync(PoolReceiver, email.MessageId);
    }

    [Fact]
    public async Task SendAsync_ReturnsTransient_WhenNothingListensOnThePort()
    {
        var endpoint = MailTestSupport.Smtp() with { Port = MailTestSupport.ClosedPort() };

        var result = await _sender.SendAsync(endpoint, MailTestSupport.Email(Sender, TestServices.MailUser(Receiver)), CancellationToken.None);

        Assert.Equal(SendOutcome.Transient, result.Outcome);
        Assert.Contains("connect", result.Detail, StringComparison.Ordinal);
        Assert.Equal(0, _sender.ConnectionsOpened);
    }

    [Theory]
    [InlineData("X-Evil", "a\r\nBcc: victim@example.test")]
    [InlineData("X-Evil", "a\nb")]
    [InlineData("X-Evil", "a\rb")]
    [InlineData("X-Evil", "a\0b")]
    [InlineData("X-Evil\r\nBcc", "victim@example.test")]
    public async Task SendAsync_RejectsAndSendsNothing_WhenAHeaderContainsCrLfOrNul(string name, string value)
    {
        var email = MailTestSupport.Email(
            Sender, TestServices.MailUser(HostileReceiver, MailTestSupport.Tag()), headers: new Dictionary<string, string> { [name] = value });

        var result = await _sender.SendAsync(MailTestSupport.Smtp(), email, CancellationToken.None);

        Assert.Equal(SendOutcome.Rejected, result.Outcome);
        Assert.Contains("CR, LF or NUL", result.Detail, StringComparison.Ordinal);
        Assert.Equal(0, _sender.ConnectionsOpened);
        Assert.Null(await MailTestSupport.FindMessageAsync(HostileReceiver, email.MessageId, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task SendAsync_RejectsAndSendsNothing_WhenTheSubjectContainsALineBreak()
    {
        var email = MailTestSupport.Email(Sender, TestServices.MailUser(HostileReceiver), subject: "Hi\r\nBcc: victim@example.test");

        var result = await _sender.SendAsync(MailTestSupport.Smtp(), email, CancellationToken.None);

        Assert.Equal(SendOutcome.Rejected, result.Outcome);
        Assert.Equal(0, _sender.ConnectionsOpened);
    }

    [Fact]
    public async Task SendAsync_UsesTheInjectedClockForTheDateHeader()
    {
        var now = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        await using var sender = new SmtpEmailSender(new FixedTimeProvider(now));
        var email = MailTestSupport.Email(Sender, TestServices.MailUser(Receiver, MailTestSupport.Tag()));

        var result = await sender.SendAsync(MailTestSupport.Smtp(), email, CancellationToken.None);

        Assert.Equal(SendOutcome.Sent, result.Outcome);
        var received = await MailTestSupport.WaitForMessageAsync(Receiver, email.MessageId);
        Assert.Equal(now, received.Date);
    }

    [Fact]
    public async Task SendAsync_Throws_WhenCancelled()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => _sender.SendAsync(MailTestSupport.Smtp(), MailTestSupport.Email(Sender, TestServices.MailUser(Receiver)), cancelled.Token));
    }

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
