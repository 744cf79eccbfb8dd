using Prospector.Core.Scheduling;
using static Prospector.Core.Tests.Scheduling.SchedulingKit;

namespace Prospector.Core.Tests.Scheduling;

public class SchedulerTests
{
    private static readonly TimeZoneInfo Paris = Zone("Europe/Paris");
    private static readonly TimeZoneInfo NewYork = Zone("America/New_York");

    private static void AssertInWindow(Placement placement, StepSchedule schedule, DateOnly expectedDay)
    {
        var local = LocalOf(placement.At, schedule.Zone);
        Assert.Equal(expectedDay, DateOnly.FromDateTime(local));
        Assert.InRange(local.TimeOfDay, TimeSpan.FromMinutes(schedule.Window.StartMinute), TimeSpan.FromMinutes(schedule.Window.EndMinute) - TimeSpan.FromTicks(1));
        Assert.Equal(WaitReasons.None, Scheduler.Check(placement.At, schedule));
        Assert.Equal(TimeSpan.Zero, placement.At.Offset);
    }

    [Fact]
    public void Place_Unchanged_WhenAlreadyAllowed()
    {
        var schedule = Schedule("Europe/Paris", "FR");
        var wanted = Local(Paris, 2026, 7, 15, 9, 30);

        var placement = Scheduler.Place(wanted, schedule, "k");

        Assert.Equal(wanted, placement.At);
        Assert.Equal(WaitReasons.None, placement.Reasons);
    }

    [Fact]
    public void Place_MovesToNextDay_WhenBastilleDayInFrance()
    {
        var schedule = Schedule("Europe/Paris", "FR");
        var wanted = Local(Paris, 2026, 7, 14, 10);

        Assert.Equal(WaitReasons.Holiday, Scheduler.Check(wanted, schedule));
        var placement = Scheduler.Place(wanted, schedule, "enrollment-1/step-2");

        Assert.Equal(WaitReasons.Holiday, placement.Reasons);
        AssertInWindow(placement, schedule, new DateOnly(2026, 7, 15));
    }

    [Fact]
    public void Place_IgnoresFrenchHoliday_ForAnotherCountry()
    {
        var schedule = Schedule("Europe/Paris", "DE");
        var wanted = Local(Paris, 2026, 7, 14, 10);

        Assert.Equal(new Placement(wanted, WaitReasons.None), Scheduler.Place(wanted, schedule, "k"));
    }

    [Fact]
    public void Place_MovesToMonday_WhenFridayAfterWindow()
    {
        var schedule = Schedule("Europe/Paris", "FR");
        var placement = Scheduler.Place(Local(Paris, 2026, 7, 17, 18, 30), schedule, "k");

        Assert.Equal(WaitReasons.Window | WaitReasons.Weekend, placement.Reasons);
        AssertInWindow(placement, schedule, new DateOnly(2026, 7, 20));
        Assert.Equal("window,weekend", Scheduler.Format(placement.Reasons));
    }

    [Fact]
    public void Place_SameDay_WhenBeforeWindowStart()
    {
        var schedule = Schedule("Europe/Paris", "FR");
        var placement = Scheduler.Place(Local(Paris, 2026, 7, 15, 6), schedule, "k");

        Assert.Equal(WaitReasons.Window, placement.Reasons);
        AssertInWindow(placement, schedule, new DateOnly(2026, 7, 15));
    }

    [Fact]
    public void Place_JitterIsDeterministicPerKeyAndSpreadsOverTheWindow()
    {
        var schedule = Schedule("Europe/Paris", "FR");
        var wanted = Local(Paris, 2026, 7, 15, 6);

        var first = Scheduler.Place(wanted, schedule, "a");
        Assert.Equal(first, Scheduler.Place(wanted, schedule, "a"));

        var instants = Enumerable.Range(0, 200).Select(i => Scheduler.Place(wanted, schedule, $"key-{i}").At).ToList();
        var open = Local(Paris, 2026, 7, 15, 8);
        Assert.All(instants, at => Assert.InRange(at, open, open + TimeSpan.FromMinutes(599)));
        Assert.True(instants.Distinct().Count() > 190, "different keys spread");
        Assert.Contains(instants, at => at < open + TimeSpan.FromHours(2));
        Assert.Contains(instants, at => at > open + TimeSpan.FromHours(8));
    }

