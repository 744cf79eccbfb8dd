namespace Prospector.Core.Scheduling;

/// <summary>Why a step ran later than its sequence asked for. Several can hold at once.</summary>
[Flags]
public enum WaitReasons
{
    /// <summary>It ran when asked.</summary>
    None = 0,
    /// <summary>Outside the sending window's hours on a sending day.</summary>
    Window = 1,
    /// <summary>A Saturday or Sunday that is not a sending day.</summary>
    Weekend = 2,
    /// <summary>A public holiday of the prospect's country.</summary>
    Holiday = 4,
    /// <summary>The mailbox's daily cap (with ramp-up) was reached.</summary>
    DailyCap = 8,
    /// <summary>The mailbox's hourly cap (rolling 60 minutes) was reached.</summary>
    HourlyCap = 16,
    /// <summary>The minimum gap between two sends of the mailbox.</summary>
    Gap = 32,
    /// <summary>Held by a pause (enrollment, sequence, mailbox or workspace), then spread by the catch-up policy.</summary>
    Paused = 64,
    /// <summary>A weekday that is not one of the window's sending days.</summary>
    NotSendingDay = 128,
}

/// <summary>
/// A sending window: the hours [<see cref="StartMinute"/>, <see cref="EndMinute"/>) after local midnight, on
/// <see cref="Days"/>. Applied in the prospect's local time.
/// </summary>
public sealed record SendingWindow(int StartMinute, int EndMinute, IReadOnlySet<DayOfWeek> Days)
{
    /// <summary>Mon–Fri 08:00–18:00.</summary>
    public static SendingWindow Default { get; } = Parse(480, 1080, "mon,tue,wed,thu,fri");

    /// <summary>The stored form: minutes and "mon,tue,…" (three-letter English day names, any case).</summary>
    public static SendingWindow Parse(int startMinute, int endMinute, string days) => throw new NotImplementedException();

    /// <summary>Length of the window on one day.</summary>
    public TimeSpan Length => TimeSpan.FromMinutes(EndMinute - StartMinute);
}

/// <summary>Public holidays by country (ISO 3166-1 alpha-2).</summary>
public interface IHolidayCalendar
{
    /// <summary>The holiday's name when <paramref name="date"/> is a public holiday in <paramref name="country"/>; null otherwise or when the country is unknown.</summary>
    string? Holiday(string? country, DateOnly date);
}

/// <summary>No holidays anywhere (tests, and workspaces that turn holidays off).</summary>
public sealed class NoHolidays : IHolidayCalendar
{
    /// <summary>The one instance.</summary>
    public static NoHolidays Instance { get; } = new();

    /// <inheritdoc />
    public string? Holiday(string? country, DateOnly date) => null;
}

/// <summary>Where and when a prospect may be contacted: their time zone, country (for holidays) and the mailbox's window.</summary>
public sealed record StepSchedule(TimeZoneInfo Zone, string? Country, SendingWindow Window, IHolidayCalendar Holidays)
{
    /// <summary>The first valid IANA zone of the prospect, then the company, then the mailbox; UTC when none is valid.</summary>
    public static TimeZoneInfo ResolveZone(string? prospectZone, string? companyZone, string? mailboxZone) => throw new NotImplementedException();
}

/// <summary>When a step is placed and why it is later than wanted.</summary>
public readonly record struct Placement(DateTimeOffset At, WaitReasons Reasons);

/// <summary>
/// The schedule calculus (pure): windows, weekends, holidays, jitter, business-day waits. Live dispatch and the
/// simulation both call it, so they agree.
/// </summary>
public static class Scheduler
{
    /// <summary>
    /// The earliest allowed instant at or after <paramref name="wanted"/>: inside the window's hours, on a sending day that
    /// is not a holiday of the prospect's country, in the prospect's zone. Unchanged (reasons None) when already allowed.
    /// When moved to a window opening, a deterministic jitter (from <paramref name="jitterKey"/> and the local date) spreads
    /// it uniformly over the window so sends do not bunch at its start; the result stays inside the window.
    /// </summary>
    public static Placement Place(DateTimeOffset wanted, StepSchedule schedule, string jitterKey) => throw new NotImplementedException();

