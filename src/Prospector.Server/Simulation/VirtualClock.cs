namespace Prospector.Server.Simulation;

/// <summary>A clock the simulation sets: every engine class reads it through <see cref="TimeProvider"/>, as it reads the system clock live.</summary>
public sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start.ToUniversalTime();

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => _now;

    /// <summary>Moves the clock to <paramref name="at"/> (never backwards).</summary>
    public void Set(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        if (utc > _now)
        {
            _now = utc;
        }
    }
}
