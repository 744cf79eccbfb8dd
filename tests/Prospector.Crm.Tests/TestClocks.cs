namespace Prospector.Crm.Tests;

/// <summary>Wall clock frozen at one instant; timers and Stopwatch stay real.</summary>
internal sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

/// <summary>Wall clock that moves <paramref name="step"/> forward on every read; timers and Stopwatch stay real.</summary>
internal sealed class SteppingTimeProvider(DateTimeOffset start, TimeSpan step) : TimeProvider
{
    private long _reads;

    public override DateTimeOffset GetUtcNow()
        => start + TimeSpan.FromTicks(step.Ticks * (Interlocked.Increment(ref _reads) - 1));
}