    /// <summary>None when <paramref name="at"/> is allowed, else why not (Window, Weekend, NotSendingDay, Holiday).</summary>
    public static WaitReasons Check(DateTimeOffset at, StepSchedule schedule) => throw new NotImplementedException();

    /// <summary>
    /// <paramref name="days"/> business days after <paramref name="from"/> in the prospect's zone: weekends, non-sending days
    /// and the country's holidays do not count; the result is at local <paramref name="timeOfDay"/> when given (else the
    /// same local time as <paramref name="from"/>), on a business day.
    /// </summary>
    public static DateTimeOffset AddBusinessDays(DateTimeOffset from, int days, TimeSpan? timeOfDay, StepSchedule schedule) => throw new NotImplementedException();

    /// <summary>"window,holiday" (stable order, lower-case with underscores: window, weekend, not_sending_day, holiday, daily_cap, hourly_cap, gap, paused); null for None.</summary>
    public static string? Format(WaitReasons reasons) => throw new NotImplementedException();

    /// <summary>The inverse of <see cref="Format"/>; unknown names are ignored.</summary>
    public static WaitReasons ParseReasons(string? text) => throw new NotImplementedException();
}

/// <summary>Ramp-up of a new mailbox: <see cref="StartPerDay"/> on the first day, +<see cref="StepPerDay"/> each day after, up to the daily cap.</summary>
public sealed record RampUp(int StartPerDay, int StepPerDay, DateTimeOffset StartedAt);

/// <summary>A mailbox's limits. Days are the mailbox's own local days in <see cref="Zone"/>.</summary>
public sealed record MailboxLimits(int DailyCap, int? HourlyCap, TimeSpan MinGap, RampUp? Ramp, TimeZoneInfo Zone);

/// <summary>How many slots a mailbox can give right now; when none, from when and which limit binds.</summary>
public readonly record struct Capacity(int Available, DateTimeOffset? FreeAt, WaitReasons Limit);

/// <summary>Per-mailbox capacity (pure): daily cap with ramp-up in the mailbox's day, rolling hourly cap, minimum gap.</summary>
public static class MailboxCapacity
{
    /// <summary>The cap of a local day: the daily cap, or the ramp-up's value that day when lower (never below 1 once started).</summary>
    public static int DailyCapOn(MailboxLimits limits, DateOnly localDay) => throw new NotImplementedException();

    /// <summary>The mailbox's local day containing <paramref name="at"/>, as UTC-offset instants [start, end).</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) DayOf(MailboxLimits limits, DateTimeOffset at) => throw new NotImplementedException();

    /// <summary>
    /// Slots available at <paramref name="now"/>, given the slots already taken today (<paramref name="usedToday"/>), the
    /// slot instants of the last hour (ascending, within (now − 1 h, now]) and the latest slot. With a gap, at most one.
    /// When none: <see cref="Capacity.FreeAt"/> is the first instant one frees (next local day, the oldest slot of the hour
    /// + 1 h, or last slot + gap, whichever is latest) and <see cref="Capacity.Limit"/> the limit that binds there.
    /// </summary>
    public static Capacity At(MailboxLimits limits, DateTimeOffset now, int usedToday, IReadOnlyList<DateTimeOffset> lastHour, DateTimeOffset? lastSlot)
        => throw new NotImplementedException();
}

/// <summary>
/// The catch-up policy: steps that fell due while paused are not sent in a burst on resume. They are spread at the
/// mailbox's pace — one every max(minimum gap, window length / daily cap) — in their due order from the resume instant;
/// each is then placed in its prospect's window, and caps still apply when claimed.
/// </summary>
public static class CatchUp
{
    /// <summary>The pace of a mailbox.</summary>
    public static TimeSpan Pace(MailboxLimits limits, SendingWindow window) => throw new NotImplementedException();

    /// <summary>Wanted instants for <paramref name="count"/> overdue steps of one mailbox resumed at <paramref name="resumedAt"/>: resumedAt + i × pace.</summary>
    public static IReadOnlyList<DateTimeOffset> Spread(int count, DateTimeOffset resumedAt, MailboxLimits limits, SendingWindow window) => throw new NotImplementedException();
}
