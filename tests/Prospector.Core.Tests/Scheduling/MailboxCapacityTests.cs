using Prospector.Core.Scheduling;
using static Prospector.Core.Tests.Scheduling.SchedulingKit;

namespace Prospector.Core.Tests.Scheduling;

public class MailboxCapacityTests
{
    private static readonly TimeZoneInfo Paris = Zone("Europe/Paris");
    private static readonly DateTimeOffset Now = Utc(2026, 7, 15, 10, 0); // 12:00 in Paris

    private static MailboxLimits Limits(int daily = 100, int? hourly = null, TimeSpan gap = default, RampUp? ramp = null)
        => new(daily, hourly, gap, ramp, Paris);

    [Fact]
    public void DailyCapOn_RampsUpFromTheStartDayInTheMailboxZone()
    {
        // 23:30 UTC on 30 June is already 1 July in Paris.
        var limits = Limits(daily: 50, ramp: new RampUp(5, 10, Utc(2026, 6, 30, 23, 30)));

        Assert.Equal(5, MailboxCapacity.DailyCapOn(limits, new DateOnly(2026, 6, 20)));
        Assert.Equal(5, MailboxCapacity.DailyCapOn(limits, new DateOnly(2026, 7, 1)));
        Assert.Equal(15, MailboxCapacity.DailyCapOn(limits, new DateOnly(2026, 7, 2)));
        Assert.Equal(45, MailboxCapacity.DailyCapOn(limits, new DateOnly(2026, 7, 5)));
        Assert.Equal(50, MailboxCapacity.DailyCapOn(limits, new DateOnly(2026, 7, 6)));
        Assert.Equal(50, MailboxCapacity.DailyCapOn(limits, new DateOnly(2030, 1, 1)));
        Assert.Equal(50, MailboxCapacity.DailyCapOn(Limits(daily: 50), new DateOnly(2026, 7, 1)));
        Assert.Equal(1, MailboxCapacity.DailyCapOn(Limits(daily: 50, ramp: new RampUp(0, 0, Now)), new DateOnly(2026, 7, 15)));
        Assert.Equal(3, MailboxCapacity.DailyCapOn(Limits(daily: 3, ramp: new RampUp(10, 10, Now)), new DateOnly(2026, 7, 15)));
    }

    [Fact]
    public void DayOf_IsTheMailboxLocalDay_With23And25HourDaysAtDst()
    {
        var (start, end) = MailboxCapacity.DayOf(Limits(), Now);
        Assert.Equal((Utc(2026, 7, 14, 22), Utc(2026, 7, 15, 22)), (start, end));
        Assert.Equal(TimeSpan.Zero, start.Offset);

        var spring = MailboxCapacity.DayOf(Limits(), Utc(2026, 3, 29, 12));
        Assert.Equal((Utc(2026, 3, 28, 23), Utc(2026, 3, 29, 22)), spring);

        var fall = MailboxCapacity.DayOf(Limits(), Utc(2026, 10, 25, 12));
        Assert.Equal((Utc(2026, 10, 24, 22), Utc(2026, 10, 25, 23)), fall);
    }

    [Fact]
    public void At_AvailableIsTheSmallestLimit()
    {
        var slot = Now - TimeSpan.FromMinutes(30);

        Assert.Equal(new Capacity(8, null, WaitReasons.None), MailboxCapacity.At(Limits(daily: 10), Now, 2, [slot], slot));
        Assert.Equal(new Capacity(4, null, WaitReasons.None), MailboxCapacity.At(Limits(daily: 10, hourly: 5), Now, 2, [slot], slot));
        Assert.Equal(new Capacity(1, null, WaitReasons.None), MailboxCapacity.At(Limits(daily: 10, hourly: 5, gap: TimeSpan.FromMinutes(10)), Now, 2, [slot], slot));
        Assert.Equal(new Capacity(10, null, WaitReasons.None), MailboxCapacity.At(Limits(daily: 10), Now, 0, [], null));
    }

    [Fact]
    public void At_DailyCapBinds_UntilTheNextLocalDay()
    {
        var capacity = MailboxCapacity.At(Limits(daily: 3), Now, 3, [], Now - TimeSpan.FromHours(2));

        Assert.Equal(new Capacity(0, Utc(2026, 7, 15, 22), WaitReasons.DailyCap), capacity);
    }

