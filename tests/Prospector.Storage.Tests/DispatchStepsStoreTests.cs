using Prospector.Core.Sequences;
using Prospector.Storage.Stores;

namespace Prospector.Storage.Tests;

/// <summary>Versions, claim filters, task and webhook rows, enrollment actions: the dispatch store beyond email sends.</summary>
public abstract class DispatchStepsStoreTests(SqlDialect dialect) : StoreTestBase(dialect)
{
    private static readonly DateTimeOffset Now = TestData.T0.AddMinutes(10);

    [Fact]
    public async Task ClaimDueAsync_SkipsEnrollments_WhenSequenceOrMailboxNotActive()
    {
        var running = await Data.ScenarioAsync(dueAt: TestData.T0);
        var pausedSequence = await Data.ScenarioAsync(dueAt: TestData.T0);
        var pausedMailbox = await Data.ScenarioAsync(dueAt: TestData.T0);
        await Data.ExecuteAsync("update sequences set state = 'paused' where id = @id", new { id = pausedSequence.Sequence.Id });
        await Data.ExecuteAsync("update mailboxes set state = 'paused' where id = @id", new { id = pausedMailbox.Mailbox.Id });

        var claimed = await Data.Dispatch.ClaimDueAsync(Now, Now.AddMinutes(5), 10, Ct);

        Assert.Equal(running.EnrollmentId, Assert.Single(claimed));
        await Data.ExecuteAsync("update sequences set state = 'active' where id = @id", new { id = pausedSequence.Sequence.Id });
        Assert.Equal(pausedSequence.EnrollmentId, Assert.Single(await Data.Dispatch.ClaimDueAsync(Now, Now.AddMinutes(5), 10, Ct)));
    }

    [Fact]
    public async Task LoadAsync_ReturnsDefinitionOfEnrollmentsVersion_WhenSequenceHasNewerVersion()
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        var v2 = SequenceParser.Serialize(new SequenceDefinition([new EmailStep("n1", "New", "New body")]));
        await Data.ExecuteAsync(
            """
            insert into sequence_versions (sequence_id, version, definition, created_at)
            select @id, 1, @v1, @T0 where not exists (select 1 from sequence_versions where sequence_id = @id and version = 1)
            """,
            new { id = s.Sequence.Id, v1 = s.Sequence.Definition, TestData.T0 });
        await Data.ExecuteAsync(
            "insert into sequence_versions (sequence_id, version, definition, created_at) values (@id, 2, @v2, @T0)",
            new { id = s.Sequence.Id, v2, TestData.T0 });
        await Data.ExecuteAsync("update sequences set version = 2, definition = @v2 where id = @id", new { id = s.Sequence.Id, v2 });

        var work = Assert.Single(await Data.Dispatch.LoadAsync([s.EnrollmentId], Ct));

