using System.Collections.Concurrent;
using System.Collections.Frozen;
using Prospector.Core.Prospects;
using PublicHoliday;

namespace Prospector.Core.Scheduling;

/// <summary>
/// Public holidays from the PublicHoliday package, by ISO 3166-1 alpha-2 code (any case). A date is a holiday when the
/// package lists it as a national public or bank holiday of the country for that year, on its own date or on its
/// observed (substitute) date, e.g. GB Boxing Day 2026 observed on Monday 28 December, US Independence Day 2026 on both
/// Saturday 4 and Friday 3 July. Regional holidays are left out. Countries the package does not cover have no holidays.
/// Each (country, year) is computed once and cached; thread-safe.
/// </summary>
public sealed class PublicHolidayCalendar : IHolidayCalendar
{
    private static readonly FrozenDictionary<string, PublicHolidayCountryCode> Codes = Enum.GetValues<PublicHolidayCountryCode>()
        .Where(c => c != PublicHolidayCountryCode.Po) // the package's old, wrong code for Poland (PL is also listed)
        .ToFrozenDictionary(c => c.ToString().ToUpperInvariant(), StringComparer.Ordinal);

    private readonly ConcurrentDictionary<(string Country, int Year), Lazy<FrozenDictionary<DateOnly, string>>> cache = new();

    /// <summary>The shared instance (its cache is process-wide).</summary>
    public static PublicHolidayCalendar Instance { get; } = new();

    /// <summary>The upper-case ISO 3166-1 alpha-2 codes with holidays.</summary>
    public static IReadOnlyCollection<string> SupportedCountries { get; } = Codes.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <inheritdoc />
    public string? Holiday(string? country, DateOnly date)
    {
        var code = country;
        if (code is null || (!Codes.ContainsKey(code) && (Countries.Normalize(code) is not { } normal || !Codes.ContainsKey(code = normal))))
        {
            return null;
        }

        var year = cache.GetOrAdd((code, date.Year), key => new Lazy<FrozenDictionary<DateOnly, string>>(() => Load(key.Country, key.Year)));
        return year.Value.GetValueOrDefault(date);
    }

    private static FrozenDictionary<DateOnly, string> Load(string country, int year)
    {
        // A fresh calculator per load: the package's own per-instance cache is not documented as thread-safe.
        var calendar = PublicHolidayFactory.GetPublicHolidayForCountry(Codes[country]);
        var days = new Dictionary<DateOnly, string>();

        // Neighbouring years too: a holiday can be observed in the year before or after its own (US New Year 2022 on
        // Friday 31 December 2021).
        for (var y = year - 1; y <= year + 1; y++)
        {
            foreach (var (date, name) in calendar.PublicHolidayNames(y))
            {
                Add(days, year, date, name);
            }

            foreach (var holiday in calendar.PublicHolidaysInformation(y).Where(h => h.IsPublic))
            {
                var name = holiday.EnglishName is { Length: > 0 } english ? english : holiday.Name;
                Add(days, year, holiday.ObservedDate, name);
                Add(days, year, holiday.HolidayDate, name);
            }
        }

        return days.ToFrozenDictionary();
    }

    private static void Add(Dictionary<DateOnly, string> days, int year, DateTime date, string? name)
    {
        if (date.Year == year)
        {
            days.TryAdd(DateOnly.FromDateTime(date), string.IsNullOrWhiteSpace(name) ? "Public holiday" : name.Trim());
        }
    }
}
