using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Prospects;
using Prospector.Core.Sequences;
using Prospector.Server.Security;
using Prospector.Server.Simulation;
using Prospector.Storage;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>An event to inject into a simulation: reply, out_of_office (optional <see cref="Until"/>), bounce, opened, clicked, linkedin_connected.</summary>
public sealed record SimulateEventRequest(Guid? ProspectId = null, string? Type = null, DateTimeOffset? At = null, DateTimeOffset? Until = null);

/// <summary>
/// A dry run of a sequence version (newest unless <see cref="Version"/>) for prospects (<see cref="ProspectIds"/>, or a
/// deterministic <see cref="Sample"/> of <see cref="AudienceId"/>) sent from <see cref="MailboxIds"/> (default: the
/// workspace's active mailboxes), from <see cref="Start"/> (default now) for <see cref="HorizonDays"/> days.
/// </summary>
public sealed record SimulateRequest(
    int? Version = null, Guid[]? ProspectIds = null, Guid? AudienceId = null, int? Sample = null, Guid[]? MailboxIds = null,
    DateTimeOffset? Start = null, int? HorizonDays = null, SimulateEventRequest[]? Events = null);

/// <summary>POST /api/sequences/{id}/simulate: the real engine on a scratch database and a virtual clock; the workspace is only read.</summary>
public static class SequenceSimulationApi
{
    internal const int MaxProspects = 2_000;
    internal const int DefaultSample = 200;
    internal const int MaxHorizonDays = 365;
    internal const int DefaultHorizonDays = 90;
    internal const int MaxEvents = 10_000;
    internal const int MaxMailboxes = 100;

    /// <summary>Steps the dispatcher may run in one simulation (the work limit of one request).</summary>
    internal const int MaxSteps = 10_000;

    /// <summary>Wall-clock limit of one simulation request (a loaded machine must not hold a request for minutes).</summary>
    internal static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(60);

    /// <summary>Maps the simulate route on the sequences group.</summary>
    public static RouteGroupBuilder MapSequenceSimulationApi(this RouteGroupBuilder sequences)
    {
        sequences.MapPost("/{id:guid}/simulate", SimulateAsync);
        return sequences;
    }

