using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Prospector.Core.Scheduling;

/// <summary>
/// Local-time arithmetic over a <see cref="TimeZoneInfo"/> with explicit DST rules: a local time that does not exist
/// (spring forward) maps to the first valid instant after it, an ambiguous one (fall back) to the earlier instant.
/// Every instant this class returns has offset zero. Local time is always derived from instants (instant + offset), as
/// <see cref="TimeZoneInfo.ConvertTime(DateTimeOffset, TimeZoneInfo)"/> does, so Check, Place and DayOf agree.
/// </summary>
internal static class ZoneMath
{
    /// <summary>How far the search for a window opening or a business day may go before giving up.</summary>
    public const int MaxSearchDays = 3 * 366 + 2;

    private static readonly TimeSpan MaxOffset = TimeSpan.FromHours(14);
    private static readonly TimeSpan Probe = TimeSpan.FromHours(1);

    public static DateTimeOffset Utc(DateTimeOffset at) => at.ToOffset(TimeSpan.Zero);

    /// <summary>The local wall-clock time of <paramref name="at"/> in <paramref name="zone"/>.</summary>
    public static DateTime Local(DateTimeOffset at, TimeZoneInfo zone) => TimeZoneInfo.ConvertTime(at, zone).DateTime;

    public static DateOnly LocalDate(DateTimeOffset at, TimeZoneInfo zone) => DateOnly.FromDateTime(Local(at, zone));

    /// <summary>
    /// The instant of a local wall-clock time: the earliest instant whose local time is on <paramref name="date"/> at or
    /// after <paramref name="timeOfDay"/>. So an ambiguous time (fall back) gives its earlier instant and a nonexistent one
    /// (spring forward) the first valid instant after it.
    /// </summary>
    /// <remarks>
    /// Built only on instant → offset (<see cref="TimeZoneInfo.GetUtcOffset(DateTimeOffset)"/>, what
    /// <see cref="TimeZoneInfo.ConvertTime(DateTimeOffset, TimeZoneInfo)"/> uses), never on the local-time
    /// queries (IsInvalidTime, GetUtcOffset(DateTime)), which disagree with it in zones such as Africa/Casablanca.
    /// </remarks>
    public static DateTimeOffset Resolve(DateOnly date, TimeSpan timeOfDay, TimeZoneInfo zone)
    {
        var intervals = Intervals(date, timeOfDay, TimeSpan.FromDays(1), zone);
        if (intervals.Count > 0)
        {
            return intervals[0].Start;
        }

        // The rest of the day does not exist (a gap across midnight): the next day's first instant.
        for (var next = date.AddDays(1); next <= date.AddDays(3); next = next.AddDays(1))
        {
            intervals = Intervals(next, TimeSpan.Zero, TimeSpan.FromDays(1), zone);
            if (intervals.Count > 0)
            {
                return intervals[0].Start;
            }
        }

        throw new InvalidOperationException($"{date:yyyy-MM-dd} {timeOfDay} has no instant in {zone.Id}");
    }

    /// <summary>
    /// The instants whose local time in <paramref name="zone"/> is on <paramref name="date"/> with a time of day in
    /// [<paramref name="start"/>, <paramref name="end"/>), as ordered disjoint [Start, End) intervals. Usually one
    /// interval; a fall-back transition inside the hours can split it in two; a spring-forward one can shorten it or
    /// leave nothing.
    /// </summary>
    public static List<(DateTimeOffset Start, DateTimeOffset End)> Intervals(DateOnly date, TimeSpan start, TimeSpan end, TimeZoneInfo zone)
    {
        var result = new List<(DateTimeOffset Start, DateTimeOffset End)>(1);
        if (end <= start)
        {
            return result;
        }

        var localStart = date.ToDateTime(TimeOnly.MinValue).Add(start).Ticks;
        var localEnd = date.ToDateTime(TimeOnly.MinValue).Add(end).Ticks;

        // Every instant whose local time is in [localStart, localEnd) lies in [localStart − 14 h, localEnd + 14 h).
        // Split that span into pieces of constant offset; within one, local = instant + offset is monotonic.
        var from = new DateTimeOffset(localStart, TimeSpan.Zero) - MaxOffset;
        var to = new DateTimeOffset(localEnd, TimeSpan.Zero) + MaxOffset;
        var segmentStart = from;
        foreach (var transition in TransitionsIn(zone, from, to).Append(to))
        {
            var offset = zone.GetUtcOffset(segmentStart);
            var a = Max(segmentStart, new DateTimeOffset(localStart - offset.Ticks, TimeSpan.Zero));
            var b = Min(transition, new DateTimeOffset(localEnd - offset.Ticks, TimeSpan.Zero));
            if (a < b)
            {
                if (result.Count > 0 && result[^1].End == a)
                {
                    result[^1] = (result[^1].Start, b);
                }
                else
                {
                    result.Add((a, b));
                }
            }

            segmentStart = transition;
        }

        return result;
    }

    /// <summary>The instants in (<paramref name="from"/>, <paramref name="to"/>) where the zone's offset changes, ascending.</summary>
    private static IEnumerable<DateTimeOffset> TransitionsIn(TimeZoneInfo zone, DateTimeOffset from, DateTimeOffset to)
    {
        for (var year = from.Year; year <= to.Year; year++)
        {
            foreach (var transition in TransitionsOf(zone, year))
            {
                if (transition > from && transition < to)
                {
                    yield return transition;
                }
            }
        }
    }

    // Offset changes per zone and UTC year, found once by probing every hour and bisecting to the tick (assumes no
    // two changes within one hour, true of the tz database). Keyed by the zone instance (system zones are cached
    // instances; TimeZoneInfo.Equals compares every adjustment rule, too slow here); weak so custom zones do not leak.
    private static readonly ConditionalWeakTable<TimeZoneInfo, ConcurrentDictionary<int, DateTimeOffset[]>> Transitions = new();

    private static DateTimeOffset[] TransitionsOf(TimeZoneInfo zone, int year)
        => Transitions.GetValue(zone, static _ => new()).GetOrAdd(year, static (year, zone) =>
        {
            var low = new DateTimeOffset(year, 1, 1, 0, 0, 0, TimeSpan.Zero);
            var end = year == DateTimeOffset.MaxValue.Year ? DateTimeOffset.MaxValue : low.AddYears(1);
            var found = new List<DateTimeOffset>();
            var offset = zone.GetUtcOffset(low);
            while (low < end)
            {
                var high = end - low > Probe ? low + Probe : end;
                var next = zone.GetUtcOffset(high);
                if (next != offset)
                {
                    // Offset at low is `offset`, at high it is not: bisect to the tick. The change belongs to this year
                    // when it is after the year's first instant (one exactly at the next year's start is listed here).
                    var (a, b) = (low, high);
                    while (b.Ticks - a.Ticks > 1)
                    {
                        var mid = new DateTimeOffset(a.Ticks + ((b.Ticks - a.Ticks) / 2), TimeSpan.Zero);
                        (a, b) = zone.GetUtcOffset(mid) == offset ? (mid, b) : (a, mid);
                    }

                    found.Add(b);
                    offset = next;
                }

                low = high;
            }

            return found.ToArray();
        }, zone);

    public static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a >= b ? a : b;

    public static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a <= b ? a : b;
}