    [Fact]
    public void Place_UsesSaturday_WhenWindowIncludesIt()
    {
        var schedule = Schedule("Europe/Paris", "FR", SendingWindow.Parse(540, 1020, "mon,tue,wed,thu,fri,sat"));
        var saturday = Local(Paris, 2026, 7, 18, 10);
        Assert.Equal(WaitReasons.None, Scheduler.Place(saturday, schedule, "k").Reasons);

        var placement = Scheduler.Place(Local(Paris, 2026, 7, 18, 17, 30), schedule, "k");
        Assert.Equal(WaitReasons.Window | WaitReasons.Weekend, placement.Reasons);
        AssertInWindow(placement, schedule, new DateOnly(2026, 7, 20));
    }

    [Fact]
    public void Place_ReportsNotSendingDay_ForAWeekdayOutsideTheDays()
    {
        var schedule = Schedule("Europe/Paris", null, SendingWindow.Parse(480, 1080, "mon,wed"));
        var placement = Scheduler.Place(Local(Paris, 2026, 7, 21, 10), schedule, "k");

        Assert.Equal(WaitReasons.NotSendingDay, placement.Reasons);
        AssertInWindow(placement, schedule, new DateOnly(2026, 7, 22));
    }

    [Fact]
    public void Place_SkipsThanksgiving_InNewYork()
    {
        var schedule = Schedule("America/New_York", "US");
        var placement = Scheduler.Place(Local(NewYork, 2026, 11, 25, 19), schedule, "k");

        Assert.Equal(WaitReasons.Window | WaitReasons.Holiday, placement.Reasons);
        AssertInWindow(placement, schedule, new DateOnly(2026, 11, 27));
    }

    [Fact]
    public void Place_SkipsChristmasWeekendAndBoxingDaySubstitute_InBritain()
    {
        var london = Zone("Europe/London");
        var schedule = Schedule("Europe/London", "GB");
        var placement = Scheduler.Place(Local(london, 2026, 12, 24, 19), schedule, "k");

        Assert.Equal(WaitReasons.Window | WaitReasons.Holiday | WaitReasons.Weekend, placement.Reasons);
        AssertInWindow(placement, schedule, new DateOnly(2026, 12, 29));
        Assert.Equal(WaitReasons.Holiday, Scheduler.Check(Local(london, 2026, 12, 28, 10), schedule));
    }

    [Fact]
    public void Place_HandlesQuarterHourOffset_InKathmandu()
    {
        var schedule = Schedule("Asia/Kathmandu", null);
        var before = Utc(2026, 7, 15, 2, 0); // 07:45 local

        var placement = Scheduler.Place(before, schedule, "k");
        Assert.Equal(WaitReasons.Window, placement.Reasons);
        Assert.InRange(placement.At, Utc(2026, 7, 15, 2, 15), Utc(2026, 7, 15, 12, 14));

        var inside = Utc(2026, 7, 15, 2, 15); // 08:00 local
        Assert.Equal(new Placement(inside, WaitReasons.None), Scheduler.Place(inside, schedule, "k"));
        Assert.Equal(WaitReasons.Window, Scheduler.Check(Utc(2026, 7, 15, 12, 15), schedule)); // 18:00 local
    }

    [Fact]
    public void Place_WindowAcrossSpringForward_InNewYorkKeepsOnlyExistingTimes()
    {
        // Sunday 8 March 2026: 02:00 EST jumps to 03:00 EDT. Window 01:30–03:30 holds one real hour that day.
        var schedule = Schedule("America/New_York", "US", SendingWindow.Parse(90, 210, "sun"));

        var placement = Scheduler.Place(Utc(2026, 3, 8, 5, 0), schedule, "k"); // 00:00 EST
        Assert.Equal(WaitReasons.Window, placement.Reasons);
        Assert.InRange(placement.At, Utc(2026, 3, 8, 6, 30), Utc(2026, 3, 8, 7, 29));

        // 02:00–02:30 does not exist that day: the next Sunday.
        var gapOnly = Schedule("America/New_York", "US", SendingWindow.Parse(120, 150, "sun"));
        var moved = Scheduler.Place(Utc(2026, 3, 8, 5, 0), gapOnly, "k");
        Assert.Equal(WaitReasons.Window | WaitReasons.NotSendingDay | WaitReasons.Weekend, moved.Reasons);
        AssertInWindow(moved, gapOnly, new DateOnly(2026, 3, 15));
    }

