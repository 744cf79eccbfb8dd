using Prospector.Bench;
using Prospector.Storage;
using Prospector.Storage.Tests;

namespace Prospector.Server.Tests;

/// <summary>
/// B8 scaled down (5 mailboxes × cap 3 × 8 simulated days from 2026-10-19, crossing the EU DST change on 25 October)
/// on PostgreSQL, through the real dispatcher on a simulated clock, checked independently of the scheduler.
/// </summary>
public class B8HarnessTests
{
    private static readonly DateOnly Start = new(2026, 10, 19);

    [Fact]
    public async Task MixedZones_NoSendOutsideWindowWeekendHolidayOrCap()
    {
        await using var db = await TestDatabase.CreateAsync(SqlDialect.Postgres);
        var run = await B8Simulation.RunAsync(db.PostgresConnectionString!, new B8Config(5, 3, 8, Start), _ => { }, CancellationToken.None);

        var k = run.Check;
        Assert.Equal((0, 0, 0, 0, 0), (k.OutsideWindow, k.NotSendingDay, k.Holiday, k.OverCap, k.NotSent));
        Assert.Empty(k.Examples);

        // Demand exceeded supply: most mailbox-local days with a send reached the cap, and no weekend UTC day had sends.
        Assert.True(k.CappedMailboxDays >= k.MailboxDays * 3 / 4, $"{k.CappedMailboxDays} of {k.MailboxDays} mailbox days capped");
        Assert.All(k.PerUtcDay.Where(d => d.Day.DayOfWeek == DayOfWeek.Sunday), d => Assert.Equal(0, d.Sends));
        Assert.InRange(k.Sends, 80, 5 * 3 * 8);
    }

    [Fact]
    public async Task UtcMailboxes_EachSendsExactlyItsCapEveryWeekday()
    {
        // Mailbox days = UTC days: every weekday some prospect's window is open, so each mailbox sends its cap on each of
        // the 6 weekdays (19–23 and 26 October) and nothing at weekends (the Friday US-west window closes at 00:00 UTC).
        await using var db = await TestDatabase.CreateAsync(SqlDialect.Postgres);
        var run = await B8Simulation.RunAsync(db.PostgresConnectionString!, new B8Config(5, 3, 8, Start, ["UTC"]), _ => { }, CancellationToken.None);

        var k = run.Check;
        Assert.Equal(0, k.Violations);
        Assert.Equal(0, k.NotSent);
        Assert.All(k.PerMailbox.Values, total => Assert.Equal(3 * 6, total));
        Assert.Equal(5 * 3 * 6, k.Sends);
        Assert.Equal(
            [15, 15, 15, 15, 15, 0, 0, 15],
            k.PerUtcDay.Select(d => d.Sends).ToArray());
    }
}
