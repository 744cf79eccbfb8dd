using System.Globalization;
using System.Security.Cryptography;
using System.Text;

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
    private static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    /// <summary>Mon–Fri 08:00–18:00.</summary>
    public static SendingWindow Default { get; } = Parse(480, 1080, "mon,tue,wed,thu,fri");

    /// <summary>The stored form: minutes and "mon,tue,…" (three-letter English day names, any case).</summary>
    /// <remarks>
    /// Blanks around names and empty entries are ignored; duplicates collapse. Throws <see cref="FormatException"/> on an
    /// unknown name and <see cref="ArgumentOutOfRangeException"/> unless 0 ≤ start &lt; end ≤ 1440.
    /// </remarks>
    public static SendingWindow Parse(int startMinute, int endMinute, string days)
    {
        ArgumentNullException.ThrowIfNull(days);
        if (startMinute < 0 || endMinute > 1440 || startMinute >= endMinute)
        {
            throw new ArgumentOutOfRangeException(nameof(endMinute), $"window [{startMinute}, {endMinute}) is not within one day with start < end");
        }

        var set = new HashSet<DayOfWeek>();
        foreach (var name in days.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var index = Array.FindIndex(DayNames, d => string.Equals(d, name, StringComparison.OrdinalIgnoreCase));
            if (index < 0)
            {
                throw new FormatException($"'{name}' is not a day name (mon, tue, wed, thu, fri, sat, sun)");
            }

            set.Add((DayOfWeek)index);
        }

        return new SendingWindow(startMinute, endMinute, set);
    }

    /// <summary>The stored form of <see cref="Days"/>: "mon,tue,…" in week order from Monday.</summary>
    public string FormatDays()
        => string.Join(',', Enumerable.Range(1, 7).Select(i => (DayOfWeek)(i % 7)).Where(Days.Contains).Select(d => DayNames[(int)d]));

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
    public static TimeZoneInfo ResolveZone(string? prospectZone, string? companyZone, string? mailboxZone)
    {
        foreach (var id in (ReadOnlySpan<string?>)[prospectZone, companyZone, mailboxZone])
        {
            if (!string.IsNullOrWhiteSpace(id) && TimeZoneInfo.TryFindSystemTimeZoneById(id.Trim(), out var zone) && zone.HasIanaId)
            {
                return zone;
            }
        }

        return TimeZoneInfo.Utc;
    }

    /// <summary>
    /// True when <paramref name="date"/> (a local date in <see cref="Zone"/>) is a sending day: its day of week is one of the
    /// window's days and it is not a holiday of <see cref="Country"/>.
    /// </summary>
    public bool IsSendingDay(DateOnly date) => DayReasons(date) == WaitReasons.None;

    /// <summary>Why a local date is not a sending day: Weekend (Sat/Sun not in the days), NotSendingDay (another day not in them), Holiday; None when it is one.</summary>
    public WaitReasons DayReasons(DateOnly date)
    {
        var reasons = WaitReasons.None;
        var day = date.DayOfWeek;
        if (!Window.Days.Contains(day))
        {
            reasons |= day is DayOfWeek.Saturday or DayOfWeek.Sunday ? WaitReasons.Weekend : WaitReasons.NotSendingDay;
        }

        if (Holidays.Holiday(Country, date) is not null)
        {
            reasons |= WaitReasons.Holiday;
        }

        return reasons;
    }
}

/// <summary>When a step is placed and why it is later than wanted.</summary>
public readonly record struct Placement(DateTimeOffset At, WaitReasons Reasons);

/// <summary>
/// The schedule calculus (pure): windows, weekends, holidays, jitter, business-day waits. Live dispatch and the
/// simulation both call it, so they agree.
/// </summary>
/// <remarks>
/// Everything is evaluated in the prospect's zone (<see cref="StepSchedule.Zone"/>). A local date is a <em>sending day</em>
/// when its day of week is one of <see cref="SendingWindow.Days"/> and it is not a holiday of
/// <see cref="StepSchedule.Country"/>. An instant is <em>allowed</em> when its local date is a sending day and its local
/// time of day is in [<see cref="SendingWindow.StartMinute"/>, <see cref="SendingWindow.EndMinute"/>). Local times that do
/// not exist (spring forward) stand for the first valid instant after them; ambiguous ones (fall back) for the earlier
/// instant. Searches go at most three years ahead, then throw <see cref="InvalidOperationException"/> ("no sending day …").
/// Returned instants have offset zero.
/// </remarks>
public static class Scheduler
{
    private static readonly (WaitReasons Reason, string Name)[] ReasonNames =
    [
        (WaitReasons.Window, "window"), (WaitReasons.Weekend, "weekend"), (WaitReasons.NotSendingDay, "not_sending_day"),
        (WaitReasons.Holiday, "holiday"), (WaitReasons.DailyCap, "daily_cap"), (WaitReasons.HourlyCap, "hourly_cap"),
        (WaitReasons.Gap, "gap"), (WaitReasons.Paused, "paused"),
    ];

