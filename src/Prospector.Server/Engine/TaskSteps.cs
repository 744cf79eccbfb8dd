using Prospector.Core.Sequences;
using Prospector.Core.Templates;
using Prospector.Storage.Stores;

namespace Prospector.Server.Engine;

/// <summary>How closing a task went.</summary>
public enum CloseTaskStatus
{
    /// <summary>Closed; the enrollment moved on if it was waiting for this task.</summary>
    Closed,
    /// <summary>No such task in the workspace.</summary>
    NotFound,
    /// <summary>The task was already done or skipped.</summary>
    AlreadyClosed,
}

/// <summary>
/// Task steps (linkedin_visit, linkedin_invite, linkedin_message, call, manual_task): a due step becomes a task in the
/// owner's inbox and the enrollment waits; closing the task (done or skipped) moves the enrollment on.
/// </summary>
public sealed class TaskSteps(DispatchStore dispatch, TaskStore tasks, TimeProvider clock, ILogger<TaskSteps> logger)
{
    /// <summary>Outcomes a linkedin_invite task accepts.</summary>
    public static readonly IReadOnlySet<string> InviteOutcomes = new HashSet<string>(StringComparer.Ordinal) { "connected", "pending", "not_connected" };

    /// <summary>Creates the step's task (once) and lets the enrollment wait; a task closed earlier moves it on instead.</summary>
    internal async Task RunAsync(DispatchWork work, SequenceDefinition definition, SequenceStep step, CancellationToken ct)
    {
        var model = StepContext.Model(work);
        var options = StepContext.Text(work, step);
        var person = StepContext.Person(work);
        string title;
        string? body;
        try
        {
            (title, body) = step switch
            {
                LinkedInVisitStep s => ($"Visit the LinkedIn profile of {person}", Render(s.Instructions)),
                LinkedInInviteStep s => ($"Invite {person} on LinkedIn", Render(s.Note)),
                LinkedInMessageStep s => ($"Send a LinkedIn message to {person}", Render(s.Body)),
                CallStep s => ($"Call {person}", Render(s.Script)),
                ManualTaskStep s => (string.IsNullOrWhiteSpace(s.Title) ? $"Task for {person}" : $"{Render(s.Title)!.Trim()}: {person}", Render(s.Instructions)),
                _ => throw new ArgumentOutOfRangeException(nameof(step), step.Type, "not a task step"),
            };
        }
        catch (TemplateException ex)
        {
            logger.LogWarning("Enrollment {EnrollmentId} step {StepId}: template failed: {Reason}", work.Id, step.Id, ex.Message);
            await dispatch.PauseAsync(work, "template_error", $"{step.Id}: {ex.Message}", clock.GetUtcNow(), ct);
            return;
        }

        if (step is LinkedInInviteStep && body is { Length: > LinkedInInviteStep.MaxNoteLength })
        {
            logger.LogWarning("Enrollment {EnrollmentId} step {StepId}: invitation note too long ({Length})", work.Id, step.Id, body.Length);
            await dispatch.PauseAsync(work, "invite_note_too_long",
                $"{step.Id}: the invitation note is {body.Length} characters once rendered; LinkedIn allows {LinkedInInviteStep.MaxNoteLength}",
                clock.GetUtcNow(), ct);
            return;
        }

        var now = clock.GetUtcNow();
        var (status, taskId) = await dispatch.CreateTaskAsync(work, new NewTask(Guid.CreateVersion7(now), step.Id, step.Type, Truncate(title, 500), body), now, ct);
        logger.LogInformation("Enrollment {EnrollmentId} step {StepId}: task {TaskId} {Status}", work.Id, step.Id, taskId, status);
        if (status == TaskStepStatus.Closed)
        {
            // Closed while the enrollment was paused: the step is done, move on.
            var facts = StepContext.Facts(work, await dispatch.FactEventsAsync(work.Id, ct));
            var (next, branches) = StepContext.Advance(work, definition, work.CurrentStep + 1, now, facts);
            await dispatch.AdvanceAsync(work, next, branches, now, ct);
        }

        string? Render(string? template) => template is null ? null : TemplateRenderer.Render(template, model, options);
    }

    /// <summary>
    /// Closes a task (done with an optional outcome, or skipped) and moves its enrollment on with
    /// <see cref="SequenceProgress.Next"/> from the step after the task, evaluating branches with current facts
    /// (including a LinkedIn connection reported by this very outcome). An enrollment that is no longer active, or
    /// no longer waiting at this step, only sees the task closed.
    /// </summary>
    public async Task<(CloseTaskStatus Status, TaskRow? Task)> CloseAsync(Guid workspaceId, Guid taskId, bool done, string? outcome, CancellationToken ct)
    {
        var task = await tasks.GetAsync(workspaceId, taskId, ct);
        if (task is null)
        {
            return (CloseTaskStatus.NotFound, null);
        }

        if (task.State != TaskStates.Open)
        {
            return (CloseTaskStatus.AlreadyClosed, task);
        }

        var now = clock.GetUtcNow();
        var connected = done && task.Type == StepTypes.LinkedInInvite && outcome == "connected";
        var stepIndex = -1;
        NextStep next = default;
        IReadOnlyList<string> branches = [];
        var work = (await dispatch.LoadAsync([task.EnrollmentId], ct)).SingleOrDefault();
        if (work?.Definition is { } json)
        {
            var definition = SequenceParser.Deserialize(json);
            stepIndex = definition.IndexOf(task.StepId);
            if (stepIndex >= 0)
            {
                var facts = StepContext.Facts(work, await dispatch.FactEventsAsync(work.Id, ct), connected ? [BranchEvent.LinkedInConnected] : []);
                (next, branches) = StepContext.Advance(work, definition, stepIndex + 1, now, facts);
            }
        }

        if (!await tasks.CloseAsync(task, done ? TaskStates.Done : TaskStates.Skipped, outcome, connected, stepIndex, next, branches, now, ct))
        {
            return (CloseTaskStatus.AlreadyClosed, await tasks.GetAsync(workspaceId, taskId, ct));
        }

        logger.LogInformation("Task {TaskId} (enrollment {EnrollmentId}, step {StepId}) {State}", task.Id, task.EnrollmentId, task.StepId, done ? "done" : "skipped");
        return (CloseTaskStatus.Closed, await tasks.GetAsync(workspaceId, taskId, ct));
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max];
}
