using Prospector.Core.Scheduling;

namespace Prospector.Core.Tests.Scheduling;

public class PublicHolidayCalendarTests
{
    private static readonly PublicHolidayCalendar Calendar = PublicHolidayCalendar.Instance;

    [Theory]
    [InlineData("FR", "2026-07-14")]
    [InlineData("fr", "2026-07-14")]
    [InlineData(" FR ", "2026-01-01")]
    [InlineData("US", "2026-11-26")] // Thanksgiving
    [InlineData("US", "2026-07-03")] // Independence Day observed on Friday
    [InlineData("US", "2026-07-04")]
    [InlineData("GB", "2026-12-25")]
    [InlineData("GB", "2026-12-28")] // Boxing Day substitute
    [InlineData("GB", "2027-12-27")] // Christmas substitute
    [InlineData("DE", "2026-10-03")]
    [InlineData("PL", "2026-11-11")]
    public void Holiday_Named_WhenPublicHoliday(string country, string date)
    {
        Assert.False(string.IsNullOrWhiteSpace(Calendar.Holiday(country, DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture))));
    }

    [Theory]
    [InlineData("FR", "2026-07-15")]
    [InlineData("US", "2026-07-14")]
    [InlineData("GB", "2026-12-29")]
    [InlineData("XX", "2026-01-01")] // not a country
    [InlineData("AQ", "2026-01-01")] // a country the package does not cover
    [InlineData(null, "2026-01-01")]
    [InlineData("", "2026-01-01")]
    public void Holiday_Null_WhenNotAHolidayOrUnknownCountry(string? country, string date)
    {
        Assert.Null(Calendar.Holiday(country, DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Holiday_NamesTheHoliday()
    {
        Assert.Equal("Thanksgiving", Calendar.Holiday("US", new DateOnly(2026, 11, 26)));
        Assert.Equal("Boxing Day", Calendar.Holiday("GB", new DateOnly(2026, 12, 28)));
    }

    [Fact]
    public void SupportedCountries_AreUpperCaseIsoCodes()
    {
        var supported = PublicHolidayCalendar.SupportedCountries;

        Assert.Contains("FR", supported);
        Assert.Contains("GB", supported);
        Assert.Contains("US", supported);
        Assert.Contains("PL", supported);
        Assert.DoesNotContain("PO", supported);
        Assert.All(supported, code => Assert.Equal(code, Prospector.Core.Prospects.Countries.Normalize(code)));
        Assert.All(supported, code => Assert.Contains(Enumerable.Range(0, 366).Select(d => new DateOnly(2027, 1, 1).AddDays(d)), d => Calendar.Holiday(code, d) is not null));
    }

    [Fact]
    public void Holiday_IsThreadSafe()
    {
        var calendar = new PublicHolidayCalendar();
        var results = new string?[400];
        Parallel.For(0, results.Length, i => results[i] = calendar.Holiday(i % 2 == 0 ? "FR" : "US", new DateOnly(2030 + (i % 5), 1, 1)));

        Assert.All(results, r => Assert.NotNull(r));
    }
}
