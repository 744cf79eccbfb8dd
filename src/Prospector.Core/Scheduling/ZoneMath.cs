namespace Prospector.Core.Scheduling;

/// <summary>
/// Local-time arithmetic over a <see cref="TimeZoneInfo"/> with explicit DST rules: a local time that does not exist
/// (spring forward) maps to the first valid instant after it, an ambiguous one (fall back) to the earlier instant.
/// Every instant this class returns has offset zero.
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

    /// <summary>The instant of a local wall-clock time (gap → first valid instant after it; ambiguous → earlier).</summary>
    public static DateTimeOffset Resolve(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local))
        {
            // The gap ends at the transition instant; its local time is the first valid minute after the gap
            // (transitions fall on whole minutes in every zone of the tz database since the 1970s).
            var probe = local.AddTicks(-(local.Ticks % TimeSpan.TicksPerMinute));
            for (var i = 0; i < 48 * 60 && zone.IsInvalidTime(probe); i++)
            {
                probe = probe.AddMinutes(1);
            }

            local = probe;
        }

        if (zone.IsAmbiguousTime(local))
        {
            var offsets = zone.GetAmbiguousTimeOffsets(local);
            var largest = offsets.Max();
            return new DateTimeOffset(local.Ticks - largest.Ticks, TimeSpan.Zero);
        }

        return new DateTimeOffset(local.Ticks - zone.GetUtcOffset(local).Ticks, TimeSpan.Zero);
    }

    public static DateTimeOffset Resolve(DateOnly date, TimeSpan timeOfDay, TimeZoneInfo zone)
        => Resolve(date.ToDateTime(TimeOnly.MinValue).Add(timeOfDay), zone);

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
        var offset = zone.GetUtcOffset(from);
        while (segmentStart < to)
        {
            var segmentEnd = NextTransition(segmentStart, offset, to, zone);
            var a = Max(segmentStart, new DateTimeOffset(localStart - offset.Ticks, TimeSpan.Zero));
            var b = Min(segmentEnd, new DateTimeOffset(localEnd - offset.Ticks, TimeSpan.Zero));
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

            segmentStart = segmentEnd;
            offset = zone.GetUtcOffset(segmentEnd);
        }

        return result;
    }

    /// <summary>The first instant after <paramref name="from"/> (and before <paramref name="limit"/>) whose offset differs from <paramref name="offset"/>; else <paramref name="limit"/>.</summary>
    private static DateTimeOffset NextTransition(DateTimeOffset from, TimeSpan offset, DateTimeOffset limit, TimeZoneInfo zone)
    {
        var low = from;
        while (low < limit)
        {
            var high = Min(low + Probe, limit);
            if (zone.GetUtcOffset(high) != offset)
            {
                // Offset at low is `offset`, at high it is not: bisect to the tick.
                while (high.Ticks - low.Ticks > 1)
                {
                    var mid = new DateTimeOffset(low.Ticks + ((high.Ticks - low.Ticks) / 2), TimeSpan.Zero);
                    if (zone.GetUtcOffset(mid) == offset)
                    {
                        low = mid;
                    }
                    else
                    {
                        high = mid;
                    }
                }

                return high;
            }

            low = high;
        }

        return limit;
    }

    public static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a >= b ? a : b;

    public static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a <= b ? a : b;
}
