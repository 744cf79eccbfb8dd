using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Sequences;
using Prospector.Core.Templates;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>
/// Prospects to enroll (<see cref="ProspectIds"/> or <see cref="AudienceId"/>) and the mailbox pool that sends to them
/// (<see cref="MailboxIds"/>; <see cref="MailboxId"/> is the older single-mailbox form). The newest version unless
/// <see cref="Version"/>; the owner is <see cref="OwnerId"/>, else each prospect's own.
/// <see cref="SkipActiveInOtherSequences"/> defaults to the workspace setting (true unless the workspace allows it).
/// </summary>
public sealed record EnrollRequest(
    Guid[]? ProspectIds = null, Guid? AudienceId = null, Guid[]? MailboxIds = null, Guid? MailboxId = null, Guid? OwnerId = null,
    bool? SkipActiveInOtherSequences = null, int? Version = null);

/// <summary>
/// A prospect that was not enrolled, and why: prospect_not_found, suppressed, already_enrolled, active_in_other_sequence,
/// same_company_replied, no_email, no_linkedin_url, missing_field:&lt;variable&gt;.
/// </summary>
public sealed record SkippedProspect(Guid ProspectId, string Reason);

/// <summary>What an enroll call did.</summary>
public sealed record EnrollResponse(int Version, IReadOnlyList<EnrolledProspect> Enrolled, IReadOnlyList<SkippedProspect> Skipped);

/// <summary>One enrolled prospect and the mailbox that sends to it for the whole thread.</summary>
public sealed record EnrolledProspect(Guid ProspectId, Guid EnrollmentId, Guid MailboxId);

/// <summary>POST /api/sequences/{id}/enrollments.</summary>
public static class SequenceEnrollmentsApi
{
    private const int MaxProspectsPerCall = 50_000;
    private const int MaxMailboxes = 100;

    /// <summary>Maps the enroll route on the sequences group.</summary>
    public static RouteGroupBuilder MapSequenceEnrollmentsApi(this RouteGroupBuilder sequences)
    {
        sequences.MapPost("/{id:guid}/enrollments", EnrollAsync);
        return sequences;
    }

    private static async Task<Results<Ok<EnrollResponse>, ValidationProblem, ProblemHttpResult>> EnrollAsync(
        Guid id, EnrollRequest request, HttpContext http, SequenceStore sequences, EnrollmentStore enrollments, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        var sequence = await sequences.GetAsync(workspaceId, id, ct);
        if (sequence is null)
        {
            return Problems.NotFound("sequence");
        }

        if (sequence.State != SequenceStates.Active)
        {
            return SequencesApi.Conflict($"the sequence is {sequence.State}: nothing can be enrolled");
        }

        var errors = new List<ValidationError>();
        switch (request.ProspectIds, request.AudienceId)
        {
            case (null, null):
                errors.Add(new("prospectIds", "give prospectIds or audienceId"));
                break;
            case ({ }, { }):
                errors.Add(new("audienceId", "give prospectIds or audienceId, not both"));
                break;
            case ({ Length: 0 or > MaxProspectsPerCall }, _):
                errors.Add(new("prospectIds", $"give 1 to {MaxProspectsPerCall} prospect ids"));
                break;
        }

        if (request is { ProspectIds: null, AudienceId: { } audienceId } && !await sequences.AudienceExistsAsync(workspaceId, audienceId, ct))
        {
            errors.Add(new("audienceId", "no such audience in this workspace"));
        }

        var pool = await MailboxPoolAsync(request, workspaceId, sequences, errors, ct);
        if (request.OwnerId is { } ownerId && !await sequences.OwnerExistsAsync(workspaceId, ownerId, ct))
        {
            errors.Add(new("ownerId", "no such owner in this workspace"));
        }

        var version = request.Version ?? sequence.Version;
        var stored = await sequences.GetVersionAsync(workspaceId, id, version, ct);
        if (stored is null)
        {
            errors.Add(new("version", $"the sequence has no version {version}"));
        }

        if (errors.Count > 0 || stored is null)
        {
            return Problems.Validation(errors);
        }

        var definition = SequenceParser.Deserialize(stored.Definition);
        var plan = Plan(workspaceId, id, version, definition, pool, clock.GetUtcNow()) with
        {
            ProspectIds = request.ProspectIds,
            AudienceId = request.AudienceId,
            OwnerId = request.OwnerId,
            SkipActiveInOtherSequences = request.SkipActiveInOtherSequences,
        };
        var result = await enrollments.EnrollAsync(plan, ct);
        return TypedResults.Ok(new EnrollResponse(
            version,
            result.Enrolled.Select(e => new EnrolledProspect(e.ProspectId, e.EnrollmentId, e.MailboxId)).ToArray(),
            result.Skipped.Select(s => new SkippedProspect(s.ProspectId, s.Reason)).ToArray()));
    }