    [Fact]
    public void At_DailyCapWithRamp_UsesTodaysRampValue()
    {
        var limits = Limits(daily: 50, ramp: new RampUp(2, 3, Now));

        Assert.Equal(new Capacity(0, Utc(2026, 7, 15, 22), WaitReasons.DailyCap), MailboxCapacity.At(limits, Now, 2, [], null));
        Assert.Equal(5, MailboxCapacity.At(limits, Utc(2026, 7, 15, 22), 0, [], null).Available);
    }

    [Fact]
    public void At_HourlyCapBinds_UntilTheOldestCountedSlotLeavesTheHour()
    {
        IReadOnlyList<DateTimeOffset> lastHour = [Now - TimeSpan.FromMinutes(50), Now - TimeSpan.FromMinutes(40), Now - TimeSpan.FromMinutes(20)];

        var capacity = MailboxCapacity.At(Limits(hourly: 2), Now, 3, lastHour, lastHour[^1]);

        // 3 slots in the hour, cap 2: two must leave, the second one (40 min ago) leaves at +20 min.
        Assert.Equal(new Capacity(0, Now + TimeSpan.FromMinutes(20), WaitReasons.HourlyCap), capacity);
        Assert.Equal(1, MailboxCapacity.At(Limits(hourly: 2), Now + TimeSpan.FromMinutes(20), 3, lastHour, lastHour[^1]).Available);
    }

    [Fact]
    public void At_HourlyCap_IgnoresSlotsOlderThanAnHour()
    {
        var capacity = MailboxCapacity.At(Limits(hourly: 1), Now, 1, [Now - TimeSpan.FromHours(1)], Now - TimeSpan.FromHours(1));

        Assert.Equal(1, capacity.Available);
    }

    [Fact]
    public void At_GapBinds_UntilLastSlotPlusGap()
    {
        var last = Now - TimeSpan.FromMinutes(2);
        var capacity = MailboxCapacity.At(Limits(gap: TimeSpan.FromMinutes(5)), Now, 1, [last], last);

        Assert.Equal(new Capacity(0, last + TimeSpan.FromMinutes(5), WaitReasons.Gap), capacity);
        Assert.Equal(1, MailboxCapacity.At(Limits(gap: TimeSpan.FromMinutes(5)), last + TimeSpan.FromMinutes(5), 1, [last], last).Available);
    }

    [Fact]
    public void At_SeveralLimitsBind_TheLatestFreeInstantWins()
    {
        var last = Utc(2026, 7, 15, 21, 50);
        var now = Utc(2026, 7, 15, 21, 55);

        var dailyLater = MailboxCapacity.At(Limits(daily: 1, gap: TimeSpan.FromMinutes(10)), now, 1, [last], last);
        Assert.Equal(new Capacity(0, Utc(2026, 7, 15, 22), WaitReasons.DailyCap), dailyLater);

        var gapLater = MailboxCapacity.At(Limits(daily: 1, gap: TimeSpan.FromMinutes(30)), now, 1, [last], last);
        Assert.Equal(new Capacity(0, Utc(2026, 7, 15, 22, 20), WaitReasons.Gap), gapLater);

        var hourlyLater = MailboxCapacity.At(Limits(daily: 1, hourly: 1, gap: TimeSpan.FromMinutes(5)), now, 1, [last], last);
        Assert.Equal(new Capacity(0, Utc(2026, 7, 15, 22, 50), WaitReasons.HourlyCap), hourlyLater);
    }

    [Fact]
    public void At_ZeroDailyCap_NeverFrees()
    {
        Assert.Equal(new Capacity(0, null, WaitReasons.DailyCap), MailboxCapacity.At(Limits(daily: 0), Now, 0, [], null));
    }

    [Fact]
    public void CatchUp_SpreadsAtTheMailboxPace()
    {
        var window = SendingWindow.Default; // 10 hours
        Assert.Equal(TimeSpan.FromMinutes(20), CatchUp.Pace(Limits(daily: 30, gap: TimeSpan.FromMinutes(5)), window));
        Assert.Equal(TimeSpan.FromMinutes(45), CatchUp.Pace(Limits(daily: 30, gap: TimeSpan.FromMinutes(45)), window));
        Assert.Equal(TimeSpan.FromHours(10), CatchUp.Pace(Limits(daily: 0), window));

        var resumed = new DateTimeOffset(2026, 7, 15, 12, 0, 0, TimeSpan.FromHours(2));
        var spread = CatchUp.Spread(3, resumed, Limits(daily: 30), window);
        Assert.Equal([Now, Now + TimeSpan.FromMinutes(20), Now + TimeSpan.FromMinutes(40)], spread);
        Assert.Empty(CatchUp.Spread(0, resumed, Limits(daily: 30), window));
    }
}
