using Prospector.Core.Sequences;
using Prospector.Storage.Stores;

namespace Prospector.Storage.Tests;

public abstract class SequenceStoreTests(SqlDialect dialect) : StoreTestBase(dialect)
{
    /// <summary>Email s1, wait 2 days, email s2, email s3.</summary>
    private static readonly SequenceDefinition Three = new(
    [
        new EmailStep("s1", "Hello", "Hi"),
        new WaitStep("w1", TimeSpan.FromDays(2)),
        new EmailStep("s2", null, "Following up."),
        new EmailStep("s3", null, "Last one."),
    ]);

    [Fact]
    public async Task CreateAsync_StoresVersionOne_InBothTables()
    {
        var ws = await Data.WorkspaceAsync();
        var sequence = await Data.SequenceAsync(ws);

        var versions = await Data.Sequences.VersionsAsync(ws, sequence.Id, Ct);

        var v1 = Assert.Single(versions);
        Assert.Equal((1, sequence.Definition), (v1.Version, v1.Definition));
        Assert.Empty(await Data.Sequences.VersionsAsync(await Data.WorkspaceAsync("other"), sequence.Id, Ct));
    }

    [Fact]
    public async Task AddVersionAsync_StoresNextVersionAndKeepsEnrollmentsOnTheirs_WhenSequenceIsEdited()
    {
        var s = await Data.ScenarioAsync();
        var definition = SequenceParser.Serialize(Three);

        var (outcome, row) = await Data.Sequences.AddVersionAsync(s.WorkspaceId, s.Sequence.Id, "Renamed", definition, TestData.T0.AddHours(1), Ct);

        Assert.Equal(SequenceChange.Done, outcome);
        Assert.Equal((2, "Renamed", definition), (row!.Version, row.Name, row.Definition));
        var versions = await Data.Sequences.VersionsAsync(s.WorkspaceId, s.Sequence.Id, Ct);
        Assert.Equal([(1, 1L), (2, 0L)], versions.Select(v => (v.Version, v.RunningEnrollments)).ToArray());
        Assert.Equal(s.Sequence.Definition, (await Data.Sequences.GetVersionAsync(s.WorkspaceId, s.Sequence.Id, 1, Ct))!.Definition);
        Assert.Equal(1, (await Data.EnrollmentAsync(s)).SequenceVersion);
    }

    [Fact]
    public async Task ChangeStateAsync_FollowsActivePausedArchived_AndRefusesOtherTransitions()
    {
        var s = await Data.ScenarioAsync();
        var id = s.Sequence.Id;

        Assert.Equal(SequenceChange.Conflict, (await Data.Sequences.ChangeStateAsync(s.WorkspaceId, id, SequenceTransition.Resume, TestData.T0, Ct)).Outcome);
        Assert.Equal("paused", (await Data.Sequences.ChangeStateAsync(s.WorkspaceId, id, SequenceTransition.Pause, TestData.T0, Ct)).Sequence!.State);
        Assert.Equal(SequenceChange.Conflict, (await Data.Sequences.ChangeStateAsync(s.WorkspaceId, id, SequenceTransition.Pause, TestData.T0, Ct)).Outcome);
        Assert.Equal("active", (await Data.Sequences.ChangeStateAsync(s.WorkspaceId, id, SequenceTransition.Resume, TestData.T0, Ct)).Sequence!.State);
        Assert.Equal("active", (await Data.EnrollmentAsync(s)).State);

        var task = Guid.NewGuid();
        await Data.ExecuteAsync(
            """
            insert into tasks (id, workspace_id, enrollment_id, step_id, type, title, state, due_at, created_at)
            values (@task, @workspaceId, @enrollmentId, 'call-1', 'call', 'Call', 'open', @at, @at)
            """, new { task, workspaceId = s.WorkspaceId, enrollmentId = s.EnrollmentId, at = TestData.T0 });

        var (outcome, archived) = await Data.Sequences.ChangeStateAsync(s.WorkspaceId, id, SequenceTransition.Archive, TestData.T0.AddHours(1), Ct);

        Assert.Equal((SequenceChange.Done, "archived"), (outcome, archived!.State));
        var enrollment = await Data.EnrollmentAsync(s);
        Assert.Equal(("stopped", "sequence_archived", (DateTimeOffset?)null), (enrollment.State, enrollment.StopReason, enrollment.NextDueAt));
        Assert.Equal(["enrolled", "sequence_paused", "sequence_resumed", "sequence_archived"],
            (await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct)).Select(e => e.Type).ToArray());
        Assert.Equal("skipped", await Data.ScalarAsync<string>("select state from tasks where id = @task", new { task }));
        foreach (var transition in Enum.GetValues<SequenceTransition>())
        {
            Assert.Equal(SequenceChange.Conflict, (await Data.Sequences.ChangeStateAsync(s.WorkspaceId, id, transition, TestData.T0, Ct)).Outcome);
        }