    /// <summary>
    /// The plan for enrolling into <paramref name="version"/> at <paramref name="now"/>: first step and due time, and what
    /// every prospect needs. Shared with the simulation, so a dry run enrolls exactly as this route does.
    /// </summary>
    internal static EnrollPlan Plan(Guid workspaceId, Guid sequenceId, int version, SequenceDefinition definition, IReadOnlyList<Guid> pool, DateTimeOffset now)
    {
        var first = SequenceProgress.Next(definition, 0, now);
        return new EnrollPlan(workspaceId, sequenceId, version, pool, first.StepIndex ?? 0, first.DueAt, now)
        {
            FirstChannel = first.Channel ?? StepChannels.Email,
            NeedsEmail = definition.Steps.Any(s => s is EmailStep),
            NeedsLinkedInUrl = definition.Steps.Any(s => s is LinkedInVisitStep or LinkedInInviteStep or LinkedInMessageStep),
            RequiredFields = RequiredFields(definition),
        };
    }

    private static async Task<List<Guid>> MailboxPoolAsync(
        EnrollRequest request, Guid workspaceId, SequenceStore sequences, List<ValidationError> errors, CancellationToken ct)
    {
        if (request.MailboxIds is not null && request.MailboxId is not null)
        {
            errors.Add(new("mailboxId", "give mailboxIds (a pool) or mailboxId, not both"));
            return [];
        }

        var (ids, path) = request.MailboxId is { } single ? (new[] { single }, (string?)null) : (request.MailboxIds ?? [], "mailboxIds");
        if (ids.Length is 0 or > MaxMailboxes)
        {
            errors.Add(new("mailboxIds", $"give 1 to {MaxMailboxes} mailbox ids"));
            return [];
        }

        var active = await sequences.ActiveMailboxesAsync(workspaceId, ids, ct);
        for (var i = 0; i < ids.Length; i++)
        {
            if (!active.Contains(ids[i]))
            {
                errors.Add(new(path is null ? "mailboxId" : $"{path}[{i}]", "no such active mailbox in this workspace"));
            }
        }

        return ids.Distinct().ToList();
    }

    // Prospect variables the templates read without a default: every prospect must have them (checked when enrolling).
    private static IReadOnlyList<string> RequiredFields(SequenceDefinition definition)
    {
        var required = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (source, format) in definition.Steps.SelectMany(Templates))
        {
            if (source is null)
            {
                continue;
            }

            IReadOnlyList<TemplateVariable> variables;
            try
            {
                variables = TemplateRenderer.Variables(source, format);
            }
            catch (TemplateException)
            {
                continue; // A stored definition was validated at save; the preview reports templates that do not render.
            }

            foreach (var variable in variables.Where(v => !v.HasDefault))
            {
                if (TemplateVariables.ProspectField(variable.Name) is { } field)
                {
                    required.Add(field);
                }
            }
        }

        return [.. required];
    }

    private static IEnumerable<(string? Source, TemplateFormat Format)> Templates(SequenceStep step) => step switch
    {
        EmailStep e => [(e.Subject, TemplateFormat.Text), (e.Body, TemplateFormat.Text)],
        LinkedInVisitStep v => [(v.Instructions, TemplateFormat.Text)],
        LinkedInInviteStep i => [(i.Note, TemplateFormat.Text)],
        LinkedInMessageStep m => [(m.Body, TemplateFormat.Text)],
        CallStep c => [(c.Script, TemplateFormat.Text)],
        ManualTaskStep t => [(t.Title, TemplateFormat.Text), (t.Instructions, TemplateFormat.Text)],
        WebhookStep w => [(w.Payload, TemplateFormat.Json)],
        _ => [],
    };
}
