using System.Text.RegularExpressions;

namespace Prospector.Core.Prospects;

/// <summary>Checks and cleans one prospect's fields; shared by the JSON API and the CSV/JSON/NDJSON imports.</summary>
public static partial class ProspectValidation
{
    private const int MaxFieldLength = 500;
    private const int MaxCustomFields = 50;

    private static readonly string[] TextFields = ["first_name", "last_name", "title", "phone", "company", "company_domain", "country", "time_zone", "email", "linkedin_url"];

    /// <summary>
    /// Validates raw values; returns the cleaned prospect or every error, with paths under <paramref name="path"/>
    /// (snake_case field names). Owner existence is the caller's check (it needs the database).
    /// </summary>
    public static (ProspectInput? Prospect, IReadOnlyList<ValidationError> Errors) Validate(string path, RawProspect raw)
    {
        var errors = new List<ValidationError>();
        foreach (var field in TextFields)
        {
            CheckText($"{path}{field}", raw[field], errors);
        }

        var email = Clean(raw["email"]);
        var linkedin = Clean(raw["linkedin_url"]);
        if (email is null && linkedin is null)
        {
            errors.Add(new($"{path}email", "is required (or a linkedin_url)"));
        }

        if (email is not null && !EmailAddress.IsValid(email))
        {
            errors.Add(new($"{path}email", "is not a valid email address"));
        }

        if (linkedin is not null && LinkedInUrl.TryNormalize(linkedin) is null)
        {
            errors.Add(new($"{path}linkedin_url", "is not a LinkedIn profile URL (linkedin.com/in/...)"));
        }

        var companyDomain = Clean(raw["company_domain"]) is { } d ? DomainOf(d) : null;
        if (companyDomain is not null && !DomainPattern().IsMatch(companyDomain))
        {
            errors.Add(new($"{path}company_domain", "is not a domain name (example.com)"));
        }

        var country = Clean(raw["country"]);
        if (country is not null && Countries.Normalize(country) is null)
        {
            errors.Add(new($"{path}country", "is not an ISO 3166-1 alpha-2 country code (FR, US, ...)"));
        }

        var timeZone = Clean(raw["time_zone"]);
        if (timeZone is not null && !TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out _))
        {
            errors.Add(new($"{path}time_zone", $"unknown IANA time zone '{timeZone}'"));
        }

        var phone = Clean(raw["phone"]);
        if (phone is not null && !PhonePattern().IsMatch(phone))
        {
            errors.Add(new($"{path}phone", "is not a phone number (digits, spaces, + ( ) . - /, optional extension)"));
        }

        Guid? ownerId = null;
        if (Clean(raw["owner_id"]) is { } owner)
        {
            if (Guid.TryParse(owner, out var parsed))
            {
                ownerId = parsed;
            }
            else
            {
                errors.Add(new($"{path}owner_id", "is not an owner id"));
            }
        }

        var cleanCustom = new Dictionary<string, string>(StringComparer.Ordinal);
        if (raw.Custom.Count > MaxCustomFields)
        {
            errors.Add(new($"{path}custom", $"at most {MaxCustomFields} custom fields"));
        }

        foreach (var (key, value) in raw.Custom)
        {
            if (!FieldNamePattern().IsMatch(key))
            {
                errors.Add(new($"{path}custom.{key}", "field names are 1-64 letters, digits or '_', starting with a letter"));
                continue;
            }

            CheckText($"{path}custom.{key}", value, errors);
            if (Clean(value) is { } v)
            {
                cleanCustom[key] = v;
            }
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        return (new ProspectInput(
            email, linkedin, Clean(raw["first_name"]), Clean(raw["last_name"]), Clean(raw["title"]), phone, Clean(raw["company"]),
            companyDomain, country is null ? null : Countries.Normalize(country), timeZone, ownerId, cleanCustom), errors);
    }

    /// <summary>Shorthand for the JSON API and tests: validates the standard fields given as arguments.</summary>
    public static (ProspectInput? Prospect, IReadOnlyList<ValidationError> Errors) Validate(
        string path, string? email, string? firstName, string? lastName, string? company, string? companyDomain, string? timeZone,
        IReadOnlyDictionary<string, string>? custom, string? linkedinUrl = null, string? title = null, string? phone = null,
        string? country = null, Guid? ownerId = null)
    {
        var raw = new RawProspect
        {
            ["email"] = email, ["first_name"] = firstName, ["last_name"] = lastName, ["company"] = company,
            ["company_domain"] = companyDomain, ["time_zone"] = timeZone, ["linkedin_url"] = linkedinUrl, ["title"] = title,
            ["phone"] = phone, ["country"] = country, ["owner_id"] = ownerId?.ToString(),
        };
        foreach (var (key, value) in custom ?? new Dictionary<string, string>())
        {
            raw.Custom[key] = value;
        }

        return Validate(path, raw);
    }

    private static void CheckText(string path, string? value, List<ValidationError> errors)
    {
        if (value is null)
        {
            return;
        }

        if (value.Length > MaxFieldLength)
        {
            errors.Add(new(path, $"at most {MaxFieldLength} characters"));
        }
        else if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            // Prospect fields end up in subjects and headers: line breaks there are header injection.
            errors.Add(new(path, "must not contain line breaks or NUL"));
        }
    }

    // "https://www.acme.com/about" and "ACME.com" both mean acme.com: spreadsheets hold websites in the domain column.
    private static string DomainOf(string value)
    {
        var d = value.ToLowerInvariant();
        var scheme = d.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            d = d[(scheme + 3)..];
            var slash = d.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0)
            {
                d = d[..slash];
            }
        }

        return d.StartsWith("www.", StringComparison.Ordinal) ? d[4..] : d;
    }

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    [GeneratedRegex(@"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex DomainPattern();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex FieldNamePattern();

    [GeneratedRegex(@"^(?=(?:\D*\d){3})\+?[0-9 ()./-]{3,40}(\s*(x|ext\.?)\s*[0-9]{1,6})?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PhonePattern();
}