        Assert.Equal(SequenceChange.Conflict, (await Data.Sequences.AddVersionAsync(s.WorkspaceId, id, null, s.Sequence.Definition, TestData.T0, Ct)).Outcome);
        Assert.Equal(SequenceChange.NotFound, (await Data.Sequences.ChangeStateAsync(await Data.WorkspaceAsync("x"), id, SequenceTransition.Pause, TestData.T0, Ct)).Outcome);
    }

    [Fact]
    public async Task MoveEnrollmentsAsync_RemapsIndexesAndRecordsEvents_WhenEveryStepIsCovered()
    {
        var s = await Data.ScenarioAsync();
        var second = await Data.EnrollAsync(s.WorkspaceId, s.Sequence.Id, s.Mailbox.Id, await Data.ProspectAsync(s.WorkspaceId, "two@example.test"));
        var done = await Data.EnrollAsync(s.WorkspaceId, s.Sequence.Id, s.Mailbox.Id, await Data.ProspectAsync(s.WorkspaceId, "done@example.test"));
        await Data.ExecuteAsync("update enrollments set current_step = 2 where id = @second", new { second });
        await Data.ExecuteAsync("update enrollments set state = 'replied' where id = @done", new { done });
        await Data.Sequences.AddVersionAsync(s.WorkspaceId, s.Sequence.Id, null, SequenceParser.Serialize(Three), TestData.T0, Ct);

        var result = await Data.Sequences.MoveEnrollmentsAsync(s.WorkspaceId, s.Sequence.Id, 1, 2,
            new Dictionary<int, StepMove> { [0] = new(0, "a"), [2] = new(3, "b") }, TestData.T0.AddHours(1), Ct);

        Assert.Equal((SequenceChange.Done, 2), (result.Outcome, result.Moved));
        var first = await Data.EnrollmentAsync(s);
        Assert.Equal((2, 0, "active"), (first.SequenceVersion, first.CurrentStep, first.State));
        var moved = (await Data.Enrollments.GetAsync(s.WorkspaceId, second, Ct))!;
        Assert.Equal((2, 3), (moved.SequenceVersion, moved.CurrentStep));
        Assert.Equal(1, (await Data.Enrollments.GetAsync(s.WorkspaceId, done, Ct))!.SequenceVersion);
        var migrated = (await Data.Enrollments.EventsAsync(second, Ct))[^1];
        Assert.Equal(("migrated", "b"), (migrated.Type, migrated.Detail));
    }

    [Fact]
    public async Task MoveEnrollmentsAsync_MovesNothingAndNamesTheStep_WhenAStepIsUncovered()
    {
        var s = await Data.ScenarioAsync();
        var second = await Data.EnrollAsync(s.WorkspaceId, s.Sequence.Id, s.Mailbox.Id, await Data.ProspectAsync(s.WorkspaceId, "two@example.test"));
        await Data.ExecuteAsync("update enrollments set current_step = 2 where id = @second", new { second });
        await Data.Sequences.AddVersionAsync(s.WorkspaceId, s.Sequence.Id, null, SequenceParser.Serialize(Three), TestData.T0, Ct);

        var result = await Data.Sequences.MoveEnrollmentsAsync(s.WorkspaceId, s.Sequence.Id, 1, 2,
            new Dictionary<int, StepMove> { [0] = new(0, "a") }, TestData.T0, Ct);

        Assert.Equal((SequenceChange.Conflict, 0), (result.Outcome, result.Moved));
        Assert.Equal([2], result.UnmappedSteps);
        Assert.Equal(1, (await Data.EnrollmentAsync(s)).SequenceVersion);
        Assert.Single(await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct));
    }

    [Fact]
    public async Task MoveEnrollmentsAsync_CompletesEnrollments_WhenMappedToTheEnd()
    {
        var s = await Data.ScenarioAsync();
        await Data.Sequences.AddVersionAsync(s.WorkspaceId, s.Sequence.Id, null, SequenceParser.Serialize(Three), TestData.T0, Ct);

        var result = await Data.Sequences.MoveEnrollmentsAsync(s.WorkspaceId, s.Sequence.Id, 1, 2,
            new Dictionary<int, StepMove> { [0] = new(null, "end") }, TestData.T0, Ct);

        Assert.Equal(1, result.Moved);
        var e = await Data.EnrollmentAsync(s);
        Assert.Equal((2, "completed", "migrated_to_end"), (e.SequenceVersion, e.State, e.StopReason));
    }

    [Fact]
    public async Task ListAsync_PagesByIdAndFiltersOnState()
    {
        var ws = await Data.WorkspaceAsync();
        var a = await Data.SequenceAsync(ws);
        var b = await Data.SequenceAsync(ws);
        var c = await Data.SequenceAsync(ws);
        await Data.Sequences.ChangeStateAsync(ws, b.Id, SequenceTransition.Pause, TestData.T0, Ct);
        var ordered = new[] { a.Id, b.Id, c.Id }.OrderBy(g => g.ToString(), StringComparer.Ordinal).ToArray();

        var page1 = await Data.Sequences.ListAsync(ws, null, null, 2, Ct);
        var page2 = await Data.Sequences.ListAsync(ws, null, page1[^1].Id, 2, Ct);

        Assert.Equal(ordered, page1.Concat(page2).Select(r => r.Id).ToArray());
        Assert.Equal([b.Id], (await Data.Sequences.ListAsync(ws, "paused", null, 10, Ct)).Select(r => r.Id).ToArray());
    }
}

public sealed class PostgresSequenceStoreTests() : SequenceStoreTests(SqlDialect.Postgres);

public sealed class SqliteSequenceStoreTests() : SequenceStoreTests(SqlDialect.Sqlite);
