using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Prospector.Server.Tests;

/// <summary>/api/sends: what ops sees of sends, and resolving an 'unknown' one either way, end to end through the Dispatcher.</summary>
public sealed class SendsApiTests
{
    [Fact]
    public async Task List_FiltersByStateAndEnrollmentAndPagesById()
    {
        await using var rig = await FaultRig.StartAsync();
        await using var sink = await SmtpSink.StartAsync();
        var http = rig.App.Client();
        var a = await rig.EnrollAsync(sink);
        var b = await rig.EnrollAsync(sink);
        var c = await rig.EnrollAsync(sink);
        var unknownA = await InsertSendAsync(rig, a, "e1", "unknown", rig.Now);
        rig.Advance(TimeSpan.FromSeconds(1));
        var sentB = await InsertSendAsync(rig, b, "e1", "sent", rig.Now);
        rig.Advance(TimeSpan.FromSeconds(1));
        var unknownC = await InsertSendAsync(rig, c, "e1", "unknown", rig.Now);

        var all = await http.GetAsync("/api/sends").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([unknownA, sentB, unknownC], all.GetProperty("items").Ids());
        Assert.Equal(JsonValueKind.Null, all.GetProperty("nextCursor").ValueKind);
        Assert.Equal([unknownA, unknownC], await http.ListIdsAsync("/api/sends?state=unknown"));
        Assert.Equal([sentB], await http.ListIdsAsync($"/api/sends?enrollmentId={b.EnrollmentId}"));
        Assert.Empty(await http.ListIdsAsync($"/api/sends?state=unknown&enrollmentId={b.EnrollmentId}"));

        var first = await http.GetAsync("/api/sends?state=unknown&limit=1").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([unknownA], first.GetProperty("items").Ids());
        Assert.Equal(unknownA, first.GetProperty("nextCursor").GetGuid());
        var second = await http.GetAsync($"/api/sends?state=unknown&limit=1&after={unknownA}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([unknownC], second.GetProperty("items").Ids());
        Assert.Empty(await http.ListIdsAsync($"/api/sends?state=unknown&limit=1&after={unknownC}"));

        var bad = await http.GetAsync("/api/sends?state=lost").ExpectAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["state"], bad.ErrorKeys());

        var one = await http.GetAsync($"/api/sends/{unknownA}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(
            (a.EnrollmentId, a.ProspectId, "e1", a.MailboxId, "unknown", 1, "connection lost after DATA", JsonValueKind.Null),
            (one.GetProperty("enrollmentId").GetGuid(), one.GetProperty("prospectId").GetGuid(), one.GetProperty("stepId").GetString(),
                one.GetProperty("mailboxId").GetGuid(), one.GetProperty("state").GetString(), one.GetProperty("attempts").GetInt32(),
                one.GetProperty("lastError").GetString(), one.GetProperty("resolution").ValueKind));
        Assert.Equal($"{unknownA:N}@example.test", one.GetProperty("messageId").GetString());
        await http.GetAsync($"/api/sends/{Guid.NewGuid()}").ExpectAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ResolveNotSent_SendsTheStepAgainWithTheSameMessageIdExactlyOnce()
    {
        await using var rig = await FaultRig.StartAsync();
        var dropping = await SmtpSink.StartAsync("-q", ".");
        var port = dropping.Port;
        var s = await rig.EnrollAsync(dropping);
        await rig.RunAsync();
        var unknown = (await rig.SendAsync(s.EnrollmentId))!;
        Assert.Equal("unknown", unknown.State);
        await dropping.DisposeAsync();
        await using var accepting = await SmtpSink.StartOnAsync(port);
        var http = rig.App.Client();
        rig.Advance(TimeSpan.FromMinutes(30));

        var resolved = await http.PostAsJsonAsync($"/api/sends/{unknown.Id}/resolve", new { outcome = "not_sent" }).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(("planned", "not_sent", rig.Now), (resolved.GetProperty("state").GetString(), resolved.GetProperty("resolution").GetString(), resolved.GetProperty("resolvedAt").GetDateTimeOffset()));
        var enrollment = await rig.EnrollmentAsync(s.EnrollmentId);
        Assert.Equal(("active", null, 0, rig.Now), (enrollment.State, enrollment.StopReason, enrollment.CurrentStep, enrollment.NextDueAt));
        Assert.Equal(0, await rig.LiveSlotsAsync(s.EnrollmentId)); // the used slot was given back: the resend takes a new one
        await http.PostAsJsonAsync($"/api/sends/{unknown.Id}/resolve", new { outcome = "not_sent" }).ExpectAsync(HttpStatusCode.Conflict);

        Assert.Equal(1, await rig.RunAsync());

        var sent = (await rig.SendAsync(s.EnrollmentId))!;
        Assert.Equal(("sent", 2, unknown.MessageId, "not_sent"), (sent.State, sent.Attempts, sent.MessageId, sent.Resolution));
        Assert.Equal(2, (await rig.EnrollmentAsync(s.EnrollmentId)).CurrentStep);
        Assert.Equal(["send_unknown", "send_resolved", "step_sent"], await rig.EventTypesAsync(s.EnrollmentId));
        Assert.Contains(("send_resolved", "not_sent"), await StepHarness.EventsAsync(rig.App, s.EnrollmentId));
        await accepting.SettleAsync(dots: 1);
        Assert.Equal((1, 1), (accepting.Transactions, accepting.MessagesWithId(unknown.MessageId)));
        await http.PostAsJsonAsync($"/api/sends/{unknown.Id}/resolve", new { outcome = "sent" }).ExpectAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task ResolveSent_MovesOnAndTheNextStepGoesOutAsAFollowUp()
    {
        await using var rig = await FaultRig.StartAsync();
        var dropping = await SmtpSink.StartAsync("-q", ".");
        var port = dropping.Port;
        var s = await rig.EnrollAsync(dropping);
        await rig.RunAsync();
        var unknown = (await rig.SendAsync(s.EnrollmentId))!;
        await dropping.DisposeAsync();
        await using var accepting = await SmtpSink.StartOnAsync(port);
        var sdr = await SdrClientAsync(rig);
        rig.Advance(TimeSpan.FromHours(1));

        var resolved = await sdr.PostAsJsonAsync($"/api/sends/{unknown.Id}/resolve", new { outcome = "sent" }).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(("sent", "sent", rig.Now, rig.Now), (resolved.GetProperty("state").GetString(), resolved.GetProperty("resolution").GetString(),
            resolved.GetProperty("resolvedAt").GetDateTimeOffset(), resolved.GetProperty("sentAt").GetDateTimeOffset()));
        var enrollment = await rig.EnrollmentAsync(s.EnrollmentId);
        Assert.Equal(("active", null, 2, unknown.MessageId), (enrollment.State, enrollment.StopReason, enrollment.CurrentStep, enrollment.ThreadMessageId));
        Assert.True(enrollment.NextDueAt >= rig.Now.AddDays(2), $"follow-up due {enrollment.NextDueAt}");
        Assert.Equal(1, await rig.LiveSlotsAsync(s.EnrollmentId)); // it went out: its slot still counts
        Assert.Equal(["send_unknown", "send_resolved", "step_sent"], await rig.EventTypesAsync(s.EnrollmentId));
        Assert.Contains(("send_resolved", "sent"), await StepHarness.EventsAsync(rig.App, s.EnrollmentId));
        Assert.Equal(0, await rig.RunAsync());

        // Two days on, the follow-up: in the thread of the email ops said went out, and e1 is never sent again.
        rig.Clock.Set(enrollment.NextDueAt!.Value);
        Assert.Equal(1, await rig.RunAsync());
        var followUp = (await rig.SendAsync(s.EnrollmentId, "e2"))!;
        Assert.Equal(("sent", "Re: Hello Jane"), (followUp.State, followUp.Subject));
        await accepting.SettleAsync(dots: 1);
        var message = Assert.Single(accepting.Messages());
        Assert.Contains($"Message-ID: <{followUp.MessageId}>", message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"In-Reply-To: <{unknown.MessageId}>", message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, accepting.MessagesWithId(unknown.MessageId));
        Assert.Equal("completed", (await rig.EnrollmentAsync(s.EnrollmentId)).State);
    }

    [Fact]
    public async Task Resolve_RefusesBadOutcomesOtherStatesViewersAndOtherWorkspaces()
    {
        await using var rig = await FaultRig.StartAsync();
        await using var sink = await SmtpSink.StartAsync();
        var http = rig.App.Client();
        var s = await rig.EnrollAsync(sink);
        var unknown = await InsertSendAsync(rig, s, "e1", "unknown", rig.Now);
        var t = await rig.EnrollAsync(sink);
        var sent = await InsertSendAsync(rig, t, "e1", "sent", rig.Now);

        Assert.Equal(["outcome"], (await http.PostAsJsonAsync($"/api/sends/{unknown}/resolve", new { outcome = "maybe" }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Equal(["outcome"], (await http.PostAsJsonAsync($"/api/sends/{unknown}/resolve", new { }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        Assert.Contains("reason", (await http.PostAsJsonAsync($"/api/sends/{unknown}/resolve", new { outcome = "sent", reason = "x" }).ExpectAsync(HttpStatusCode.BadRequest)).ErrorKeys());
        var conflict = await http.PostAsJsonAsync($"/api/sends/{sent}/resolve", new { outcome = "not_sent" }).ExpectAsync(HttpStatusCode.Conflict);
        Assert.Contains("sent", conflict.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await http.PostAsJsonAsync($"/api/sends/{Guid.NewGuid()}/resolve", new { outcome = "sent" }).ExpectAsync(HttpStatusCode.NotFound);

        var viewerKey = (await http.PostAsJsonAsync("/api/keys", new { name = "viewer", role = "viewer" }).ExpectAsync(HttpStatusCode.Created)).GetProperty("key").GetString()!;
        await rig.App.Client(viewerKey).PostAsJsonAsync($"/api/sends/{unknown}/resolve", new { outcome = "sent" }).ExpectAsync(HttpStatusCode.Forbidden);
        await rig.App.Client(viewerKey).GetAsync($"/api/sends/{unknown}").ExpectAsync(HttpStatusCode.OK);

        var (_, otherKey) = await rig.App.CreateWorkspaceAsync("Other");
        var other = rig.App.Client(otherKey);
        await other.GetAsync($"/api/sends/{unknown}").ExpectAsync(HttpStatusCode.NotFound);
        await other.PostAsJsonAsync($"/api/sends/{unknown}/resolve", new { outcome = "not_sent" }).ExpectAsync(HttpStatusCode.NotFound);
        Assert.Empty(await other.ListIdsAsync("/api/sends"));

        // Nothing above changed the row.
        var row = (await rig.SendAsync(s.EnrollmentId))!;
        Assert.Equal(("unknown", null, null), (row.State, row.Resolution, row.ResolvedAt));
        Assert.DoesNotContain("send_resolved", await rig.EventTypesAsync(s.EnrollmentId));
    }

    private static async Task<HttpClient> SdrClientAsync(FaultRig rig)
    {
        var key = (await rig.App.Client().PostAsJsonAsync("/api/keys", new { name = "sdr", role = "sdr" }).ExpectAsync(HttpStatusCode.Created)).GetProperty("key").GetString()!;
        return rig.App.Client(key);
    }

    // A send row as the dispatcher leaves it (for list and refusal cases that need no SMTP); unknown ones pause their enrollment.
    private static async Task<Guid> InsertSendAsync(FaultRig rig, Enrolled e, string stepId, string state, DateTimeOffset now)
    {
        var id = Guid.CreateVersion7(now);
        await StepHarness.ExecuteAsync(rig.App,
            """
            insert into sends (id, workspace_id, enrollment_id, step_id, mailbox_id, message_id, state, attempts, subject, smtp_status, last_error, created_at, updated_at, sent_at)
            values (@id, @WorkspaceId, @EnrollmentId, @stepId, @MailboxId, @messageId, @state, 1, 'Hello', @status, @error, @now, @now, @sentAt);
            update enrollments set state = case when @state = 'unknown' then 'paused' else state end,
                stop_reason = case when @state = 'unknown' then 'send_unknown' else stop_reason end
            where id = @EnrollmentId
            """,
            new
            {
                id, e.WorkspaceId, e.EnrollmentId, stepId, e.MailboxId, messageId = $"{id:N}@example.test", state, now,
                status = state == "sent" ? 250 : (int?)null, error = state == "unknown" ? "connection lost after DATA" : null,
                sentAt = state == "sent" ? now : (DateTimeOffset?)null,
            });
        return id;
    }
}