    /// <summary>
    /// The earliest allowed instant at or after <paramref name="wanted"/>: inside the window's hours, on a sending day that
    /// is not a holiday of the prospect's country, in the prospect's zone. Unchanged (reasons None) when already allowed.
    /// When moved to a window opening, a deterministic jitter (from <paramref name="jitterKey"/> and the local date) spreads
    /// it uniformly over the window so sends do not bunch at its start; the result stays inside the window.
    /// </summary>
    /// <remarks>
    /// When moved, <see cref="Placement.At"/> is the first window opening after <paramref name="wanted"/> on a sending day
    /// plus a jitter of f × (length of that opening's interval − 1 minute), rounded down to the second, where f in [0, 1)
    /// comes from SHA-256 of <c>jitterKey + "|" + localDate:yyyy-MM-dd</c> (the same key and day give the same instant).
    /// The interval's length is the window's length except on a DST-transition day. Reasons: Window when
    /// <paramref name="wanted"/> is on a sending day but before the start or after the end (or a sending day on the way has
    /// no valid local time in its window), plus Weekend / NotSendingDay / Holiday for each day skipped (the wanted day
    /// included), OR-ed.
    /// </remarks>
    public static Placement Place(DateTimeOffset wanted, StepSchedule schedule, string jitterKey)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(jitterKey);
        var reasons = Check(wanted, schedule);
        if (reasons == WaitReasons.None)
        {
            return new Placement(ZoneMath.Utc(wanted), WaitReasons.None);
        }

        var (start, end) = Hours(schedule.Window);
        var first = ZoneMath.LocalDate(wanted, schedule.Zone);

        // The day before too: a fall-back transition can show an earlier local date after `wanted`.
        for (var date = first.AddDays(-1); date <= first.AddDays(ZoneMath.MaxSearchDays); date = date.AddDays(1))
        {
            var dayReasons = schedule.DayReasons(date);
            if (dayReasons == WaitReasons.None)
            {
                foreach (var (open, close) in ZoneMath.Intervals(date, start, end, schedule.Zone))
                {
                    if (open > wanted)
                    {
                        return new Placement(open + Jitter(jitterKey, date, close - open), reasons);
                    }
                }

                if (date > first)
                {
                    reasons |= WaitReasons.Window;
                }
            }
            else if (date > first)
            {
                reasons |= dayReasons;
            }
        }