    private static async Task<Results<Ok<SimulationResult>, ValidationProblem, ProblemHttpResult>> SimulateAsync(
        Guid id, SimulateRequest request, HttpContext http, SequenceStore sequences, Database live, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        var sequence = await sequences.GetAsync(workspaceId, id, ct);
        if (sequence is null)
        {
            return Problems.NotFound("sequence");
        }

        if (sequence.State == SequenceStates.Archived)
        {
            return SequencesApi.Conflict("the sequence is archived: nothing can be enrolled");
        }

        var errors = new List<ValidationError>();
        var start = (request.Start ?? clock.GetUtcNow()).ToUniversalTime();
        var horizonDays = request.HorizonDays ?? DefaultHorizonDays;
        if (horizonDays is < 1 or > MaxHorizonDays)
        {
            errors.Add(new("horizonDays", $"must be between 1 and {MaxHorizonDays}"));
        }

        var sample = request.Sample ?? DefaultSample;
        if (sample is < 1 or > MaxProspects)
        {
            errors.Add(new("sample", $"must be between 1 and {MaxProspects}"));
        }

        IReadOnlyList<Guid> prospectIds = [];
        switch (request.ProspectIds, request.AudienceId)
        {
            case (null, null):
                errors.Add(new("prospectIds", "give prospectIds or audienceId"));
                break;
            case ({ }, { }):
                errors.Add(new("audienceId", "give prospectIds or audienceId, not both"));
                break;
            case ({ Length: 0 or > MaxProspects }, _):
                errors.Add(new("prospectIds", $"give 1 to {MaxProspects} prospect ids"));
                break;
            case ({ } ids, _):
                prospectIds = ids.Distinct().ToList();
                break;
            case (_, { } audienceId):
                var members = await ScratchData.AudienceMembersAsync(live, workspaceId, audienceId, ct);
                if (members is null)
                {
                    errors.Add(new("audienceId", "no such audience in this workspace"));
                }
                else
                {
                    prospectIds = Sample(members, Math.Clamp(sample, 1, MaxProspects));
                }

                break;
        }

        var mailboxIds = await MailboxesAsync(request.MailboxIds, workspaceId, sequences, live, errors, ct);
        var version = request.Version ?? sequence.Version;
        var stored = await sequences.GetVersionAsync(workspaceId, id, version, ct);
        if (stored is null)
        {
            errors.Add(new("version", $"the sequence has no version {version}"));
        }

        var events = Events(request.Events, prospectIds, start, start.AddDays(Math.Clamp(horizonDays, 1, MaxHorizonDays)), errors);
        if (errors.Count > 0 || stored is null)
        {
            return Problems.Validation(errors);
        }

        var definition = SequenceParser.Deserialize(stored.Definition);
        var actionable = definition.Steps.Count(s => s is not (WaitStep or BranchStep));
        if ((long)actionable * prospectIds.Count > MaxSteps)
        {
            return TooLarge($"{prospectIds.Count} prospects × {actionable} steps exceeds the limit of {MaxSteps} steps per simulation; use a smaller sample");
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(MaxDuration);
        try
        {
            var result = await Simulator.RunAsync(start, async (scratch, token) =>
            {
                await CopyAsync(live, scratch.GetRequiredService<Database>(), workspaceId, id, version, prospectIds, mailboxIds, token);
                return new SimulationPlan(workspaceId, id, version, definition, prospectIds, mailboxIds, start, TimeSpan.FromDays(horizonDays), events, MaxSteps);
            }, limit.Token);
            return TypedResults.Ok(result);
        }
        catch (SimulationLimitException ex)
        {
            return TooLarge(ex.Message);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return TooLarge($"the simulation took longer than {MaxDuration.TotalSeconds:0} s; use a smaller sample or a shorter horizon");
        }
    }

    private static ProblemHttpResult TooLarge(string detail)
        => TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Simulation too large", detail: detail);

    // A deterministic sample: the members with the smallest SHA-256 of their id, then in id order (same audience → same sample).
    private static List<Guid> Sample(IReadOnlyList<Guid> members, int size)
        => members.Count <= size
            ? [.. members]
            : [.. members.OrderBy(m => Convert.ToHexString(SHA256.HashData(m.ToByteArray())), StringComparer.Ordinal).Take(size).Order()];

    private static async Task<IReadOnlyList<Guid>> MailboxesAsync(
        Guid[]? requested, Guid workspaceId, SequenceStore sequences, Database live, List<ValidationError> errors, CancellationToken ct)
    {
        if (requested is null)
        {
            var all = await ScratchData.ActiveMailboxesAsync(live, workspaceId, ct);
            if (all.Count == 0)
            {
                errors.Add(new("mailboxIds", "the workspace has no active mailbox"));
            }

            return all.Take(MaxMailboxes).ToList();
        }

        if (requested.Length is 0 or > MaxMailboxes)
        {
            errors.Add(new("mailboxIds", $"give 1 to {MaxMailboxes} mailbox ids"));
            return [];
        }

        var active = await sequences.ActiveMailboxesAsync(workspaceId, requested, ct);
        for (var i = 0; i < requested.Length; i++)
        {
            if (!active.Contains(requested[i]))
            {
                errors.Add(new($"mailboxIds[{i}]", "no such active mailbox in this workspace"));
            }
        }

        return requested.Distinct().ToList();
    }

    private static List<SimulatedEvent> Events(
        SimulateEventRequest[]? events, IReadOnlyList<Guid> prospects, DateTimeOffset start, DateTimeOffset end, List<ValidationError> errors)
    {
        var result = new List<SimulatedEvent>();
        if (events is null)
        {
            return result;
        }

        if (events.Length > MaxEvents)
        {
            errors.Add(new("events", $"at most {MaxEvents} events"));
            return result;
        }

        var simulated = prospects.ToHashSet();
        for (var i = 0; i < events.Length; i++)
        {
            var e = events[i];
            var path = $"events[{i}]";
            if (e is null)
            {
                errors.Add(new(path, "is required"));
                continue;
            }

            if (e.ProspectId is not { } prospectId)
            {
                errors.Add(new($"{path}.prospectId", "is required"));
            }
            else if (!simulated.Contains(prospectId))
            {
                errors.Add(new($"{path}.prospectId", "is not one of the simulated prospects"));
            }

            if (e.Type is null || !SimulatedEvents.All.Contains(e.Type))
            {
                errors.Add(new($"{path}.type", "must be one of: " + string.Join(", ", SimulatedEvents.All.Order(StringComparer.Ordinal))));
            }

            if (e.At is not { } at)
            {
                errors.Add(new($"{path}.at", "is required"));
            }
            else if (at < start || at > end)
            {
                errors.Add(new($"{path}.at", "must be between start and the horizon"));
            }

            if (e.Until is { } until && (e.Type != SimulatedEvents.OutOfOffice || (e.At is { } from && until <= from)))
            {
                errors.Add(new($"{path}.until", "is only for out_of_office, after at"));
            }

            if (e is { ProspectId: { } p, Type: { } type, At: { } when })
            {
                result.Add(new SimulatedEvent(p, type, when.ToUniversalTime(), e.Until?.ToUniversalTime()));
            }
        }

        return result;
    }

    // The inputs, copied from the live database into the scratch one: the workspace (settings included), its owners, the
    // prospects with their companies, the sequence with the simulated version, the mailboxes (every column but secrets)
    // and the suppressions that concern these prospects.
    private static async Task CopyAsync(
        Database live, Database scratch, Guid ws, Guid sequenceId, int version, IReadOnlyList<Guid> prospectIds, IReadOnlyList<Guid> mailboxIds, CancellationToken ct)
    {
        var ids = prospectIds.ToArray();
        var mailboxes = mailboxIds.ToArray();
        await ScratchData.CopyAsync(live, scratch, "workspaces", ("id = @ws", "id = @ws"), new { ws }, ct);
        await ScratchData.CopyAsync(live, scratch, "owners", ("workspace_id = @ws", "workspace_id = @ws"), new { ws }, ct);
        await ScratchData.CopyAsync(live, scratch, "companies",
            ("id in (select company_id from prospects where workspace_id = @ws and id = any(@ids))",
             "id in (select company_id from prospects where workspace_id = @ws and id in @ids)"), new { ws, ids }, ct);
        await ScratchData.CopyAsync(live, scratch, "prospects", ("workspace_id = @ws and id = any(@ids)", "workspace_id = @ws and id in @ids"), new { ws, ids }, ct);
        await ScratchData.CopyAsync(live, scratch, "sequences", ("workspace_id = @ws and id = @sequenceId", "workspace_id = @ws and id = @sequenceId"), new { ws, sequenceId }, ct);
        await ScratchData.CopyAsync(live, scratch, "sequence_versions",
            ("sequence_id = @sequenceId and version = @version", "sequence_id = @sequenceId and version = @version"), new { sequenceId, version }, ct);
        await ScratchData.CopyAsync(live, scratch, "mailboxes", ("workspace_id = @ws and id = any(@mailboxes)", "workspace_id = @ws and id in @mailboxes"),
            new { ws, mailboxes }, ct, "smtp_password_protected", "imap_password_protected");
        var hashes = (await ScratchData.ProspectLabelsAsync(scratch, ct)).Where(p => !string.IsNullOrWhiteSpace(p.Email)).Select(p => EmailAddress.Hash(p.Email!)).Distinct().ToArray();
        if (hashes.Length > 0)
        {
            await ScratchData.CopyAsync(live, scratch, "suppressions",
                ("workspace_id = @ws and address_hash = any(@hashes)", "workspace_id = @ws and address_hash in @hashes"), new { ws, hashes }, ct);
        }

        await ScratchData.ActivateAsync(scratch, ws, sequenceId, ct);
    }
}