    [Fact]
    public void Place_WindowAcrossFallBack_InNewYorkUsesBothOccurrences()
    {
        // Sunday 1 November 2026: 02:00 EDT goes back to 01:00 EST, so 01:00–01:30 happens twice.
        var schedule = Schedule("America/New_York", "US", SendingWindow.Parse(60, 90, "sun"));

        var between = Utc(2026, 11, 1, 5, 45); // 01:45 EDT
        Assert.Equal(WaitReasons.Window, Scheduler.Check(between, schedule));
        var placement = Scheduler.Place(between, schedule, "k");
        Assert.Equal(WaitReasons.Window, placement.Reasons);
        Assert.InRange(placement.At, Utc(2026, 11, 1, 6, 0), Utc(2026, 11, 1, 6, 29)); // 01:00–01:29 EST

        Assert.Equal(WaitReasons.None, Scheduler.Check(Utc(2026, 11, 1, 5, 10), schedule));
        Assert.Equal(WaitReasons.None, Scheduler.Check(Utc(2026, 11, 1, 6, 10), schedule));
    }

    [Fact]
    public void Place_Throws_WhenNoSendingDayExists()
    {
        var never = new StepSchedule(Paris, "FR", SendingWindow.Parse(480, 1080, "mon"), new EveryDayHoliday());

        var error = Assert.Throws<InvalidOperationException>(() => Scheduler.Place(Local(Paris, 2026, 7, 15, 10), never, "k"));
        Assert.StartsWith("no sending day", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => Scheduler.AddBusinessDays(Local(Paris, 2026, 7, 15, 10), 1, null, never));
    }

    [Fact]
    public void AddBusinessDays_SkipsHolidayAndWeekend()
    {
        var schedule = Schedule("Europe/Paris", "FR");
        var monday = Local(Paris, 2026, 7, 13, 9);

        Assert.Equal(Local(Paris, 2026, 7, 16, 9), Scheduler.AddBusinessDays(monday, 2, null, schedule));
        Assert.Equal(Local(Paris, 2026, 7, 20, 10, 30), Scheduler.AddBusinessDays(monday, 4, TimeSpan.FromHours(10.5), schedule));
        Assert.Equal(TimeSpan.Zero, Scheduler.AddBusinessDays(monday, 2, null, schedule).Offset);
    }

    [Fact]
    public void AddBusinessDays_Zero_IsTheSameOrNextSendingDay()
    {
        var schedule = Schedule("Europe/Paris", "FR");

        Assert.Equal(Local(Paris, 2026, 7, 13, 9), Scheduler.AddBusinessDays(Local(Paris, 2026, 7, 13, 9), 0, null, schedule));
        Assert.Equal(Local(Paris, 2026, 7, 15, 20), Scheduler.AddBusinessDays(Local(Paris, 2026, 7, 14, 20), 0, null, schedule));
        Assert.Equal(Local(Paris, 2026, 7, 20, 8), Scheduler.AddBusinessDays(Local(Paris, 2026, 7, 18, 20), 0, TimeSpan.FromHours(8), schedule));
    }

    [Fact]
    public void AddBusinessDays_CountsInTheProspectsZone()
    {
        // Friday 23:30 in New York is Saturday in UTC; one business day later is Monday in New York.
        var schedule = Schedule("America/New_York", "US");
        var friday = Local(NewYork, 2026, 7, 17, 23, 30);

        Assert.Equal(Local(NewYork, 2026, 7, 20, 23, 30), Scheduler.AddBusinessDays(friday, 1, null, schedule));
    }

    [Fact]
    public void AddBusinessDays_MovesNonexistentTimeForward_AndTakesEarlierAmbiguousTime()
    {
        var schedule = Schedule("America/New_York", "US", SendingWindow.Parse(0, 1440, "sun,mon,tue,wed,thu,fri,sat"));

        var spring = Scheduler.AddBusinessDays(Utc(2026, 3, 7, 12), 1, TimeSpan.FromMinutes(150), schedule); // 02:30 on 8 March
        Assert.Equal(Utc(2026, 3, 8, 7, 0), spring); // 03:00 EDT

        var fall = Scheduler.AddBusinessDays(Utc(2026, 10, 31, 12), 1, TimeSpan.FromMinutes(90), schedule); // 01:30 on 1 November
        Assert.Equal(Utc(2026, 11, 1, 5, 30), fall); // 01:30 EDT, the earlier one
    }