        throw new InvalidOperationException($"no sending day within {ZoneMath.MaxSearchDays} days after {wanted:O} (window days {schedule.Window.FormatDays()}, country {schedule.Country ?? "none"})");
    }

    /// <summary>None when <paramref name="at"/> is allowed, else why not (Window, Weekend, NotSendingDay, Holiday).</summary>
    /// <remarks>Window only on a sending day (time of day before the start or at/after the end); on another day the day's reasons.</remarks>
    public static WaitReasons Check(DateTimeOffset at, StepSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var local = ZoneMath.Local(at, schedule.Zone);
        var dayReasons = schedule.DayReasons(DateOnly.FromDateTime(local));
        if (dayReasons != WaitReasons.None)
        {
            return dayReasons;
        }

        var (start, end) = Hours(schedule.Window);
        return local.TimeOfDay >= start && local.TimeOfDay < end ? WaitReasons.None : WaitReasons.Window;
    }

    /// <summary>
    /// <paramref name="days"/> business days after <paramref name="from"/> in the prospect's zone: weekends, non-sending days
    /// and the country's holidays do not count; the result is at local <paramref name="timeOfDay"/> when given (else the
    /// same local time as <paramref name="from"/>), on a business day.
    /// </summary>
    /// <remarks>
    /// Business days are sending days (<see cref="StepSchedule.IsSendingDay"/>). With <paramref name="days"/> = 0 the
    /// result is on <paramref name="from"/>'s local date when it is a sending day, else on the next one; with n &gt; 0 it is
    /// on the n-th sending day after that date. The local time is resolved with the DST rules above (so a nonexistent
    /// time moves forward to the first valid instant). Only the day is counted: the result may fall outside the window's
    /// hours (pass it to <see cref="Place"/>). Throws <see cref="ArgumentOutOfRangeException"/> for negative days or a time
    /// of day outside [0, 24 h).
    /// </remarks>
    public static DateTimeOffset AddBusinessDays(DateTimeOffset from, int days, TimeSpan? timeOfDay, StepSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentOutOfRangeException.ThrowIfNegative(days);
        if (timeOfDay is { } t && (t < TimeSpan.Zero || t >= TimeSpan.FromDays(1)))
        {
            throw new ArgumentOutOfRangeException(nameof(timeOfDay), "must be within [0, 24 h)");
        }

        var local = ZoneMath.Local(from, schedule.Zone);
        var date = DateOnly.FromDateTime(local);
        var limit = date.AddDays(ZoneMath.MaxSearchDays + days);
        var counted = 0;
        while (!schedule.IsSendingDay(date) || counted < days)
        {
            date = date.AddDays(1);
            if (date > limit)
            {
                throw new InvalidOperationException($"no sending day within {ZoneMath.MaxSearchDays} days after {from:O} (window days {schedule.Window.FormatDays()}, country {schedule.Country ?? "none"})");
            }

            if (schedule.IsSendingDay(date))
            {
                counted++;
            }
        }

        return ZoneMath.Resolve(date, timeOfDay ?? local.TimeOfDay, schedule.Zone);
    }

    /// <summary>"window,holiday" (stable order, lower-case with underscores: window, weekend, not_sending_day, holiday, daily_cap, hourly_cap, gap, paused); null for None.</summary>
    public static string? Format(WaitReasons reasons)
    {
        if (reasons == WaitReasons.None)
        {
            return null;
        }

        var names = ReasonNames.Where(r => (reasons & r.Reason) != 0).Select(r => r.Name).ToList();
        return names.Count == 0 ? null : string.Join(',', names);
    }

    /// <summary>The inverse of <see cref="Format"/>; unknown names are ignored.</summary>
    public static WaitReasons ParseReasons(string? text)
    {
        var reasons = WaitReasons.None;
        if (string.IsNullOrWhiteSpace(text))
        {
            return reasons;
        }

        foreach (var name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            foreach (var (reason, known) in ReasonNames)
            {
                if (string.Equals(name, known, StringComparison.OrdinalIgnoreCase))
                {
                    reasons |= reason;
                }
            }
        }

        return reasons;
    }

    private static (TimeSpan Start, TimeSpan End) Hours(SendingWindow window)
        => (TimeSpan.FromMinutes(window.StartMinute), TimeSpan.FromMinutes(window.EndMinute));

    /// <summary>f × (length − 1 min), f uniform in [0, 1) from SHA-256 of the key and the local date, rounded down to the second.</summary>
    private static TimeSpan Jitter(string key, DateOnly date, TimeSpan length)
    {
        var spread = length - TimeSpan.FromMinutes(1);
        if (spread <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key + "|" + date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), hash);
        var fraction = (BitConverter.ToUInt64(hash) >> 11) / (double)(1UL << 53);
        return TimeSpan.FromSeconds(Math.Floor(fraction * Math.Floor(spread.TotalSeconds)));
    }
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
    /// <remarks>
    /// With a ramp started on local day s (<see cref="RampUp.StartedAt"/> in the mailbox's zone): on day d ≥ s,
    /// min(DailyCap, max(1, StartPerDay + StepPerDay × (d − s))); before s, min(DailyCap, max(1, StartPerDay)). Without a
    /// ramp, DailyCap. A DailyCap ≤ 0 gives 0 (nothing is sent).
    /// </remarks>
    public static int DailyCapOn(MailboxLimits limits, DateOnly localDay)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var cap = Math.Max(0, limits.DailyCap);
        if (limits.Ramp is not { } ramp)
        {
            return cap;
        }

        var started = ZoneMath.LocalDate(ramp.StartedAt, limits.Zone);
        var elapsed = Math.Max(0, localDay.DayNumber - started.DayNumber);
        var value = Math.Max(1L, ramp.StartPerDay + ((long)ramp.StepPerDay * elapsed));
        return (int)Math.Min(cap, value);
    }

    /// <summary>The mailbox's local day containing <paramref name="at"/>, as UTC-offset instants [start, end).</summary>
    /// <remarks>Start is local midnight (the first valid instant of the date when midnight does not exist); usually 24 h long, 23 or 25 on DST days.</remarks>
    public static (DateTimeOffset Start, DateTimeOffset End) DayOf(MailboxLimits limits, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var date = ZoneMath.LocalDate(at, limits.Zone);
        var intervals = ZoneMath.Intervals(date, TimeSpan.Zero, TimeSpan.FromDays(1), limits.Zone);
        return (intervals[0].Start, intervals[^1].End);
    }

    /// <summary>
    /// Slots available at <paramref name="now"/>, given the slots already taken today (<paramref name="usedToday"/>), the
    /// slot instants of the last hour (ascending, within (now − 1 h, now]) and the latest slot. With a gap, at most one.
    /// When none: <see cref="Capacity.FreeAt"/> is the first instant one frees (next local day, the oldest slot of the hour
    /// + 1 h, or last slot + gap, whichever is latest) and <see cref="Capacity.Limit"/> the limit that binds there.
    /// </summary>
    /// <remarks>
    /// Daily: <see cref="DailyCapOn"/>(local day of now) − usedToday. Hourly (when <see cref="MailboxLimits.HourlyCap"/> is
    /// set): the cap − the slots of <paramref name="lastHour"/> after now − 1 h (later ones count too). Gap (when
    /// <see cref="MailboxLimits.MinGap"/> &gt; 0): 1, or 0 while lastSlot + MinGap &gt; now. Available = the minimum, never
    /// below 0. When 0: FreeAt = the latest free instant among the binding limits (daily → start of the next local day,
    /// hourly → lastHour[Count − HourlyCap] + 1 h of the counted slots, gap → lastSlot + MinGap) and Limit = that limit
    /// (on a tie the first of DailyCap, HourlyCap, Gap). FreeAt is null when a binding limit never frees (a cap ≤ 0).
    /// When Available &gt; 0: FreeAt null and Limit None.
    /// </remarks>
    public static Capacity At(MailboxLimits limits, DateTimeOffset now, int usedToday, IReadOnlyList<DateTimeOffset> lastHour, DateTimeOffset? lastSlot)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(lastHour);
        var (_, dayEnd) = DayOf(limits, now);
        var daily = (long)DailyCapOn(limits, ZoneMath.LocalDate(now, limits.Zone)) - usedToday;
        var available = daily;

        var hourStart = now - TimeSpan.FromHours(1);
        var recent = lastHour.Where(t => t > hourStart).Order().ToList();
        var hourly = long.MaxValue;
        if (limits.HourlyCap is { } hourlyCap)
        {
            hourly = (long)hourlyCap - recent.Count;
            available = Math.Min(available, hourly);
        }

        var gap = long.MaxValue;
        if (limits.MinGap > TimeSpan.Zero)
        {
            gap = lastSlot is { } last && last + limits.MinGap > now ? 0 : 1;
            available = Math.Min(available, gap);
        }

        if (available > 0)
        {
            return new Capacity((int)available, null, WaitReasons.None);
        }

        // The latest instant among the binding limits; null wins (never frees).
        DateTimeOffset? freeAt = DateTimeOffset.MinValue;
        var limit = WaitReasons.None;
        void Bind(WaitReasons reason, DateTimeOffset? at)
        {
            if (freeAt is null)
            {
                return;
            }

            if (at is null || at > freeAt)
            {
                (freeAt, limit) = (at, reason);
            }
        }

        if (daily <= 0)
        {
            Bind(WaitReasons.DailyCap, limits.DailyCap > 0 ? dayEnd : null);
        }

        if (hourly <= 0)
        {
            var cap = limits.HourlyCap!.Value;
            Bind(WaitReasons.HourlyCap, cap > 0 ? recent[recent.Count - cap] + TimeSpan.FromHours(1) : null);
        }

        if (gap <= 0)
        {
            Bind(WaitReasons.Gap, lastSlot!.Value + limits.MinGap);
        }

        return new Capacity(0, freeAt is { } f ? ZoneMath.Utc(f) : null, limit);
    }
}

/// <summary>
/// The catch-up policy: steps that fell due while paused are not sent in a burst on resume. They are spread at the
/// mailbox's pace — one every max(minimum gap, window length / daily cap) — in their due order from the resume instant;
/// each is then placed in its prospect's window, and caps still apply when claimed.
/// </summary>
public static class CatchUp
{
    /// <summary>The pace of a mailbox.</summary>
    /// <remarks>max(MinGap, window length / max(1, DailyCap)).</remarks>
    public static TimeSpan Pace(MailboxLimits limits, SendingWindow window)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(window);
        var byCap = window.Length / Math.Max(1, limits.DailyCap);
        return limits.MinGap > byCap ? limits.MinGap : byCap;
    }

    /// <summary>Wanted instants for <paramref name="count"/> overdue steps of one mailbox resumed at <paramref name="resumedAt"/>: resumedAt + i × pace.</summary>
    public static IReadOnlyList<DateTimeOffset> Spread(int count, DateTimeOffset resumedAt, MailboxLimits limits, SendingWindow window)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var pace = Pace(limits, window);
        var start = ZoneMath.Utc(resumedAt);
        var result = new DateTimeOffset[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = start + (pace * i);
        }

        return result;
    }
}
