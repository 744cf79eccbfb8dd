using System.Text.RegularExpressions;

namespace Prospector.Core.Prospects;

/// <summary>Checks and cleans one prospect's fields; shared by the JSON and CSV imports.</summary>
public static partial class ProspectValidation
{
    /// <summary>The standard columns; any other column becomes a custom field.</summary>
    public static readonly IReadOnlyList<string> StandardFields = ["email", "first_name", "last_name", "company", "company_domain", "time_zone"];

    private const int MaxFieldLength = 500;
    private const int MaxCustomFields = 50;

    /// <summary>Validates raw values; returns the cleaned prospect or the errors, with paths under <paramref name="path"/>.</summary>
    public static (ProspectInput? Prospect, IReadOnlyList<ValidationError> Errors) Validate(
        string path, string? email, string? firstName, string? lastName, string? company, string? companyDomain, string? timeZone,
        IReadOnlyDictionary<string, string>? custom)
    {
        var errors = new List<ValidationError>();
        email = Clean(email);
        if (email is null)
        {
            errors.Add(new($"{path}email", "is required"));
        }
        else if (!EmailAddress.IsValid(email))
        {
            errors.Add(new($"{path}email", "is not a valid email address"));
        }

        foreach (var (name, value) in new[] { ("first_name", firstName), ("last_name", lastName), ("company", company), ("company_domain", companyDomain), ("time_zone", timeZone) })
        {
            CheckText($"{path}{name}", value, errors);
        }

        companyDomain = Clean(companyDomain)?.ToLowerInvariant();
        if (companyDomain is not null && !DomainPattern().IsMatch(companyDomain))
        {
            errors.Add(new($"{path}company_domain", "is not a domain name (example.com)"));
        }

        timeZone = Clean(timeZone);
        if (timeZone is not null && !TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out _))
        {
            errors.Add(new($"{path}time_zone", $"unknown IANA time zone '{timeZone}'"));
        }

        var cleanCustom = new Dictionary<string, string>(StringComparer.Ordinal);
        if (custom is not null)
        {
            if (custom.Count > MaxCustomFields)
            {
                errors.Add(new($"{path}custom", $"at most {MaxCustomFields} custom fields"));
            }

            foreach (var (key, value) in custom)
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
        }

        return errors.Count > 0
            ? (null, errors)
            : (new ProspectInput(email!, Clean(firstName), Clean(lastName), Clean(company), companyDomain, timeZone, cleanCustom), errors);
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

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    [GeneratedRegex(@"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex DomainPattern();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex FieldNamePattern();
}
