using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Sequences;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>
/// Move the running enrollments of one version to another. Each keeps its current step when the target version has
/// the same step id; <see cref="StepMapping"/> (old step id → new step id, or "end") covers the others and wins over
/// the identity when both apply.
/// </summary>
public sealed record MigrationRequest(int FromVersion, int? ToVersion = null, Dictionary<string, string>? StepMapping = null);

/// <summary>How many enrollments moved.</summary>
public sealed record MigrationResponse(int Moved, int FromVersion, int ToVersion);

/// <summary>POST /api/sequences/{id}/migrations.</summary>
public static class SequenceMigrationsApi
{
    /// <summary>Maps the migrations route on the sequences group.</summary>
    public static RouteGroupBuilder MapSequenceMigrationsApi(this RouteGroupBuilder sequences)
    {
        sequences.MapPost("/{id:guid}/migrations", MigrateAsync);
        return sequences;
    }

    private static async Task<Results<Ok<MigrationResponse>, ValidationProblem, ProblemHttpResult>> MigrateAsync(
        Guid id, MigrationRequest request, HttpContext http, SequenceStore store, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        var sequence = await store.GetAsync(workspaceId, id, ct);
        if (sequence is null)
        {
            return Problems.NotFound("sequence");
        }

        if (sequence.State == SequenceStates.Archived)
        {
            return SequencesApi.Conflict("the sequence is archived");
        }

        var toVersion = request.ToVersion ?? sequence.Version;
        var errors = new List<ValidationError>();
        var from = await store.GetVersionAsync(workspaceId, id, request.FromVersion, ct);
        var to = await store.GetVersionAsync(workspaceId, id, toVersion, ct);
        if (from is null)
        {
            errors.Add(new("fromVersion", $"the sequence has no version {request.FromVersion}"));
        }

        if (to is null)
        {
            errors.Add(new("toVersion", $"the sequence has no version {toVersion}"));
        }
        else if (toVersion == request.FromVersion)
        {
            errors.Add(new("toVersion", "must differ from fromVersion"));
        }

        if (errors.Count > 0 || from is null || to is null)
        {
            return Problems.Validation(errors);
        }

        var fromSteps = SequenceParser.Deserialize(from.Definition);
        var toSteps = SequenceParser.Deserialize(to.Definition);
        var mapping = request.StepMapping ?? [];
        foreach (var (oldId, newId) in mapping)
        {
            if (fromSteps.IndexOf(oldId) < 0)
            {
                errors.Add(new($"stepMapping.{oldId}", $"version {from.Version} has no step '{oldId}'"));
            }

            if (newId == StepTargets.End)
            {
                continue;
            }

            var target = toSteps.IndexOf(newId);
            if (target < 0)
            {
                errors.Add(new($"stepMapping.{oldId}", $"version {toVersion} has no step '{newId}' (give a step id or \"end\")"));
            }
            else if (toSteps.Steps[target] is WaitStep)
            {
                errors.Add(new($"stepMapping.{oldId}", $"'{newId}' is a wait; map to the step that follows it"));
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var moves = new Dictionary<int, StepMove>();
        for (var i = 0; i < fromSteps.Steps.Count; i++)
        {
            var stepId = fromSteps.Steps[i].Id;
            var target = mapping.TryGetValue(stepId, out var mapped) ? mapped : toSteps.IndexOf(stepId) >= 0 ? stepId : null;
            if (target is not null)
            {
                moves[i] = new StepMove(target == StepTargets.End ? null : toSteps.IndexOf(target), Detail(from.Version, toVersion, stepId, target))
                {
                    Channel = target == StepTargets.End ? StepChannels.Email : StepChannels.Of(toSteps.Steps[toSteps.IndexOf(target)]),
                };
            }
        }

        // An enrollment past the last step (about to complete) stays finished.
        moves[fromSteps.Steps.Count] = new StepMove(null, Detail(from.Version, toVersion, StepTargets.End, StepTargets.End));

        var result = await store.MoveEnrollmentsAsync(workspaceId, id, from.Version, toVersion, moves, clock.GetUtcNow(), ct);
        if (result.UnmappedSteps.Count > 0)
        {
            var unmapped = result.UnmappedSteps.Select(i => i < fromSteps.Steps.Count ? fromSteps.Steps[i].Id : $"#{i}").ToArray();
            return Problems.Validation(
                unmapped.Select(s => new ValidationError($"stepMapping.{s}",
                    $"enrollments are on step '{s}', which version {toVersion} does not have: map it to a step id of version {toVersion} or \"end\"")),
                $"unmapped steps: {string.Join(", ", unmapped)}; nothing was moved");
        }

        return result.Outcome switch
        {
            SequenceChange.Done => TypedResults.Ok(new MigrationResponse(result.Moved, from.Version, toVersion)),
            SequenceChange.NotFound => Problems.NotFound("sequence"),
            _ => SequencesApi.Conflict("the sequence is archived"),
        };
    }

    private static string Detail(int fromVersion, int toVersion, string fromStep, string toStep)
        => JsonSerializer.Serialize(new { fromVersion, toVersion, fromStep, toStep });
}
