using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Sequences;
using Prospector.Server.Engine;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>An SDR task created by a linkedin_*, call or manual_task step.</summary>
public sealed record TaskResponse(
    Guid Id, Guid EnrollmentId, Guid SequenceId, Guid ProspectId, string StepId, Guid? OwnerId, string Type, string Title, string? Body,
    string State, string? Outcome, DateTimeOffset DueAt, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt)
{
    internal static TaskResponse From(TaskRow t) => new(
        t.Id, t.EnrollmentId, t.SequenceId, t.ProspectId, t.StepId, t.OwnerId, t.Type, t.Title, t.Body, t.State, t.Outcome, t.DueAt, t.CreatedAt, t.CompletedAt);
}

/// <summary>Completing a task. For linkedin_invite the outcome is connected, pending or not_connected; otherwise free text.</summary>
public sealed record CompleteTaskRequest(string? Outcome = null);

/// <summary>The SDR task inbox.</summary>
public static class TasksApi
{
    private const int MaxOutcomeLength = 200;
    private static readonly string[] States = [TaskStates.Open, TaskStates.Done, TaskStates.Skipped];
    private static readonly string[] Types = [StepTypes.LinkedInVisit, StepTypes.LinkedInInvite, StepTypes.LinkedInMessage, StepTypes.Call, StepTypes.ManualTask];

    /// <summary>Maps /api/tasks.</summary>
    public static RouteGroupBuilder MapTasksApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/tasks").WithTags("Tasks");
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapPost("/{id:guid}/complete", CompleteAsync);
        group.MapPost("/{id:guid}/skip", SkipAsync);
        return api;
    }

    private static async Task<Results<Ok<Page<TaskResponse>>, ValidationProblem>> ListAsync(
        HttpContext http, TaskStore store, CancellationToken ct,
        string? state = null, Guid? ownerId = null, string? type = null, DateTimeOffset? dueBefore = null, Guid? after = null, int limit = 100)
    {
        var errors = new List<ValidationError>();
        if (state is not null && !States.Contains(state, StringComparer.Ordinal))
        {
            errors.Add(new("state", "must be one of " + string.Join(", ", States)));
        }

        if (type is not null && !Types.Contains(type, StringComparer.Ordinal))
        {
            errors.Add(new("type", "must be one of " + string.Join(", ", Types)));
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        limit = Math.Clamp(limit, 1, 1000);
        var rows = await store.ListAsync(http.User.GetWorkspaceId(), new TaskFilter(state, ownerId, type, dueBefore?.ToUniversalTime()), after, limit, ct);
        return TypedResults.Ok(new Page<TaskResponse>(rows.Select(TaskResponse.From).ToArray(), rows.Count == limit ? rows[^1].Id : null));
    }

    private static async Task<Results<Ok<TaskResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, TaskStore store, CancellationToken ct)
        => await store.GetAsync(http.User.GetWorkspaceId(), id, ct) is { } t ? TypedResults.Ok(TaskResponse.From(t)) : Problems.NotFound("task");

    private static async Task<Results<Ok<TaskResponse>, ValidationProblem, ProblemHttpResult>> CompleteAsync(
        Guid id, HttpContext http, TaskStore store, TaskSteps steps, CancellationToken ct, CompleteTaskRequest? request = null)
    {
        var workspaceId = http.User.GetWorkspaceId();
        var task = await store.GetAsync(workspaceId, id, ct);
        if (task is null)
        {
            return Problems.NotFound("task");
        }

        var outcome = string.IsNullOrWhiteSpace(request?.Outcome) ? null : request.Outcome.Trim();
        if (task.Type == StepTypes.LinkedInInvite && outcome is not null && !TaskSteps.InviteOutcomes.Contains(outcome))
        {
            return Problems.Validation([new("outcome", "must be connected, pending or not_connected for a linkedin_invite task")]);
        }

        if (outcome is { Length: > MaxOutcomeLength })
        {
            return Problems.Validation([new("outcome", $"at most {MaxOutcomeLength} characters")]);
        }

        return Respond(await steps.CloseAsync(workspaceId, id, done: true, outcome, ct));
    }

    private static async Task<Results<Ok<TaskResponse>, ValidationProblem, ProblemHttpResult>> SkipAsync(Guid id, HttpContext http, TaskSteps steps, CancellationToken ct)
        => Respond(await steps.CloseAsync(http.User.GetWorkspaceId(), id, done: false, null, ct));

    private static Results<Ok<TaskResponse>, ValidationProblem, ProblemHttpResult> Respond((CloseTaskStatus Status, TaskRow? Task) result) => result.Status switch
    {
        CloseTaskStatus.NotFound => Problems.NotFound("task"),
        CloseTaskStatus.AlreadyClosed => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: $"the task is already {result.Task?.State}"),
        _ => TypedResults.Ok(TaskResponse.From(result.Task!)),
    };
}
