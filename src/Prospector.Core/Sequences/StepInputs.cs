using System.Text.Json;
using Prospector.Core.Templates;

namespace Prospector.Core.Sequences;

/// <summary>The prospect as a step sees it (template values and branch fields), whatever store it came from.</summary>
public sealed record ProspectSnapshot(
    Guid Id,
    string? Email,
    string? FirstName,
    string? LastName,
    string? Title,
    string? LinkedInUrl,
    string? Phone,
    string? Country,
    string? Company,
    string? CompanyDomain,
    IReadOnlyDictionary<string, string> Custom,
    string? OwnerName,
    string? OwnerEmail);

/// <summary>The sending mailbox as templates see it.</summary>
public sealed record SenderSnapshot(string Name, string? Email, string? Signature);

/// <summary>
/// One place that turns a prospect, its sender and its enrollment history into what steps run with: the template
/// model and the branch facts. Live dispatch and preview both use it, so a preview shows what will be sent.
/// </summary>
public static class StepInputs
{
    // Event types as stored in enrollment_events (and the replied state) that branch conditions test.
    private static readonly Dictionary<string, BranchEvent> FactEvents = new(StringComparer.Ordinal)
    {
        [EnrollmentStates.Replied] = BranchEvent.Replied,
        ["opened"] = BranchEvent.Opened,
        ["clicked"] = BranchEvent.Clicked,
        ["linkedin_connected"] = BranchEvent.LinkedInConnected,
    };

    /// <summary>The spintax key of a step for a prospect: the same text on every render, preview or live.</summary>
    public static string SpinKey(Guid prospectId, string stepId) => $"{prospectId}:{stepId}";

    /// <summary>Custom fields stored as a JSON object; non-string values keep their JSON text.</summary>
    public static IReadOnlyDictionary<string, string> ParseCustom(string? json)
    {
        var custom = new Dictionary<string, string>(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(json) ? "{}" : json);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            return custom;
        }

        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            {
                custom[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
            }
        }

        return custom;
    }

    /// <summary>The template model for a prospect and its sender.</summary>
    public static TemplateModel Model(ProspectSnapshot p, SenderSnapshot sender) => new(
        p.Email, p.FirstName, p.LastName, p.Company, p.CompanyDomain, p.Custom, sender.Name)
    {
        ProspectId = p.Id,
        Title = p.Title,
        LinkedInUrl = p.LinkedInUrl,
        Phone = p.Phone,
        Country = p.Country,
        OwnerName = p.OwnerName,
        OwnerEmail = p.OwnerEmail,
        SenderEmail = sender.Email,
        Signature = sender.Signature,
    };

    /// <summary>The facts a branch tests: events that happened (by stored type name), email found, and the prospect's fields.</summary>
    public static EnrollmentFacts Facts(ProspectSnapshot p, IEnumerable<string> eventTypes, params BranchEvent[] extra)
    {
        var events = new HashSet<BranchEvent>(extra);
        foreach (var type in eventTypes)
        {
            if (FactEvents.TryGetValue(type, out var e))
            {
                events.Add(e);
            }
        }

        if (!string.IsNullOrWhiteSpace(p.Email))
        {
            events.Add(BranchEvent.EmailFound);
        }

        var fields = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["first_name"] = p.FirstName,
            ["last_name"] = p.LastName,
            ["email"] = p.Email,
            ["title"] = p.Title,
            ["phone"] = p.Phone,
            ["country"] = p.Country,
            ["linkedin_url"] = p.LinkedInUrl,
            ["company"] = p.Company,
            ["company_domain"] = p.CompanyDomain,
        };
        foreach (var (name, value) in p.Custom)
        {
            fields["custom." + name] = value;
        }

        return new EnrollmentFacts(events, fields);
    }
}
