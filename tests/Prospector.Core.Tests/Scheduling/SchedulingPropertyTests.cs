using CsCheck;
using Prospector.Core.Scheduling;

namespace Prospector.Core.Tests.Scheduling;

/// <summary>Properties of the calculus over random zones (DST, odd offsets, midnight transitions), countries, windows and instants in 2026–2028.</summary>
public class SchedulingPropertyTests
{
    private static readonly string[] ZoneIds =
    [
        "UTC", "Europe/Paris", "Europe/London", "America/New_York", "America/St_Johns", "America/Santiago", "America/Havana",
        "America/Asuncion", "Asia/Beirut", "Asia/Kathmandu", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham",
        "Pacific/Kiritimati", "Africa/Casablanca",
    ];

    private static readonly string?[] CountryCodes = ["FR", "US", "GB", "DE", "JP", "BR", "NZ", "CL", "AQ", "XX", null];

    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private const int Minutes2026To2028 = 3 * 365 * 24 * 60;

    private static readonly Gen<DateTimeOffset> Instant =
        Gen.Select(Gen.Int[0, Minutes2026To2028], Gen.Int[0, 59], (m, s) => Epoch + TimeSpan.FromMinutes(m) + TimeSpan.FromSeconds(s));

    // The zones' offset changes in 2026–2028, found by probing (DST days are where the calculus is most likely wrong).
    private static readonly Dictionary<string, DateTimeOffset[]> Changes = ZoneIds.ToDictionary(id => id, id =>
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(id);
        var found = new List<DateTimeOffset>();
        var offset = zone.GetUtcOffset(Epoch);
        for (var t = Epoch.AddHours(1); t < Epoch.AddYears(3); t = t.AddHours(1))
        {
            if (zone.GetUtcOffset(t) is var next && next != offset)
            {
                offset = next;
                found.Add(t);
            }
        }

        return found.ToArray();
    });

    /// <summary>Half the time uniform over 2026–2028, half the time within 36 hours of one of the zone's offset changes.</summary>
    private static Gen<DateTimeOffset> InstantIn(TimeZoneInfo zone)
        => Changes[zone.Id] is { Length: > 0 } changes
            ? Gen.OneOf(Instant, Gen.Select(Gen.Int[0, changes.Length - 1], Gen.Int[-36 * 60, 36 * 60], Gen.Int[0, 59],
                (i, m, s) => changes[i] + TimeSpan.FromMinutes(m) + TimeSpan.FromSeconds(s)))
            : Instant;

    private static readonly Gen<SendingWindow> Window =
        Gen.Select(Gen.OneOf(Gen.Int[0, 1439], Gen.Int[0, 240]), Gen.OneOf(Gen.Int[1, 1440], Gen.Int[1, 120]), Gen.Int[1, 127], (start, length, mask) =>
        {
            var end = Math.Min(1440, start + length);
            var days = Enumerable.Range(0, 7).Where(d => (mask & (1 << d)) != 0).Select(d => (DayOfWeek)d).ToHashSet();
            return new SendingWindow(start, end, days);
        });

    private static readonly Gen<StepSchedule> Schedule =
        Gen.Select(Gen.OneOf(ZoneIds), Gen.OneOf(CountryCodes), Window,
            (zone, country, window) => new StepSchedule(TimeZoneInfo.FindSystemTimeZoneById(zone), country, window, PublicHolidayCalendar.Instance));

    private static string Show(StepSchedule s) => $"{s.Zone.Id} {s.Country ?? "-"} [{s.Window.StartMinute},{s.Window.EndMinute}) {s.Window.FormatDays()}";

    private static DateTimeOffset NextMinute(DateTimeOffset at)
        => new DateTimeOffset(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerMinute), TimeSpan.Zero).AddMinutes(1);

    private static DateOnly LocalDate(DateTimeOffset at, TimeZoneInfo zone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, zone).DateTime);

    [Fact]
    public void Place_IsAllowedDeterministicAndTheFirstOpening()
    {
        Gen.Select(Schedule.SelectMany(s => InstantIn(s.Zone).Select(at => (s, at))), Gen.Int[0, 1000])
            .Select(t => (t.Item1.s, t.Item1.at, t.Item2)).Sample((schedule, wanted, key) =>
        {
            var jitterKey = $"enrollment-{key}";
            var placement = Scheduler.Place(wanted, schedule, jitterKey);

            Assert.Equal(WaitReasons.None, Scheduler.Check(placement.At, schedule));
            Assert.True(placement.At >= wanted);
            Assert.Equal(placement, Scheduler.Place(wanted, schedule, jitterKey));

            var asked = Scheduler.Check(wanted, schedule);
            if (asked == WaitReasons.None)
            {
                Assert.Equal(new Placement(wanted, WaitReasons.None), placement);
                return;
            }

            // Allowed regions start on whole minutes: probing each minute after `wanted` finds the opening (whole local
            // days that are not sending days are skipped: Check refuses every instant of them).
            var day = new MailboxLimits(1, null, TimeSpan.Zero, null, schedule.Zone);
            var probe = NextMinute(wanted);
            while (probe < placement.At && Scheduler.Check(probe, schedule) is var refused && refused != WaitReasons.None)
            {
                probe = refused == WaitReasons.Window ? probe.AddMinutes(1) : NextMinute(MailboxCapacity.DayOf(day, probe).End.AddTicks(-1));
            }

            var opening = probe;
            // The jitter spans that day's window, an hour longer when a fall-back repeats part of it (e.g. Chatham, 5 April 2026).
            Assert.True(placement.At - opening < schedule.Window.Length + TimeSpan.FromHours(1), $"jitter {placement.At - opening} beyond the window from the first opening {opening:O}");
            Assert.Equal(LocalDate(opening, schedule.Zone), LocalDate(placement.At, schedule.Zone));
            for (var t = opening; t < placement.At; t = t.AddMinutes(1))
            {
                Assert.Equal(WaitReasons.None, Scheduler.Check(t, schedule));
            }

            // Reasons: why `wanted` was refused, plus every day skipped on the way.
            var expected = asked;
            for (var d = LocalDate(wanted, schedule.Zone).AddDays(1); d < LocalDate(placement.At, schedule.Zone); d = d.AddDays(1))
            {
                expected |= schedule.DayReasons(d);
            }

            Assert.Equal(expected & ~WaitReasons.Window, placement.Reasons & ~WaitReasons.Window);
            Assert.True((placement.Reasons & asked) == asked);
        }, iter: 300, print: t => $"{Show(t.Item1)} wanted {t.Item2:O} key {t.Item3}");
    }

    [Fact]
    public void AddBusinessDays_LandsOnASendingDayAfterExactlyThatMany()
    {
        var timeOfDay = Gen.Select(Gen.Bool, Gen.Int[0, (24 * 60) - 1], (given, minute) => given ? TimeSpan.FromMinutes(minute) : (TimeSpan?)null);
        Gen.Select(Schedule.SelectMany(s => InstantIn(s.Zone).Select(at => (s, at))), Gen.Int[0, 15], timeOfDay)
            .Select(t => (t.Item1.s, t.Item1.at, t.Item2, t.Item3)).Sample((schedule, from, days, tod) =>
        {
            var result = Scheduler.AddBusinessDays(from, days, tod, schedule);

            var zone = schedule.Zone;
            var start = LocalDate(from, zone);
            var landed = LocalDate(result, zone);
            Assert.True(schedule.IsSendingDay(landed), $"{landed} is not a sending day");
            var counted = 0;
            for (var d = start.AddDays(1); d <= landed; d = d.AddDays(1))
            {
                counted += schedule.IsSendingDay(d) ? 1 : 0;
            }

            if (days == 0)
            {
                Assert.True(landed >= start);
                Assert.Equal(landed == start ? 0 : 1, counted);
            }
            else
            {
                Assert.Equal(days, counted);
            }

            // The earliest instant showing the wanted local time (or, in a gap, the first one after it) on that day.
            var wantedLocal = landed.ToDateTime(TimeOnly.MinValue) + (tod ?? TimeZoneInfo.ConvertTime(from, zone).TimeOfDay);
            var local = TimeZoneInfo.ConvertTime(result, zone).DateTime;
            Assert.True(local >= wantedLocal, $"{local} before {wantedLocal}");
            if (local != wantedLocal)
            {
                Assert.True(zone.GetUtcOffset(result.AddTicks(-1)) != zone.GetUtcOffset(result), $"{local} is not the end of a gap at {wantedLocal}");
                Assert.True(local - wantedLocal <= TimeSpan.FromHours(2));
            }

            for (var back = 1; back <= 12; back++)
            {
                var earlier = TimeZoneInfo.ConvertTime(result - TimeSpan.FromMinutes(15 * back), zone).DateTime;
                Assert.True(earlier < wantedLocal, $"{earlier}, {15 * back} min earlier, already shows {wantedLocal}");
            }
        }, iter: 300, print: t => $"{Show(t.Item1)} from {t.Item2:O} days {t.Item3} at {t.Item4}");
    }

    [Fact]
    public void DayOf_ContainsTheInstant_AndDaysTileTheTimeline()
    {
        Gen.OneOf(ZoneIds).SelectMany(id => InstantIn(TimeZoneInfo.FindSystemTimeZoneById(id)).Select(at => (id, at))).Sample((zoneId, at) =>
        {
            var limits = new MailboxLimits(10, null, TimeSpan.Zero, null, TimeZoneInfo.FindSystemTimeZoneById(zoneId));
            var (start, end) = MailboxCapacity.DayOf(limits, at);

            Assert.True(start <= at && at < end, $"{at:O} not in [{start:O}, {end:O})");
            var date = LocalDate(at, limits.Zone);
            Assert.Equal(date, LocalDate(start, limits.Zone));
            Assert.Equal(date, LocalDate(end.AddTicks(-1), limits.Zone));
            Assert.Equal(date.AddDays(1), LocalDate(end, limits.Zone));
            Assert.Equal(end, MailboxCapacity.DayOf(limits, end).Start);
            Assert.InRange(end - start, TimeSpan.FromHours(22), TimeSpan.FromHours(26));
        }, iter: 1000, print: t => $"{t.Item1} {t.Item2:O}");
    }

    private sealed record Claims(MailboxLimits Limits, DateTimeOffset Start, int[] StepSeconds, int[] Demand)
    {
        public override string ToString()
            => $"cap {Limits.DailyCap} hourly {Limits.HourlyCap} gap {Limits.MinGap} ramp {Limits.Ramp} zone {Limits.Zone.Id} start {Start:O} steps [{string.Join(',', StepSeconds)}] demand [{string.Join(',', Demand)}]";
    }

    private static readonly Gen<MailboxLimits> Limits =
        Gen.Select(Gen.Int[1, 30], Gen.Int[0, 12], Gen.OneOf(0, 1, 3, 7, 20), Gen.Select(Gen.Bool, Gen.Int[1, 6], Gen.Int[0, 6], Gen.Int[-3, 3]), Gen.OneOf(ZoneIds),
            (daily, hourly, gap, ramp, zone) => new MailboxLimits(
                daily,
                hourly == 0 ? null : hourly,
                TimeSpan.FromMinutes(gap),
                ramp.Item1 ? new RampUp(ramp.Item2, ramp.Item3, Epoch.AddDays(ramp.Item4)) : null, // StartedAt relative to Epoch, moved per run
                TimeZoneInfo.FindSystemTimeZoneById(zone)));

    // Runs start anywhere in 2026–2028 or near an offset change of the mailbox's zone; the ramp starts a few days around.
    private static readonly Gen<Claims> ClaimRuns =
        Limits.SelectMany(limits => Gen.Select(InstantIn(limits.Zone), Gen.Int[0, 90 * 60].Array[150], Gen.Int[0, 6].Array[150],
            (start, steps, demand) => new Claims(
                limits with { Ramp = limits.Ramp is { } ramp ? ramp with { StartedAt = start - TimeSpan.FromHours(24) + (ramp.StartedAt - Epoch) } : null },
                start - TimeSpan.FromHours(24), steps, demand)));

    // What a claim at `now` sees (the slots are ascending and none is after `now`).
    private static Capacity CapacityAt(MailboxLimits limits, DateTimeOffset now, List<DateTimeOffset> slots)
    {
        var (dayStart, _) = MailboxCapacity.DayOf(limits, now);
        var usedToday = slots.Count - FirstAtOrAfter(slots, dayStart);
        var hourFrom = FirstAtOrAfter(slots, now - TimeSpan.FromHours(1) + TimeSpan.FromTicks(1));
        return MailboxCapacity.At(limits, now, usedToday, slots.GetRange(hourFrom, slots.Count - hourFrom), slots.Count > 0 ? slots[^1] : null);
    }

    private static int FirstAtOrAfter(List<DateTimeOffset> ascending, DateTimeOffset at)
    {
        var (low, high) = (0, ascending.Count);
        while (low < high)
        {
            var mid = (low + high) / 2;
            (low, high) = ascending[mid] < at ? (mid + 1, high) : (low, mid);
        }

        return low;
    }

    [Fact]
    public void Capacity_ClaimSimulation_NeverExceedsCapsNorGap_AndFreeAtFrees()
    {
        ClaimRuns.Sample(run =>
        {
            var limits = run.Limits;
            var slots = new List<DateTimeOffset>();
            var now = run.Start;
            for (var i = 0; i < run.StepSeconds.Length; i++)
            {
                now += TimeSpan.FromSeconds(run.StepSeconds[i]);
                var capacity = CapacityAt(limits, now, slots);
                Assert.True(capacity.Available >= 0);
                if (capacity.Available > 0)
                {
                    Assert.Equal((null, WaitReasons.None), (capacity.FreeAt, capacity.Limit));
                    slots.AddRange(Enumerable.Repeat(now, Math.Min(capacity.Available, run.Demand[i])));
                    continue;
                }

                Assert.NotEqual(WaitReasons.None, capacity.Limit);
                var freeAt = Assert.NotNull(capacity.FreeAt);
                Assert.True(freeAt > now);
                Assert.True(CapacityAt(limits, freeAt, slots).Available >= 1, $"nothing free at {freeAt:O} ({capacity.Limit})");
                Assert.Equal(0, CapacityAt(limits, freeAt.AddTicks(-1), slots).Available);
            }

            foreach (var day in slots.GroupBy(s => LocalDate(s, limits.Zone)))
            {
                Assert.True(day.Count() <= MailboxCapacity.DailyCapOn(limits, day.Key), $"{day.Count()} sends on {day.Key}");
            }

            if (limits.HourlyCap is { } hourly)
            {
                // Any rolling hour holding more than the cap would hold it from one of its slots on.
                for (int i = 0, j = 0; i < slots.Count; i++)
                {
                    while (j < slots.Count && slots[j] < slots[i] + TimeSpan.FromHours(1))
                    {
                        j++;
                    }

                    Assert.True(j - i <= hourly, $"{j - i} > {hourly} in the hour from {slots[i]:O}");
                }
            }

            if (limits.MinGap > TimeSpan.Zero)
            {
                for (var i = 1; i < slots.Count; i++)
                {
                    Assert.True(slots[i] - slots[i - 1] >= limits.MinGap, $"gap {slots[i] - slots[i - 1]} at {slots[i]:O}");
                }
            }
        }, iter: 200);
    }
}
