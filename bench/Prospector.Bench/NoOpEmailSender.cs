using Prospector.Core.Email;

namespace Prospector.Bench;

/// <summary>The "no-op channel": every message is accepted at once (as if the server said 250), nothing leaves the process.</summary>
public sealed class NoOpEmailSender : IEmailSender
{
    private long _count;

    /// <summary>Messages accepted so far.</summary>
    public long Count => Interlocked.Read(ref _count);

    public Task<SendResult> SendAsync(SmtpEndpoint endpoint, OutgoingEmail email, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        return Task.FromResult(new SendResult(SendOutcome.Sent, "no-op", 250));
    }
}
