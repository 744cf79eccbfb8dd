using Dapper;
using Prospector.Core.Sequences;

namespace Prospector.Storage.Stores;

/// <summary>Filters of the task inbox; null means "any".</summary>
public sealed record TaskFilter(string? State = null, Guid? OwnerId = null, string? Type = null, DateTimeOffset? DueBefore = null);

/// <summary>SDR tasks: the inbox, and closing a task (which lets its enrollment go on).</summary>
public sealed class TaskStore(Database db)
{
    private const string Columns =
        """
        t.id, t.workspace_id, t.enrollment_id, e.sequence_id, e.prospect_id, t.step_id, t.owner_id, t.type, t.title, t.body, t.state, t.outcome,
        t.due_at, t.created_at, t.completed_at
        """;

    /// <summary>A task of this workspace, or null.</summary>
    public async Task<TaskRow?> GetAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<TaskRow>(new CommandDefinition(
            $"select {Columns} from tasks t join enrollments e on e.id = t.enrollment_id where t.workspace_id = @workspaceId and t.id = @id",
            new { workspaceId, id }, cancellationToken: ct));
    }

    /// <summary>The workspace's tasks matching <paramref name="filter"/>, in id (creation) order after <paramref name="after"/>.</summary>
    public async Task<IReadOnlyList<TaskRow>> ListAsync(Guid workspaceId, TaskFilter filter, Guid? after, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<TaskRow>(new CommandDefinition(
            $"""
            select {Columns} from tasks t join enrollments e on e.id = t.enrollment_id
            where t.workspace_id = @workspaceId
              and (@state is null or t.state = @state)
              and (@ownerId is null or t.owner_id = @ownerId)
              and (@type is null or t.type = @type)
              and (@dueBefore is null or t.due_at < @dueBefore)
              and (@after is null or t.id > @after)
            order by t.id limit @limit
            """,
            new { workspaceId, state = filter.State, ownerId = filter.OwnerId, type = filter.Type, dueBefore = filter.DueBefore, after, limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// Closes an open task as done or skipped, in one transaction with its events (task_done or task_skipped, detail
    /// "step" or "step: outcome"; linkedin_connected when an invitation was accepted) and, when the enrollment is
    /// active and still waiting at this task's step (<paramref name="stepIndex"/>), its move to <paramref name="next"/>.
    /// Returns false when the task was not open (already closed).
    /// </summary>
    public async Task<bool> CloseAsync(
        TaskRow task, string state, string? outcome, bool connected, int stepIndex, NextStep next, IReadOnlyList<string> branches, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var closed = await c.ExecuteAsync(new CommandDefinition(
            "update tasks set state = @state, outcome = @outcome, completed_at = @now where id = @id and state = 'open'",
            new { id = task.Id, state, outcome, now }, tx, cancellationToken: ct));
        if (closed == 0)
        {
            return false;
        }

        var type = state == TaskStates.Done ? "task_done" : "task_skipped";
        await Events.AppendAsync(c, tx, task.WorkspaceId, task.EnrollmentId, type, outcome is null ? task.StepId : $"{task.StepId}: {outcome}", now, ct);
        if (connected)
        {
            await Events.AppendAsync(c, tx, task.WorkspaceId, task.EnrollmentId, "linkedin_connected", task.StepId, now, ct);
        }

        if (stepIndex >= 0)
        {
            var moved = await c.ExecuteAsync(new CommandDefinition(
                """
                update enrollments set current_step = @step, next_due_at = @due, lease_until = null, state = @newState, updated_at = @now,
                    step_channel = @channel, wanted_at = @wanted, due_reasons = @reasons
                where id = @id and state = 'active' and current_step = @stepIndex and next_due_at is null
                """,
                new
                {
                    id = task.EnrollmentId, stepIndex, step = next.StepIndex ?? stepIndex + 1,
                    due = next.IsFinished ? (DateTimeOffset?)null : next.DueAt,
                    newState = next.IsFinished ? EnrollmentStates.Completed : EnrollmentStates.Active, now,
                    channel = next.Channel ?? StepChannels.Email, wanted = next.IsFinished ? (DateTimeOffset?)null : next.WantedAt ?? next.DueAt,
                    reasons = Prospector.Core.Scheduling.Scheduler.Format(next.Reasons),
                }, tx, cancellationToken: ct));
            if (moved > 0)
            {
                await DispatchStore.MovedAsync(c, tx, task.WorkspaceId, task.EnrollmentId, next, branches, now, ct);
            }
        }

        await tx.CommitAsync(ct);
        return true;
    }
}
