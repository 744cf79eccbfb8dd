using System.Net;
using Prospector.Core.Sequences;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class EnrollmentActionsApiTests
{
    // A long wait first, so the enrollment stays put while the actions are exercised.
    private static readonly SequenceDefinition Definition = new(
    [
        new WaitStep("w1", TimeSpan.FromDays(3)),
        new EmailStep("e1", "Hello {{ first_name }}", "Hi {{ first_name }}"),
    ]);

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task PauseResumeStop_ChangeStateWithEvents_And409WhenNotAllowed(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();
        var s = await StepHarness.EnrollAsync(app, Definition, currentStep: 1, dueAt: DateTimeOffset.UtcNow.AddDays(3));

        var paused = await http.PostAsync($"/api/enrollments/{s.EnrollmentId}/pause", null).ExpectAsync(HttpStatusCode.OK);
        await http.PostAsync($"/api/enrollments/{s.EnrollmentId}/pause", null).ExpectAsync(HttpStatusCode.Conflict);
        var resumed = await http.PostAsync($"/api/enrollments/{s.EnrollmentId}/resume", null).ExpectAsync(HttpStatusCode.OK);
        var stopped = await http.PostAsync($"/api/enrollments/{s.EnrollmentId}/stop", null).ExpectAsync(HttpStatusCode.OK);
        await http.PostAsync($"/api/enrollments/{s.EnrollmentId}/resume", null).ExpectAsync(HttpStatusCode.Conflict);

        Assert.Equal(("paused", "paused_by_user"), (paused.GetProperty("state").GetString(), paused.GetProperty("stopReason").GetString()));
        Assert.Equal("active", resumed.GetProperty("state").GetString());
        Assert.True(resumed.GetProperty("nextDueAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddDays(2), "a resumed wait keeps its later due time");
        Assert.Equal(("stopped", "stopped_by_user"), (stopped.GetProperty("state").GetString(), stopped.GetProperty("stopReason").GetString()));
        Assert.Equal(JsonValueKindNull, stopped.GetProperty("nextDueAt").ValueKind);
        var types = (await StepHarness.EventsAsync(app, s.EnrollmentId)).Select(e => e.Type).ToArray();
        Assert.Equal(["paused_by_user", "resumed", "stopped_by_user"], types);
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    public async Task Resume_MakesOverdueStepDueNowAndItRuns_WhenPausedPastDueTime(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();
        // Due later, so the running dispatcher cannot send before the pause; then the due time passes while paused.
        var s = await StepHarness.EnrollAsync(app, Definition, currentStep: 1, dueAt: DateTimeOffset.UtcNow.AddHours(1));
        await http.PostAsync($"/api/enrollments/{s.EnrollmentId}/pause", null).ExpectAsync(HttpStatusCode.OK);
        await StepHarness.ScalarAsync<long>(app, "update enrollments set next_due_at = @past where id = @id returning 0",
            new { id = s.EnrollmentId, past = DateTimeOffset.UtcNow.AddMinutes(-5) });
        await Task.Delay(600);
        Assert.Equal(0L, await StepHarness.ScalarAsync<long>(app, "select count(*) from sends where enrollment_id = @id", new { id = s.EnrollmentId }));

        await http.PostAsync($"/api/enrollments/{s.EnrollmentId}/resume", null).ExpectAsync(HttpStatusCode.OK);

        await StepHarness.UntilAsync(app, async () =>
            await StepHarness.ScalarAsync<string?>(app, "select state from sends where enrollment_id = @id and state = 'sent'", new { id = s.EnrollmentId }), "the email after resume");
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task List_FiltersByStateAndProspect(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();
        var a = await StepHarness.EnrollAsync(app, Definition, currentStep: 1, dueAt: DateTimeOffset.UtcNow.AddDays(3));
        var b = await StepHarness.EnrollAsync(app, Definition, currentStep: 1, dueAt: DateTimeOffset.UtcNow.AddDays(3));
        await http.PostAsync($"/api/enrollments/{b.EnrollmentId}/pause", null).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal([b.EnrollmentId], await http.ListIdsAsync("/api/enrollments?state=paused"));
        Assert.Equal([a.EnrollmentId], await http.ListIdsAsync($"/api/enrollments?prospectId={a.ProspectId}"));
        Assert.Equal([a.EnrollmentId], await http.ListIdsAsync($"/api/enrollments?state=active&sequenceId={a.SequenceId}"));
        Assert.Empty(await http.ListIdsAsync($"/api/enrollments?ownerId={Guid.NewGuid()}"));
        Assert.Contains("state", (await http.GetAsync("/api/enrollments?state=bogus").ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    public async Task Actions_Return404_ForAnotherWorkspacesEnrollmentAndTask(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var s = await StepHarness.EnrollAsync(app, Definition, currentStep: 1, dueAt: DateTimeOffset.UtcNow.AddDays(3));
        var taskId = Guid.CreateVersion7();
        await StepHarness.ExecuteAsync(app,
            """
            insert into tasks (id, workspace_id, enrollment_id, step_id, type, title, state, due_at, created_at)
            values (@taskId, @ws, @id, 'x', 'call', 'Call', 'open', @now, @now)
            """, new { taskId, ws = s.WorkspaceId, id = s.EnrollmentId, now = DateTimeOffset.UtcNow });
        var (_, otherKey) = await app.CreateWorkspaceAsync("other");
        var other = app.Client(otherKey);

        foreach (var action in new[] { "pause", "resume", "stop" })
        {
            await other.PostAsync($"/api/enrollments/{s.EnrollmentId}/{action}", null).ExpectAsync(HttpStatusCode.NotFound);
        }

        await other.GetAsync($"/api/tasks/{taskId}").ExpectAsync(HttpStatusCode.NotFound);
        await other.PostAsync($"/api/tasks/{taskId}/complete", null).ExpectAsync(HttpStatusCode.NotFound);
        await other.PostAsync($"/api/tasks/{taskId}/skip", null).ExpectAsync(HttpStatusCode.NotFound);
        Assert.Empty(await other.ListIdsAsync("/api/tasks"));
        Assert.Equal("active", await StepHarness.ScalarAsync<string>(app, "select state from enrollments where id = @id", new { id = s.EnrollmentId }));
        Assert.Equal("open", await StepHarness.ScalarAsync<string>(app, "select state from tasks where id = @taskId", new { taskId }));
        await app.Client().GetAsync($"/api/tasks/{taskId}").ExpectAsync(HttpStatusCode.OK);
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;
}