    [Fact]
    public void AddBusinessDays_FindsTheGap_WhereTimeZoneInfoLocalQueriesMissIt()
    {
        // Casablanca leaves Ramadan time at 02:00 (+00) on 22 March 2026, straight to 03:00 (+01). TimeZoneInfo's
        // IsInvalidTime(02:10) says false there; the calculus goes by instants and lands on the first valid one.
        var schedule = Schedule("Africa/Casablanca", null, SendingWindow.Parse(0, 1440, "sun,mon,tue,wed,thu,fri,sat"));

        var result = Scheduler.AddBusinessDays(Utc(2026, 3, 21, 12), 1, TimeSpan.FromMinutes(130), schedule);

        Assert.Equal(Utc(2026, 3, 22, 2, 0), result);
        Assert.Equal(new DateTime(2026, 3, 22, 3, 0, 0), LocalOf(result, schedule.Zone));
    }

    [Fact]
    public void AddBusinessDays_RejectsNegativeDaysAndBadTimeOfDay()
    {
        var schedule = Schedule("Europe/Paris", "FR");
        Assert.Throws<ArgumentOutOfRangeException>(() => Scheduler.AddBusinessDays(Utc(2026, 7, 1, 0), -1, null, schedule));
        Assert.Throws<ArgumentOutOfRangeException>(() => Scheduler.AddBusinessDays(Utc(2026, 7, 1, 0), 1, TimeSpan.FromHours(24), schedule));
    }

    [Fact]
    public void FormatAndParseReasons_RoundTripInStableOrder()
    {
        var all = WaitReasons.Paused | WaitReasons.Gap | WaitReasons.HourlyCap | WaitReasons.DailyCap | WaitReasons.Holiday
            | WaitReasons.NotSendingDay | WaitReasons.Weekend | WaitReasons.Window;

        Assert.Equal("window,weekend,not_sending_day,holiday,daily_cap,hourly_cap,gap,paused", Scheduler.Format(all));
        Assert.Equal(all, Scheduler.ParseReasons(Scheduler.Format(all)));
        Assert.Null(Scheduler.Format(WaitReasons.None));
        Assert.Equal(WaitReasons.None, Scheduler.ParseReasons(null));
        Assert.Equal(WaitReasons.Window | WaitReasons.Holiday, Scheduler.ParseReasons("holiday, window,bogus"));
        Assert.Equal("holiday,gap", Scheduler.Format(WaitReasons.Gap | WaitReasons.Holiday));
    }

    [Fact]
    public void SendingWindowParse_ReadsStoredForm()
    {
        var window = SendingWindow.Parse(510, 1050, " Mon,tue ,SAT,,mon");

        Assert.Equal(new HashSet<DayOfWeek> { DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Saturday }, window.Days.ToHashSet());
        Assert.Equal(TimeSpan.FromHours(9), window.Length);
        Assert.Equal("mon,tue,sat", window.FormatDays());
        Assert.Equal("mon,tue,wed,thu,fri", SendingWindow.Default.FormatDays());
        Assert.Equal((480, 1080), (SendingWindow.Default.StartMinute, SendingWindow.Default.EndMinute));
        Assert.Throws<FormatException>(() => SendingWindow.Parse(480, 1080, "mon,funday"));
        Assert.Throws<ArgumentOutOfRangeException>(() => SendingWindow.Parse(600, 600, "mon"));
        Assert.Throws<ArgumentOutOfRangeException>(() => SendingWindow.Parse(600, 1441, "mon"));
    }

    [Fact]
    public void ResolveZone_TakesTheFirstValidIanaZone()
    {
        Assert.Equal("Europe/Paris", StepSchedule.ResolveZone(null, "Not/AZone", "Europe/Paris").Id);
        Assert.Equal("Asia/Tokyo", StepSchedule.ResolveZone(" Asia/Tokyo ", "Europe/Paris", null).Id);
        Assert.Equal("America/New_York", StepSchedule.ResolveZone("", "America/New_York", "Europe/Paris").Id);
        Assert.Equal(TimeZoneInfo.Utc, StepSchedule.ResolveZone(null, "  ", "Mars/Olympus"));
    }

    private sealed class EveryDayHoliday : IHolidayCalendar
    {
        public string? Holiday(string? country, DateOnly date) => "always";
    }
}
