using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Prospector.Core.Sequences;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class TaskStepTests
{
    [Theory]
    [InlineData(SqlDialect.Postgres)]
    public async Task CallTask_IsCreatedOnceAndCompletingSendsNextEmail(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();
        var s = await StepHarness.EnrollAsync(app, new SequenceDefinition(
        [
            new CallStep("c1", "Ask {{ first_name }} about {{ custom.industry }}"),
            new EmailStep("e1", "Hello {{ first_name }}", "Hi {{ first_name }}, as discussed on the phone."),
        ]));

        var taskId = await StepHarness.UntilAsync(app, () => StepHarness.ScalarAsync<string?>(app, "select cast(id as text) from tasks where enrollment_id = @id", new { id = s.EnrollmentId }), "the call task");
        // The dispatcher runs again, and once more with the step made due by hand: still one task.
        await StepHarness.ExecuteAsync(app, "update enrollments set next_due_at = @now where id = @id", new { id = s.EnrollmentId, now = DateTimeOffset.UtcNow });
        for (var i = 0; i < 3; i++)
        {
            await app.Services.GetRequiredService<Engine.Dispatcher>().RunOnceAsync(CancellationToken.None);
        }

        Assert.Equal(1L, await StepHarness.ScalarAsync<long>(app, "select count(*) from tasks where enrollment_id = @id", new { id = s.EnrollmentId }));
        var enrollment = await http.GetAsync($"/api/enrollments/{s.EnrollmentId}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("active", JsonValueKind.Null), (enrollment.GetProperty("enrollment").GetProperty("state").GetString(), enrollment.GetProperty("enrollment").GetProperty("nextDueAt").ValueKind));
        var inbox = await http.GetAsync("/api/tasks?state=open&type=call").ExpectAsync(HttpStatusCode.OK);
        var task = Assert.Single(inbox.GetProperty("items").EnumerateArray());
        Assert.Equal(Guid.Parse(taskId), task.GetProperty("id").GetGuid());
        Assert.Equal("Call Jane Doe (Acme)", task.GetProperty("title").GetString());
        Assert.Equal("Ask Jane about Robotics", task.GetProperty("body").GetString());
        Assert.Equal((s.EnrollmentId, s.ProspectId, "c1"), (task.GetProperty("enrollmentId").GetGuid(), task.GetProperty("prospectId").GetGuid(), task.GetProperty("stepId").GetString()));
        Assert.Empty((await http.GetAsync("/api/tasks?state=done").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        var done = await http.PostAsJsonAsync($"/api/tasks/{taskId}/complete", new { outcome = "left a voicemail" }).ExpectAsync(HttpStatusCode.OK);
        await http.PostAsJsonAsync($"/api/tasks/{taskId}/complete", new { outcome = "again" }).ExpectAsync(HttpStatusCode.Conflict);
        await http.PostAsync($"/api/tasks/{taskId}/skip", null).ExpectAsync(HttpStatusCode.Conflict);

        Assert.Equal(("done", "left a voicemail"), (done.GetProperty("state").GetString(), done.GetProperty("outcome").GetString()));
        await StepHarness.UntilAsync(app, () => StepHarness.ScalarAsync<string?>(app, "select subject from sends where enrollment_id = @id and step_id = 'e1' and state = 'sent'", new { id = s.EnrollmentId }), "the email after the call");
        var events = (await StepHarness.EventsAsync(app, s.EnrollmentId)).Select(e => e.Type).ToArray();
        Assert.Equal(["task_created", "task_done", "step_sent", "completed"], events);
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task InviteConnected_TakesThenOfLinkedInConnectedBranch(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var http = app.Client();
        var s = await StepHarness.EnrollAsync(app, new SequenceDefinition(
        [
            new LinkedInInviteStep("i1", "Hi {{ first_name }}, let's connect."),
            new BranchStep("b1", new EventCondition(BranchEvent.LinkedInConnected), "m1", "c2"),
            new LinkedInMessageStep("m1", "Thanks for connecting, {{ first_name }}!"),
            new CallStep("c2", "Call instead"),
        ]));
        var invite = await StepHarness.UntilAsync(app, () => StepHarness.ScalarAsync<string?>(app, "select cast(id as text) from tasks where enrollment_id = @id and step_id = 'i1'", new { id = s.EnrollmentId }), "the invitation task");
        var task = await http.GetAsync($"/api/tasks/{invite}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("linkedin_invite", "Hi Jane, let's connect."), (task.GetProperty("type").GetString(), task.GetProperty("body").GetString()));

        var bad = await http.PostAsJsonAsync($"/api/tasks/{invite}/complete", new { outcome = "maybe" }).ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["outcome"], bad.ErrorKeys());
        await http.PostAsJsonAsync($"/api/tasks/{invite}/complete", new { outcome = "connected" }).ExpectAsync(HttpStatusCode.OK);

        var message = await StepHarness.UntilAsync(app, () => StepHarness.ScalarAsync<string?>(app, "select body from tasks where enrollment_id = @id and step_id = 'm1'", new { id = s.EnrollmentId }), "the message task");
        Assert.Equal("Thanks for connecting, Jane!", message);
        Assert.Equal(0L, await StepHarness.ScalarAsync<long>(app, "select count(*) from tasks where enrollment_id = @id and step_id = 'c2'", new { id = s.EnrollmentId }));
        var events = await StepHarness.EventsAsync(app, s.EnrollmentId);
        Assert.Contains(("linkedin_connected", "i1"), events);
        Assert.Contains(("branch", "b1: then -> m1"), events);
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    public async Task BranchAfterWait_EvaluatesProspectField(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var definition = new SequenceDefinition(
        [
            new WaitStep("w1", TimeSpan.FromDays(1)),
            new BranchStep("b1", new FieldCondition("title", FieldOperator.Contains, "vp"), "vp", "other"),
            new CallStep("vp", "Executive pitch"),
            new ManualTaskStep("other", "Research {{ company }}", "Find the right person"),
        ]);
        // Enrolled at the branch (the wait is over): the dispatcher evaluates it when due.
        var vp = await StepHarness.EnrollAsync(app, definition, currentStep: 1, title: "VP Sales");
        var ic = await StepHarness.EnrollAsync(app, definition, currentStep: 1, title: "Engineer", firstName: "Bob", lastName: "Roe");

        var vpStep = await StepHarness.UntilAsync(app, () => StepHarness.ScalarAsync<string?>(app, "select step_id from tasks where enrollment_id = @id", new { id = vp.EnrollmentId }), "the VP task");
        var icTitle = await StepHarness.UntilAsync(app, () => StepHarness.ScalarAsync<string?>(app, "select title from tasks where enrollment_id = @id and step_id = 'other'", new { id = ic.EnrollmentId }), "the other task");

        Assert.Equal("vp", vpStep);
        Assert.Equal("Research Acme: Bob Roe (Acme)", icTitle);
        Assert.Contains(("branch", "b1: then -> vp"), await StepHarness.EventsAsync(app, vp.EnrollmentId));
        Assert.Contains(("branch", "b1: else -> other"), await StepHarness.EventsAsync(app, ic.EnrollmentId));
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    public async Task InviteNoteLongerThan300Rendered_PausesWithoutTask(SqlDialect dialect)
    {
        await using var app = await ProspectorApp.StartAsync(dialect);
        var s = await StepHarness.EnrollAsync(app, new SequenceDefinition(
        [
            new LinkedInInviteStep("i1", "{% for i in (1..31) %}0123456789{% endfor %}"),
        ]));

        await StepHarness.UntilAsync(app, () => StepHarness.ScalarAsync<string?>(app, "select state from enrollments where id = @id and state = 'paused'", new { id = s.EnrollmentId }), "the pause");

        Assert.Equal("invite_note_too_long", await StepHarness.ScalarAsync<string>(app, "select stop_reason from enrollments where id = @id", new { id = s.EnrollmentId }));
        Assert.Equal(0L, await StepHarness.ScalarAsync<long>(app, "select count(*) from tasks where enrollment_id = @id", new { id = s.EnrollmentId }));
        var paused = Assert.Single(await StepHarness.EventsAsync(app, s.EnrollmentId));
        Assert.Equal("paused_invite_note_too_long", paused.Type);
        Assert.Contains("310 characters", paused.Detail, StringComparison.Ordinal);
    }
}
