namespace Prospector.Core.Prospects;

/// <summary>One prospect as imported (JSON item or CSV row), already validated.</summary>
public sealed record ProspectInput(
    string Email,
    string? FirstName,
    string? LastName,
    string? Company,
    string? CompanyDomain,
    string? TimeZone,
    IReadOnlyDictionary<string, string> Custom);
