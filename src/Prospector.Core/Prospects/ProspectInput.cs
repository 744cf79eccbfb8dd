namespace Prospector.Core.Prospects;

/// <summary>One prospect as imported (JSON item, CSV row or NDJSON line), already validated and cleaned.</summary>
/// <remarks>At least one of <see cref="Email"/> and <see cref="LinkedinUrl"/> is present.</remarks>
public sealed record ProspectInput(
    string? Email,
    string? LinkedinUrl,
    string? FirstName,
    string? LastName,
    string? Title,
    string? Phone,
    string? Company,
    string? CompanyDomain,
    string? Country,
    string? TimeZone,
    Guid? OwnerId,
    IReadOnlyDictionary<string, string> Custom)
{
    /// <summary>The dedup key on email, or null.</summary>
    public string? EmailNormalized => Email is null ? null : EmailAddress.Normalize(Email);

    /// <summary>The dedup key on LinkedIn (<c>linkedin.com/in/slug</c>), or null.</summary>
    public string? LinkedinNormalized => LinkedinUrl is null ? null : LinkedInUrl.Normalize(LinkedinUrl);

    /// <summary>The company's domain: <see cref="CompanyDomain"/>, else the email's domain unless it is a free-mail provider.</summary>
    public string? CompanyKey => CompanyDomain
        ?? (Email is not null && EmailAddress.Domain(Email) is var domain && !FreeMailDomains.IsFreeMail(domain) ? domain : null);
}

/// <summary>Raw values of one prospect before validation, keyed by standard field name (see <see cref="ProspectFields"/>).</summary>
public sealed class RawProspect
{
    /// <summary>Standard fields (email, first_name, ...), as given.</summary>
    public Dictionary<string, string?> Values { get; } = new(StringComparer.Ordinal);

    /// <summary>Custom fields, as given.</summary>
    public Dictionary<string, string> Custom { get; } = new(StringComparer.Ordinal);

    /// <summary>A standard field's value or null.</summary>
    public string? this[string field]
    {
        get => Values.TryGetValue(field, out var v) ? v : null;
        set => Values[field] = value;
    }
}
