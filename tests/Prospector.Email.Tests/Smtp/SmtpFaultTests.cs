using Prospector.Core.Email;
using Prospector.Email.Smtp;

namespace Prospector.Email.Tests.Smtp;

/// <summary>SMTP fault modes from Postfix's smtp-sink: each must land on the right side of DATA.</summary>
public sealed class SmtpFaultTests : IAsyncLifetime
{
    private readonly SmtpEmailSender _sender = new() { CommandTimeout = TimeSpan.FromSeconds(2) };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _sender.DisposeAsync();

    private static OutgoingEmail Email() => MailTestSupport.Email(30, "someone@example.test", html: "<p>" + new string('x', 9000) + "</p>");

    private static SmtpEndpoint Sink(SmtpSink sink) => new("127.0.0.1", sink.Port, TransportSecurity.None, null, null);

    [Fact]
    public async Task SendAsync_ReturnsSent_WhenTheSinkAccepts()
    {
        await using var sink = await SmtpSink.StartAsync();

        var result = await _sender.SendAsync(Sink(sink), Email(), CancellationToken.None);

        Assert.Equal(SendOutcome.Sent, result.Outcome);
    }

    [Fact]
    public async Task SendAsync_ReturnsUnknownAndReconnectsNextTime_WhenTheServerDropsAfterTheFinalDot()
    {
        await using var sink = await SmtpSink.StartAsync("-q", ".");

        var first = await _sender.SendAsync(Sink(sink), Email(), CancellationToken.None);
        var second = await _sender.SendAsync(Sink(sink), Email(), CancellationToken.None);

        Assert.Equal(SendOutcome.Unknown, first.Outcome);
        Assert.Contains("after DATA", first.Detail, StringComparison.Ordinal);
        Assert.Null(first.SmtpStatusCode);
        Assert.Equal(SendOutcome.Unknown, second.Outcome);
        Assert.Equal(2, _sender.ConnectionsOpened);
    }

