using Prospector.Core.Scheduling;

namespace Prospector.Core.Tests.Scheduling;

internal static class SchedulingKit
{
    public static TimeZoneInfo Zone(string id) => TimeZoneInfo.FindSystemTimeZoneById(id);

    /// <summary>An unambiguous, existing local wall-clock time in <paramref name="zone"/> as an instant.</summary>
    public static DateTimeOffset Local(TimeZoneInfo zone, int year, int month, int day, int hour, int minute = 0)
    {
        var local = new DateTime(year, month, day, hour, minute, 0, DateTimeKind.Unspecified);
        Assert.False(zone.IsInvalidTime(local) || zone.IsAmbiguousTime(local), $"{local} is not a plain local time in {zone.Id}");
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    public static DateTimeOffset Utc(int year, int month, int day, int hour, int minute = 0, int second = 0)
        => new(year, month, day, hour, minute, second, TimeSpan.Zero);

    public static DateTime LocalOf(DateTimeOffset at, TimeZoneInfo zone) => TimeZoneInfo.ConvertTime(at, zone).DateTime;

    public static StepSchedule Schedule(string zone, string? country, SendingWindow? window = null)
        => new(Zone(zone), country, window ?? SendingWindow.Default, PublicHolidayCalendar.Instance);
}
