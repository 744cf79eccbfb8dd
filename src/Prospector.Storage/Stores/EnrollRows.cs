using System.Text.Json;

namespace Prospector.Storage.Stores;

/// <summary>
/// What to enroll: prospects (a list, or an audience), into which sequence version, sent from which mailbox pool, owned
/// by whom, and what every prospect must have for the steps of that version.
/// </summary>
/// <param name="WorkspaceId">The caller's workspace; prospects of other workspaces are "not found".</param>
/// <param name="SequenceId">The sequence.</param>
/// <param name="SequenceVersion">The version the enrollments run on.</param>
/// <param name="MailboxPool">Mailboxes to rotate over (already checked to be the workspace's, active), in the caller's order.</param>
/// <param name="FirstStep">The index of the first actionable step.</param>
/// <param name="FirstDueAt">When it is due.</param>
/// <param name="Now">The enroll time.</param>
public sealed record EnrollPlan(
    Guid WorkspaceId, Guid SequenceId, int SequenceVersion, IReadOnlyList<Guid> MailboxPool, int FirstStep, DateTimeOffset FirstDueAt, DateTimeOffset Now)
{
    /// <summary>The kind of the first step (<see cref="Prospector.Core.Sequences.StepChannels"/>): only email steps wait for a mailbox slot.</summary>
    public string FirstChannel { get; init; } = Prospector.Core.Sequences.StepChannels.Email;

    /// <summary>The prospects to enroll (duplicates ignored), when no audience is given.</summary>
    public IReadOnlyList<Guid>? ProspectIds { get; init; }

    /// <summary>An audience of the workspace whose members are enrolled.</summary>
    public Guid? AudienceId { get; init; }

    /// <summary>The owner of every enrollment; null: each prospect's own owner.</summary>
    public Guid? OwnerId { get; init; }

    /// <summary>Skip prospects active or paused in another sequence; null: the workspace setting (skip unless allowed).</summary>
    public bool? SkipActiveInOtherSequences { get; init; }

    /// <summary>The version has email steps: prospects without an email are skipped.</summary>
    public bool NeedsEmail { get; init; }

    /// <summary>The version has LinkedIn steps: prospects without a LinkedIn URL are skipped.</summary>
    public bool NeedsLinkedInUrl { get; init; }

    /// <summary>Prospect variables the templates use without a default (<c>first_name</c>, <c>custom.industry</c>, …).</summary>
    public IReadOnlyList<string> RequiredFields { get; init; } = [];
}

/// <summary>The prospect fields enrolling checks.</summary>
public sealed class EnrollProspectRow
{
    private Dictionary<string, string?>? _custom;

    public Guid Id { get; init; }
    public string? Email { get; init; }
    public string? LinkedinUrl { get; init; }
    public Guid? CompanyId { get; init; }
    public Guid? OwnerId { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Title { get; init; }
    public string? Phone { get; init; }
    public string? Country { get; init; }
    public string? Company { get; init; }
    public string? CompanyDomain { get; init; }
    public string CustomFields { get; init; } = "{}";

    /// <summary>True for template variables that are prospect data (checked per prospect when enrolling).</summary>
    public static bool IsProspectField(string name)
        => name is "first_name" or "last_name" or "email" or "title" or "phone" or "country" or "linkedin_url"
            or "company" or "company.name" or "company_domain" or "company.domain"
        || (name.StartsWith("custom.", StringComparison.Ordinal) && name.Length > "custom.".Length);

    /// <summary>The value of a prospect variable by its template name; null for names that are not prospect data.</summary>
    public string? Field(string name) => name switch
    {
        "first_name" => FirstName,
        "last_name" => LastName,
        "email" => Email,
        "title" => Title,
        "phone" => Phone,
        "country" => Country,
        "linkedin_url" => LinkedinUrl,
        "company" or "company.name" => Company,
        "company_domain" or "company.domain" => CompanyDomain,
        _ when name.StartsWith("custom.", StringComparison.Ordinal) => Custom().GetValueOrDefault(name["custom.".Length..]),
        _ => null,
    };

    private Dictionary<string, string?> Custom()
    {
        if (_custom is null)
        {
            _custom = new Dictionary<string, string?>(StringComparer.Ordinal);
            using var json = JsonDocument.Parse(string.IsNullOrWhiteSpace(CustomFields) ? "{}" : CustomFields);
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in json.RootElement.EnumerateObject())
                {
                    _custom[property.Name] = property.Value.ValueKind switch
                    {
                        JsonValueKind.String => property.Value.GetString(),
                        JsonValueKind.Null or JsonValueKind.Undefined => null,
                        _ => property.Value.GetRawText(),
                    };
                }
            }
        }

        return _custom;
    }
}