    [Fact]
    public async Task SendAsync_ReturnsUnknown_WhenTheServerDoesNotAnswerTheFinalDot()
    {
        await using var sink = await SmtpSink.StartAsync("-W", ".:10");

        var result = await _sender.SendAsync(Sink(sink), Email(), CancellationToken.None);

        Assert.Equal(SendOutcome.Unknown, result.Outcome);
        Assert.Contains("timeout", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MAIL")]
    [InlineData("RCPT")]
    [InlineData("DATA")]
    public async Task SendAsync_ReturnsTransient_WhenTheServerDropsBeforeTheBody(string command)
    {
        await using var sink = await SmtpSink.StartAsync("-q", command);

        var result = await _sender.SendAsync(Sink(sink), Email(), CancellationToken.None);

        Assert.Equal(SendOutcome.Transient, result.Outcome);
        Assert.Contains("before DATA", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_ReturnsTransient_WhenTheServerDoesNotAnswerDataCommand()
    {
        await using var sink = await SmtpSink.StartAsync("-w", "10");

        var result = await _sender.SendAsync(Sink(sink), Email(), CancellationToken.None);

        Assert.Equal(SendOutcome.Transient, result.Outcome);
        Assert.Contains("timeout", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-r", "MAIL", SendOutcome.Transient, 450)]
    [InlineData("-f", "MAIL", SendOutcome.Rejected, 500)]
    [InlineData("-r", "RCPT", SendOutcome.Transient, 450)]
    [InlineData("-f", "RCPT", SendOutcome.RecipientRejected, 500)]
    [InlineData("-r", "DATA", SendOutcome.Transient, 450)]
    [InlineData("-f", "DATA", SendOutcome.Rejected, 500)]
    [InlineData("-r", ".", SendOutcome.Transient, 450)]
    [InlineData("-f", ".", SendOutcome.Rejected, 500)]
    [InlineData("-Q", ".", SendOutcome.Transient, 421)]
    [InlineData("-Q", "MAIL", SendOutcome.Transient, 421)]
    public async Task SendAsync_MapsTheReplyCode_WhenACommandIsRefused(string option, string command, SendOutcome expected, int code)
    {
        await using var sink = await SmtpSink.StartAsync(option, command);

        var result = await _sender.SendAsync(Sink(sink), Email(), CancellationToken.None);

        Assert.Equal(expected, result.Outcome);
        Assert.Equal(code, result.SmtpStatusCode);
    }

    [Fact]
    public async Task SendAsync_ReconnectsNextTime_WhenTheServerSaid421()
    {
        await using var sink = await SmtpSink.StartAsync("-Q", ".");

        await _sender.SendAsync(Sink(sink), Email(), CancellationToken.None);
        await _sender.SendAsync(Sink(sink), Email(), CancellationToken.None);

        Assert.Equal(2, _sender.ConnectionsOpened);
    }

    [Fact]
    public async Task SendAsync_ReturnsRejected_WhenTheServerRefusesAuth()
    {
        await using var sink = await SmtpSink.StartAsync("-f", "AUTH");

        var result = await _sender.SendAsync(Sink(sink) with { Username = "u", Password = "wrong-pass" }, Email(), CancellationToken.None);

        Assert.Equal(SendOutcome.Rejected, result.Outcome);
        Assert.Contains("authentication", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_ReturnsTransient_WhenAuthIsRefusedForNow()
    {
        await using var sink = await SmtpSink.StartAsync("-r", "AUTH");

        var result = await _sender.SendAsync(Sink(sink) with { Username = "u", Password = "p" }, Email(), CancellationToken.None);

        Assert.Equal(SendOutcome.Transient, result.Outcome);
        Assert.Equal(450, result.SmtpStatusCode);
        Assert.Equal("AUTH answered 450 4.3.0", result.Detail);
    }

    [Fact]
    public async Task SendAsync_ReturnsRejected_WhenAuthIsConfiguredButNotOffered()
    {
        await using var sink = await SmtpSink.StartAsync("-a");

        var result = await _sender.SendAsync(Sink(sink) with { Username = "u", Password = "p" }, Email(), CancellationToken.None);

        Assert.Equal(SendOutcome.Rejected, result.Outcome);
        Assert.Contains("authentication", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_RetriesOnAFreshConnection_WhenThePooledOneWasDroppedByTheServer()
    {
        var sink = await SmtpSink.StartAsync();
        var port = sink.Port;
        var first = await _sender.SendAsync(Sink(sink), Email(), CancellationToken.None);
        await sink.DisposeAsync();
        await using var restarted = await SmtpSink.StartOnAsync(port);

        var second = await _sender.SendAsync(Sink(restarted), Email(), CancellationToken.None);

        Assert.Equal(SendOutcome.Sent, first.Outcome);
        Assert.Equal(SendOutcome.Sent, second.Outcome);
        Assert.Equal(2, _sender.ConnectionsOpened);
    }

    [Fact]
    public async Task SendAsync_KeepsAnIdleConnectionThatAnswersNoop_WhenIdleForOverAMinute()
    {
        var clock = new ManualTimeProvider();
        await using var sender = new SmtpEmailSender(clock);
        await using var sink = await SmtpSink.StartAsync();

        var first = await sender.SendAsync(Sink(sink), Email(), CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(61));
        var second = await sender.SendAsync(Sink(sink), Email(), CancellationToken.None);

        Assert.Equal(SendOutcome.Sent, first.Outcome);
        Assert.Equal(SendOutcome.Sent, second.Outcome);
        Assert.Equal(1, sender.ConnectionsOpened);
    }

    [Fact]
    public async Task SendAsync_Reconnects_WhenAnIdleConnectionFailsNoop()
    {
        var clock = new ManualTimeProvider();
        await using var sender = new SmtpEmailSender(clock);
        var sink = await SmtpSink.StartAsync();
        var port = sink.Port;
        var first = await sender.SendAsync(Sink(sink), Email(), CancellationToken.None);
        await sink.DisposeAsync();
        await using var restarted = await SmtpSink.StartOnAsync(port);
        clock.Advance(TimeSpan.FromSeconds(61));

        var second = await sender.SendAsync(Sink(restarted), Email(), CancellationToken.None);

        Assert.Equal(SendOutcome.Sent, first.Outcome);
        Assert.Equal(SendOutcome.Sent, second.Outcome);
        Assert.Equal(2, sender.ConnectionsOpened);
    }

    [Fact]
    public async Task SendAsync_OpensOneConnectionPerEndpoint_WhenTwoEndpointsAreUsed()
    {
        await using var a = await SmtpSink.StartAsync();
        await using var b = await SmtpSink.StartAsync();

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(SendOutcome.Sent, (await _sender.SendAsync(Sink(a), Email(), CancellationToken.None)).Outcome);
            Assert.Equal(SendOutcome.Sent, (await _sender.SendAsync(Sink(b), Email(), CancellationToken.None)).Outcome);
        }

        Assert.Equal(2, _sender.ConnectionsOpened);
    }

    private sealed class ManualTimeProvider : TimeProvider
    {
        private long _ticks = DateTimeOffset.UtcNow.Ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