        Assert.Equal(1, work.SequenceVersion);
        Assert.Equal(s.Sequence.Definition, work.Definition);
        Assert.Equal(s.ProspectId, work.ProspectId);
    }

    [Fact]
    public async Task LoadAsync_ReturnsNullDefinition_WhenEnrollmentsVersionIsMissing()
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        await Data.ExecuteAsync("update enrollments set sequence_version = 7 where id = @id", new { id = s.EnrollmentId });

        var work = Assert.Single(await Data.Dispatch.LoadAsync([s.EnrollmentId], Ct));

        Assert.Null(work.Definition);
    }

    [Fact]
    public async Task CreateTaskAsync_CreatesOneTaskAndWaits_WhenRunTwice()
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        var work = await Data.WorkAsync(s.EnrollmentId);

        var first = await Data.Dispatch.CreateTaskAsync(work, new NewTask(Guid.NewGuid(), "s1", "call", "Call Ann", "Script"), Now, Ct);
        await Data.ExecuteAsync("update enrollments set next_due_at = @Now where id = @id", new { id = s.EnrollmentId, Now });
        var second = await Data.Dispatch.CreateTaskAsync(work, new NewTask(Guid.NewGuid(), "s1", "call", "Call Ann", "Script"), Now, Ct);

        Assert.Equal(TaskStepStatus.Created, first.Status);
        Assert.Equal((TaskStepStatus.Open, first.TaskId), second);
        Assert.Equal(1L, await Data.ScalarAsync<long>("select count(*) from tasks where enrollment_id = @id", new { id = s.EnrollmentId }));
        Assert.Equal(1L, await Data.ScalarAsync<long>("select count(*) from enrollment_events where enrollment_id = @id and type = 'task_created'", new { id = s.EnrollmentId }));
        var e = await Data.EnrollmentAsync(s);
        Assert.Equal(("active", (DateTimeOffset?)null, 0), (e.State, e.NextDueAt, e.CurrentStep));
        var task = await new TaskStore(Db).GetAsync(s.WorkspaceId, first.TaskId, Ct);
        Assert.Equal(("open", "call", "Call Ann", "Script", s.ProspectId), (task!.State, task.Type, task.Title, task.Body, task.ProspectId));
    }

    [Fact]
    public async Task CreateTaskAsync_ReturnsClosed_WhenTaskWasClosedBefore()
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        var work = await Data.WorkAsync(s.EnrollmentId);
        var created = await Data.Dispatch.CreateTaskAsync(work, new NewTask(Guid.NewGuid(), "s1", "call", "Call Ann", null), Now, Ct);
        await Data.ExecuteAsync("update tasks set state = 'done' where id = @id", new { id = created.TaskId });

        var again = await Data.Dispatch.CreateTaskAsync(work, new NewTask(Guid.NewGuid(), "s1", "call", "Call Ann", null), Now, Ct);

        Assert.Equal((TaskStepStatus.Closed, created.TaskId), again);
    }

    [Fact]
    public async Task CloseAsync_ClosesOnceAndAdvancesWaitingEnrollment_WhenCalledTwice()
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        var work = await Data.WorkAsync(s.EnrollmentId);
        var created = await Data.Dispatch.CreateTaskAsync(work, new NewTask(Guid.NewGuid(), "s1", "linkedin_invite", "Invite Ann", null), Now, Ct);
        var tasks = new TaskStore(Db);
        var task = (await tasks.GetAsync(s.WorkspaceId, created.TaskId, Ct))!;
        var next = new NextStep(2, Now.AddDays(2));

        var closed = await tasks.CloseAsync(task, TaskStates.Done, "connected", true, 0, next, ["b1: then -> s2"], Now, Ct);
        var again = await tasks.CloseAsync(task, TaskStates.Done, "pending", false, 0, next, [], Now, Ct);

        Assert.True(closed);
        Assert.False(again);
        var row = (await tasks.GetAsync(s.WorkspaceId, created.TaskId, Ct))!;
        Assert.Equal(("done", "connected", (DateTimeOffset?)Now), (row.State, row.Outcome, row.CompletedAt));
        var e = await Data.EnrollmentAsync(s);
        Assert.Equal(("active", 2, (DateTimeOffset?)Now.AddDays(2)), (e.State, e.CurrentStep, e.NextDueAt));
        var events = (await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct)).Select(x => (x.Type, x.Detail)).ToList();
        Assert.Contains(("task_done", "s1: connected"), events);
        Assert.Contains(("linkedin_connected", "s1"), events);
        Assert.Contains(("branch", "b1: then -> s2"), events);
        Assert.Single(events, x => x.Type == "task_done");
    }

    [Fact]
    public async Task CloseAsync_OnlyClosesTask_WhenEnrollmentIsPaused()
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        var work = await Data.WorkAsync(s.EnrollmentId);
        var created = await Data.Dispatch.CreateTaskAsync(work, new NewTask(Guid.NewGuid(), "s1", "call", "Call Ann", null), Now, Ct);
        Assert.Equal(EnrollmentActionStatus.Done, await Data.Dispatch.ApplyUserActionAsync(s.WorkspaceId, s.EnrollmentId, EnrollmentAction.Pause, Now, Ct));
        var tasks = new TaskStore(Db);

        Assert.True(await tasks.CloseAsync((await tasks.GetAsync(s.WorkspaceId, created.TaskId, Ct))!, TaskStates.Skipped, null, false, 0, new NextStep(2, Now), [], Now, Ct));

        var e = await Data.EnrollmentAsync(s);
        Assert.Equal(("paused", 0), (e.State, e.CurrentStep));
        Assert.Equal("skipped", (await tasks.GetAsync(s.WorkspaceId, created.TaskId, Ct))!.State);
    }

    [Fact]
    public async Task ListAsync_FiltersByStateTypeOwnerAndDue_WithKeysetPages()
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        var other = await Data.ScenarioAsync(dueAt: TestData.T0);
        var ids = new List<Guid>();
        foreach (var (step, type) in new[] { ("a", "call"), ("b", "call"), ("c", "manual_task") })
        {
            var work = await Data.WorkAsync(s.EnrollmentId);
            await Data.ExecuteAsync("update enrollments set current_step = 0, state = 'active' where id = @id", new { id = s.EnrollmentId });
            ids.Add((await Data.Dispatch.CreateTaskAsync(work, new NewTask(Guid.CreateVersion7(Now), step, type, "T " + step, null), Now, Ct)).TaskId);
        }

        await Data.Dispatch.CreateTaskAsync(await Data.WorkAsync(other.EnrollmentId), new NewTask(Guid.NewGuid(), "x", "call", "other", null), Now, Ct);
        await Data.ExecuteAsync("update tasks set state = 'done' where id = @id", new { id = ids[1] });
        var tasks = new TaskStore(Db);

        var open = await tasks.ListAsync(s.WorkspaceId, new TaskFilter(State: "open"), null, 10, Ct);
        var calls = await tasks.ListAsync(s.WorkspaceId, new TaskFilter(Type: "call"), null, 10, Ct);
        var page1 = await tasks.ListAsync(s.WorkspaceId, new TaskFilter(), null, 2, Ct);
        var page2 = await tasks.ListAsync(s.WorkspaceId, new TaskFilter(), page1[^1].Id, 2, Ct);
        var dueEarlier = await tasks.ListAsync(s.WorkspaceId, new TaskFilter(DueBefore: Now), null, 10, Ct);
        var byOwner = await tasks.ListAsync(s.WorkspaceId, new TaskFilter(OwnerId: Guid.NewGuid()), null, 10, Ct);

        Assert.Equal(new[] { ids[0], ids[2] }.Order(), open.Select(t => t.Id).Order());
        Assert.Equal(new[] { ids[0], ids[1] }.Order(), calls.Select(t => t.Id).Order());
        Assert.Equal(ids.Order(), page1.Concat(page2).Select(t => t.Id).Order());
        Assert.Empty(dueEarlier);
        Assert.Empty(byOwner);
    }

    [Fact]
    public async Task BeginWebhookAsync_CountsAttemptsWithStableId_UntilEnded()
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        var work = await Data.WorkAsync(s.EnrollmentId);

        var first = await Data.Dispatch.BeginWebhookAsync(work, "s1", Guid.NewGuid(), Now, Ct);
        await Data.Dispatch.DeferWebhookAsync(work, first.CallId, "s1", Now.AddMinutes(1), 500, null, Now, Ct);
        var deferred = await Data.EnrollmentAsync(s);
        var second = await Data.Dispatch.BeginWebhookAsync(work, "s1", Guid.NewGuid(), Now, Ct);
        await Data.Dispatch.EndWebhookAsync(work, second.CallId, "s1", true, 200, null, new NextStep(2, Now.AddDays(1)), [], Now, Ct);
        await Data.ExecuteAsync("update enrollments set current_step = 0 where id = @id", new { id = s.EnrollmentId });
        var third = await Data.Dispatch.BeginWebhookAsync(work, "s1", Guid.NewGuid(), Now, Ct);

        Assert.Equal((WebhookCallStatus.Proceed, 1), (first.Status, first.Attempt));
        Assert.Equal((WebhookCallStatus.Proceed, first.CallId, 2), second);
        Assert.Equal((WebhookCallStatus.Done, first.CallId), (third.Status, third.CallId));
        Assert.Equal((DateTimeOffset?)Now.AddMinutes(1), deferred.NextDueAt);
        var events = (await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct)).Select(x => (x.Type, x.Detail)).ToList();
        Assert.Contains(("webhook_deferred", "s1: 500"), events);
        Assert.Contains(("webhook_sent", "s1: 200"), events);
        Assert.Equal("sent", await Data.ScalarAsync<string>("select state from webhook_calls where id = @id", new { id = first.CallId }));
    }

    [Fact]
    public async Task ApplyUserActionAsync_PausesResumesAndStops_WithEventsAndConflicts()
    {
        var s = await Data.ScenarioAsync(dueAt: Now.AddHours(3));
        var otherWs = await Data.WorkspaceAsync("other");
        var dispatch = Data.Dispatch;

        Assert.Equal(EnrollmentActionStatus.NotFound, await dispatch.ApplyUserActionAsync(otherWs, s.EnrollmentId, EnrollmentAction.Pause, Now, Ct));
        Assert.Equal(EnrollmentActionStatus.Conflict, await dispatch.ApplyUserActionAsync(s.WorkspaceId, s.EnrollmentId, EnrollmentAction.Resume, Now, Ct));
        Assert.Equal(EnrollmentActionStatus.Done, await dispatch.ApplyUserActionAsync(s.WorkspaceId, s.EnrollmentId, EnrollmentAction.Pause, Now, Ct));
        var paused = await Data.EnrollmentAsync(s);
        Assert.Empty(await dispatch.ClaimDueAsync(Now.AddHours(4), Now.AddHours(5), 10, Ct));
        Assert.Equal(EnrollmentActionStatus.Done, await dispatch.ApplyUserActionAsync(s.WorkspaceId, s.EnrollmentId, EnrollmentAction.Resume, Now, Ct));
        var resumedFuture = await Data.EnrollmentAsync(s);
        await dispatch.ApplyUserActionAsync(s.WorkspaceId, s.EnrollmentId, EnrollmentAction.Pause, Now, Ct);
        Assert.Equal(EnrollmentActionStatus.Done, await dispatch.ApplyUserActionAsync(s.WorkspaceId, s.EnrollmentId, EnrollmentAction.Resume, Now.AddHours(5), Ct));
        var resumedLate = await Data.EnrollmentAsync(s);
        Assert.Equal(EnrollmentActionStatus.Done, await dispatch.ApplyUserActionAsync(s.WorkspaceId, s.EnrollmentId, EnrollmentAction.Stop, Now.AddHours(5), Ct));
        var stopped = await Data.EnrollmentAsync(s);

        Assert.Equal(("paused", "paused_by_user"), (paused.State, paused.StopReason));
        Assert.Equal(("active", (DateTimeOffset?)Now.AddHours(3)), (resumedFuture.State, resumedFuture.NextDueAt));
        Assert.Equal((DateTimeOffset?)Now.AddHours(5), resumedLate.NextDueAt);
        Assert.Equal(("stopped", "stopped_by_user", (DateTimeOffset?)null), (stopped.State, stopped.StopReason, stopped.NextDueAt));
        Assert.Equal(EnrollmentActionStatus.Conflict, await dispatch.ApplyUserActionAsync(s.WorkspaceId, s.EnrollmentId, EnrollmentAction.Resume, Now, Ct));
        var types = (await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct)).Select(x => x.Type).ToList();
        Assert.Equal(["enrolled", "paused_by_user", "resumed", "paused_by_user", "resumed", "stopped_by_user"], types);
    }

    [Fact]
    public async Task ApplyUserActionAsync_KeepsTaskWait_WhenResumedWithOpenTask()
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        await Data.Dispatch.CreateTaskAsync(await Data.WorkAsync(s.EnrollmentId), new NewTask(Guid.NewGuid(), "s1", "call", "Call Ann", null), Now, Ct);
        await Data.Dispatch.ApplyUserActionAsync(s.WorkspaceId, s.EnrollmentId, EnrollmentAction.Pause, Now, Ct);

        await Data.Dispatch.ApplyUserActionAsync(s.WorkspaceId, s.EnrollmentId, EnrollmentAction.Resume, Now, Ct);
        var resumed = await Data.EnrollmentAsync(s);
        await Data.Dispatch.ApplyUserActionAsync(s.WorkspaceId, s.EnrollmentId, EnrollmentAction.Stop, Now, Ct);

        Assert.Equal(("active", (DateTimeOffset?)null), (resumed.State, resumed.NextDueAt));
        Assert.Equal(("skipped", "enrollment_stopped"), Assert.Single(await Data.QueryAsync<(string, string)>(
            "select state, outcome from tasks where enrollment_id = @id", new { id = s.EnrollmentId })));
    }

    [Fact]
    public async Task FactEventsAsync_ReturnsBranchEventTypes_WhenRecorded()
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        await Data.ExecuteAsync(
            """
            insert into enrollment_events (workspace_id, enrollment_id, type, detail, occurred_at)
            values (@ws, @id, 'replied', null, @T0), (@ws, @id, 'linkedin_connected', 's1', @T0), (@ws, @id, 'step_sent', 's1', @T0)
            """, new { ws = s.WorkspaceId, id = s.EnrollmentId, TestData.T0 });

        var facts = await Data.Dispatch.FactEventsAsync(s.EnrollmentId, Ct);

        Assert.Equal(["linkedin_connected", "replied"], facts.Order(StringComparer.Ordinal));
    }
}

public sealed class PostgresDispatchStepsStoreTests() : DispatchStepsStoreTests(SqlDialect.Postgres);

public sealed class SqliteDispatchStepsStoreTests() : DispatchStepsStoreTests(SqlDialect.Sqlite);
