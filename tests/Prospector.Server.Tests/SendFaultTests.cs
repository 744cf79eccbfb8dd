using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Prospector.Core.Inbound;
using Prospector.Storage.Stores;

namespace Prospector.Server.Tests;

/// <summary>
/// Exactly-once under SMTP faults, at the engine level: the app's Dispatcher on PostgreSQL sending to Postfix's
/// smtp-sink with fault options. Each case checks the send row, the enrollment, suppression, the mailbox slot, the
/// events, and what the sink received.
/// </summary>
public sealed class SendFaultTests
{
    [Fact]
    public async Task Accepted_MarksSentAndAdvancesToTheNextStep()
    {
        await using var rig = await FaultRig.StartAsync();
        await using var sink = await SmtpSink.StartAsync();
        var s = await rig.EnrollAsync(sink);

        Assert.Equal(1, await rig.RunAsync());

        var send = (await rig.SendAsync(s.EnrollmentId))!;
        Assert.Equal(("sent", 1, 250), (send.State, send.Attempts, send.SmtpStatus));
        Assert.Equal(rig.Now, send.SentAt);
        var enrollment = await rig.EnrollmentAsync(s.EnrollmentId);
        Assert.Equal(("active", 2, send.MessageId), (enrollment.State, enrollment.CurrentStep, enrollment.ThreadMessageId));
        Assert.True(enrollment.NextDueAt >= rig.Now.AddDays(2), $"next step due {enrollment.NextDueAt}");
        Assert.Equal(1, await rig.LiveSlotsAsync(s.EnrollmentId));
        Assert.Equal(["step_sent"], await rig.EventTypesAsync(s.EnrollmentId));
        await sink.SettleAsync(dots: 1);
        Assert.Equal((1, 1), (sink.Transactions, sink.MessagesWithId(send.MessageId)));
    }

    [Theory]
    [InlineData("MAIL", "MAIL FROM answered 450 4.3.0")]
    [InlineData("RCPT", "RCPT TO answered 450 4.3.0")]
    [InlineData("DATA", "DATA answered 450 4.3.0")]
    public async Task SoftRefusal_ReleasesTheSlotAndRetriesWithBackoffAndTheSameMessageId(string command, string reason)
    {
        await using var rig = await FaultRig.StartAsync();
        var refusing = await SmtpSink.StartAsync("-r", command);
        var port = refusing.Port;
        var s = await rig.EnrollAsync(refusing);

        // First refusal: back to planned, slot given back, due again after RetryDelay.
        await rig.RunAsync();
        var first = (await rig.SendAsync(s.EnrollmentId))!;
        Assert.Equal(("planned", 1, 450, reason), (first.State, first.Attempts, first.SmtpStatus, first.LastError));
        Assert.DoesNotContain("@", first.LastError, StringComparison.Ordinal);
        var enrollment = await rig.EnrollmentAsync(s.EnrollmentId);
        Assert.Equal(("active", 0, rig.Now + FaultRig.RetryDelay, null), (enrollment.State, enrollment.CurrentStep, enrollment.NextDueAt, enrollment.LeaseUntil));
        Assert.Equal(0, await rig.LiveSlotsAsync(s.EnrollmentId));
        Assert.Equal(0, await rig.SlotsCountedTodayAsync(s.MailboxId));
        Assert.Equal(["send_deferred"], await rig.EventTypesAsync(s.EnrollmentId));

        // Not before its time; then a second refusal doubles the delay.
        rig.Advance(FaultRig.RetryDelay - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await rig.RunAsync());
        rig.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await rig.RunAsync());
        var second = (await rig.SendAsync(s.EnrollmentId))!;
        Assert.Equal(("planned", 2, first.MessageId), (second.State, second.Attempts, second.MessageId));
        Assert.Equal(rig.Now + (2 * FaultRig.RetryDelay), (await rig.EnrollmentAsync(s.EnrollmentId)).NextDueAt);
        await refusing.SettleAsync();
        Assert.Equal((2, 0), (refusing.Transactions, refusing.Dots));
        await refusing.DisposeAsync();

        // The server accepts again (same port): sent once, with the Message-ID committed before the first attempt.
        await using var accepting = await SmtpSink.StartOnAsync(port);
        rig.Advance(2 * FaultRig.RetryDelay);
        Assert.Equal(1, await rig.RunAsync());
        var sent = (await rig.SendAsync(s.EnrollmentId))!;
        Assert.Equal(("sent", 3, 250, first.MessageId), (sent.State, sent.Attempts, sent.SmtpStatus, sent.MessageId));
        Assert.Equal(("active", 2), ((await rig.EnrollmentAsync(s.EnrollmentId)).State, (await rig.EnrollmentAsync(s.EnrollmentId)).CurrentStep));
        Assert.Equal(1, await rig.LiveSlotsAsync(s.EnrollmentId));
        Assert.Equal(["send_deferred", "send_deferred", "step_sent"], await rig.EventTypesAsync(s.EnrollmentId));
        await accepting.SettleAsync(dots: 1);
        Assert.Equal(1, accepting.MessagesWithId(first.MessageId));
        Assert.Equal(1, accepting.Transactions);
    }

    [Theory]
    [InlineData("RCPT")]
    [InlineData(".")]
    public async Task ServiceNotAvailable421_IsRetriedOnANewSession(string command)
    {
        await using var rig = await FaultRig.StartAsync();
        await using var sink = await SmtpSink.StartAsync("-Q", command);
        var s = await rig.EnrollAsync(sink);

        await rig.RunAsync();
        var first = (await rig.SendAsync(s.EnrollmentId))!;
        Assert.Equal(("planned", 1, 421), (first.State, first.Attempts, first.SmtpStatus));
        Assert.Equal(0, await rig.LiveSlotsAsync(s.EnrollmentId));
        rig.Advance(FaultRig.RetryDelay);
        await rig.RunAsync();

        // The server closed after its 421: the next attempt opened a session of its own.
        var second = (await rig.SendAsync(s.EnrollmentId))!;
        Assert.Equal(("planned", 2, 421, first.MessageId), (second.State, second.Attempts, second.SmtpStatus, second.MessageId));
        await sink.SettleAsync(sessions: 2);
        Assert.Equal((2, 2), (sink.Sessions, sink.Transactions));
        Assert.Equal(2, rig.Sender.ConnectionsOpened);
        Assert.Equal(("active", "send_deferred"), ((await rig.EnrollmentAsync(s.EnrollmentId)).State, (await rig.EventTypesAsync(s.EnrollmentId))[^1]));
    }

    [Fact]
    public async Task HardRefusalAtRcpt_FailsBouncesAndSuppresses()
    {
        await using var rig = await FaultRig.StartAsync();
        await using var sink = await SmtpSink.StartAsync("-f", "RCPT");
        var s = await rig.EnrollAsync(sink);
        var email = await StepHarness.ScalarAsync<string>(rig.App, "select email from prospects where id = @id", new { id = s.ProspectId });

        await rig.RunAsync();

        var send = (await rig.SendAsync(s.EnrollmentId))!;
        Assert.Equal(("failed", 1, 500, "RCPT TO answered 500 5.3.0"), (send.State, send.Attempts, send.SmtpStatus, send.LastError));
        var enrollment = await rig.EnrollmentAsync(s.EnrollmentId);
        Assert.Equal(("bounced", "hard_bounce", null), (enrollment.State, enrollment.StopReason, enrollment.NextDueAt));
        Assert.True(await rig.App.Services.GetRequiredService<SuppressionStore>().IsSuppressedAsync(s.WorkspaceId, email, CancellationToken.None));
        Assert.Equal([("send_failed", "hard_bounce")], (await StepHarness.EventsAsync(rig.App, s.EnrollmentId)).ToArray());
        rig.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await rig.RunAsync());
        await sink.SettleAsync();
        Assert.Equal((1, 0), (sink.Transactions, sink.Dots));
    }

    [Fact]
    public async Task HardRefusalAtEndOfData_FailsWithoutSuppressing()
    {
        await using var rig = await FaultRig.StartAsync();
        await using var sink = await SmtpSink.StartAsync("-f", ".");
        var s = await rig.EnrollAsync(sink);
        var email = await StepHarness.ScalarAsync<string>(rig.App, "select email from prospects where id = @id", new { id = s.ProspectId });

        await rig.RunAsync();

        var send = (await rig.SendAsync(s.EnrollmentId))!;
        Assert.Equal(("failed", 1, 500, "end of DATA answered 500 5.3.0"), (send.State, send.Attempts, send.SmtpStatus, send.LastError));
        var enrollment = await rig.EnrollmentAsync(s.EnrollmentId);
        Assert.Equal(("failed", "message_rejected"), (enrollment.State, enrollment.StopReason));
        Assert.False(await rig.App.Services.GetRequiredService<SuppressionStore>().IsSuppressedAsync(s.WorkspaceId, email, CancellationToken.None));
        Assert.Equal([("send_failed", "message_rejected")], (await StepHarness.EventsAsync(rig.App, s.EnrollmentId)).ToArray());
        rig.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await rig.RunAsync());
        await sink.SettleAsync(dots: 1);
        Assert.Equal((1, 1), (sink.Transactions, sink.Dots));
    }

    [Theory]
    [InlineData("-q", "protocol error after DATA")]
    [InlineData("-W", "timeout after DATA")]
    public async Task NoAnswerToTheFinalDot_IsUnknownAndNeverSentAgain(string fault, string reason)
    {
        await using var rig = await FaultRig.StartAsync();
        // -q .: the server hangs up on the final "."; -W .:10: it answers 10 s later, after our 2 s command timeout.
        await using var sink = await SmtpSink.StartAsync(fault, fault == "-q" ? "." : ".:10");
        var s = await rig.EnrollAsync(sink);

        await rig.RunAsync();

        var send = (await rig.SendAsync(s.EnrollmentId))!;
        Assert.Equal(("unknown", 1, null), (send.State, send.Attempts, send.SmtpStatus));
        Assert.StartsWith(reason, send.LastError, StringComparison.Ordinal);
        Assert.DoesNotContain("@", send.LastError, StringComparison.Ordinal);
        var enrollment = await rig.EnrollmentAsync(s.EnrollmentId);
        Assert.Equal(("paused", "send_unknown", 0, null), (enrollment.State, enrollment.StopReason, enrollment.CurrentStep, enrollment.LeaseUntil));
        Assert.Equal(1, await rig.LiveSlotsAsync(s.EnrollmentId)); // it may have gone out: it still counts
        Assert.Equal([("send_unknown", "send_unknown")], (await StepHarness.EventsAsync(rig.App, s.EnrollmentId)).ToArray());

        // Many more rounds, past the lease, and even an SDR resuming it by hand: never another SMTP transaction.
        for (var round = 0; round < 5; round++)
        {
            Assert.Equal(0, await rig.RunAsync());
            rig.Advance(FaultRig.Lease + TimeSpan.FromMinutes(1));
        }

        await rig.App.Client().PostAsync($"/api/enrollments/{s.EnrollmentId}/resume", null).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, await rig.RunAsync());
        for (var round = 0; round < 3; round++)
        {
            rig.Advance(FaultRig.Lease + TimeSpan.FromMinutes(1));
            Assert.Equal(0, await rig.RunAsync());
        }

        Assert.Equal(("unknown", 1), ((await rig.SendAsync(s.EnrollmentId))!.State, (await rig.SendAsync(s.EnrollmentId))!.Attempts));
        Assert.Equal(("paused", "send_unknown"), ((await rig.EnrollmentAsync(s.EnrollmentId)).State, (await rig.EnrollmentAsync(s.EnrollmentId)).StopReason));
        await sink.SettleAsync(dots: 1);
        Assert.Equal((1, 1, 1), (sink.Sessions, sink.Transactions, sink.Dots));
    }

    [Fact]
    public async Task WorkerDiedMidSmtp_NextClaimAfterTheLeaseMarksUnknownAndSendsNothing()
    {
        await using var rig = await FaultRig.StartAsync();
        await using var sink = await SmtpSink.StartAsync();
        var s = await rig.EnrollAsync(sink);

        // A worker claims, commits the pre-send transaction ('sending', slot used) and dies before any SMTP.
        var claimed = await rig.Store.ClaimDueAsync(rig.Now, rig.Now + FaultRig.Lease, 10, CancellationToken.None);
        var work = Assert.Single(await rig.Store.LoadAsync(claimed, CancellationToken.None));
        var begin = await rig.Store.BeginSendAsync(work, "e1", Guid.CreateVersion7(rig.Now), $"{Guid.NewGuid():N}@example.test", "Hello", rig.Now, CancellationToken.None);
        Assert.Equal(BeginSendStatus.Proceed, begin.Status);

        // While the lease holds, nobody touches it; once it expired, the next claim finds the row in 'sending'.
        Assert.Equal(0, await rig.RunAsync());
        rig.Advance(FaultRig.Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await rig.RunAsync());

        var send = (await rig.SendAsync(s.EnrollmentId))!;
        Assert.Equal(("unknown", 1, begin.MessageId), (send.State, send.Attempts, send.MessageId));
        Assert.Contains("interrupted during SMTP", send.LastError, StringComparison.Ordinal);
        var enrollment = await rig.EnrollmentAsync(s.EnrollmentId);
        Assert.Equal(("paused", "send_unknown", null), (enrollment.State, enrollment.StopReason, enrollment.LeaseUntil));
        Assert.Equal(1, await rig.LiveSlotsAsync(s.EnrollmentId)); // the used slot counts; the new claim's reserved one was given back
        Assert.Equal(["send_unknown"], await rig.EventTypesAsync(s.EnrollmentId));
        rig.Advance(FaultRig.Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(0, await rig.RunAsync());
        await sink.SettleAsync();
        Assert.Equal((0, 0), (sink.Sessions, sink.Transactions));
    }

    public static TheoryData<string> Arrivals => new() { "reply", "unsubscribe" };

    [Theory]
    [MemberData(nameof(Arrivals))]
    public async Task ReplyOrUnsubscribeAfterTheClaim_StopsBeforeSending(string arrival)
    {
        await using var rig = await FaultRig.StartAsync();
        await using var sink = await SmtpSink.StartAsync();
        var s = await rig.EnrollAsync(sink);
        var email = await StepHarness.ScalarAsync<string>(rig.App, "select email from prospects where id = @id", new { id = s.ProspectId });
        var claimed = await rig.Store.ClaimDueAsync(rig.Now, rig.Now + FaultRig.Lease, 10, CancellationToken.None);
        var work = Assert.Single(await rig.Store.LoadAsync(claimed, CancellationToken.None));
        Assert.Equal(1, await rig.LiveSlotsAsync(s.EnrollmentId));

        if (arrival == "reply")
        {
            // The inbound path's own transaction, as if the mailbox sync read a reply right now.
            await rig.App.Services.GetRequiredService<InboundStore>().ApplyAsync(new InboundApplication(
                s.MailboxId, s.WorkspaceId, 1, 1, new InboundClassification(InboundKind.HumanReply, "reply", [], null, "Not interested"),
                new MatchedEnrollment { EnrollmentId = s.EnrollmentId, WorkspaceId = s.WorkspaceId, State = "active", ProspectId = s.ProspectId, Email = email, SequenceId = s.SequenceId },
                null, null, rig.Now), rig.Now, CancellationToken.None);
        }
        else
        {
            await rig.App.Services.GetRequiredService<SuppressionStore>().AddAsync(s.WorkspaceId, email, "unsubscribed", rig.Now, CancellationToken.None);
        }

        var begin = await rig.Store.BeginSendAsync(work, "e1", Guid.CreateVersion7(rig.Now), $"{Guid.NewGuid():N}@example.test", "Hello", rig.Now, CancellationToken.None);

        Assert.Equal(arrival == "reply" ? BeginSendStatus.NotActive : BeginSendStatus.Suppressed, begin.Status);
        Assert.Null(await rig.SendAsync(s.EnrollmentId));
        var enrollment = await rig.EnrollmentAsync(s.EnrollmentId);
        Assert.Equal(arrival == "reply" ? ("replied", "replied") : ("suppressed", "suppressed"), (enrollment.State, enrollment.StopReason));
        Assert.Null(enrollment.LeaseUntil);
        Assert.Equal(0, await rig.LiveSlotsAsync(s.EnrollmentId));
        Assert.Equal(0, await rig.SlotsCountedTodayAsync(s.MailboxId));
        rig.Advance(FaultRig.Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(0, await rig.RunAsync());
        await sink.SettleAsync();
        Assert.Equal(0, sink.Sessions);
    }

    public static TheoryData<string> Holds => new() { "sequence", "mailbox", "workspace" };

    [Theory]
    [MemberData(nameof(Holds))]
    public async Task PauseAfterTheClaim_ReleasesClaimAndSlotAndSendsAfterResume(string what)
    {
        await using var rig = await FaultRig.StartAsync();
        await using var sink = await SmtpSink.StartAsync();
        var s = await rig.EnrollAsync(sink);
        var http = rig.App.Client();
        var claimed = await rig.Store.ClaimDueAsync(rig.Now, rig.Now + FaultRig.Lease, 10, CancellationToken.None);
        var work = Assert.Single(await rig.Store.LoadAsync(claimed, CancellationToken.None));
        var due = (await rig.EnrollmentAsync(s.EnrollmentId)).NextDueAt;
        var (pause, resume) = what switch
        {
            "sequence" => ($"/api/sequences/{s.SequenceId}/pause", $"/api/sequences/{s.SequenceId}/resume"),
            "mailbox" => ($"/api/mailboxes/{s.MailboxId}/pause", $"/api/mailboxes/{s.MailboxId}/resume"),
            _ => ("/api/workspace/pause", "/api/workspace/resume"),
        };
        await http.PostAsync(pause, null).ExpectAsync(HttpStatusCode.OK);

        var begin = await rig.Store.BeginSendAsync(work, "e1", Guid.CreateVersion7(rig.Now), $"{Guid.NewGuid():N}@example.test", "Hello", rig.Now, CancellationToken.None);

        Assert.Equal(BeginSendStatus.Held, begin.Status);
        Assert.Null(await rig.SendAsync(s.EnrollmentId));
        var held = await rig.EnrollmentAsync(s.EnrollmentId);
        Assert.Equal(("active", 0, due, null), (held.State, held.CurrentStep, held.NextDueAt, held.LeaseUntil));
        Assert.Equal(0, await rig.LiveSlotsAsync(s.EnrollmentId));
        Assert.Equal(0, await rig.SlotsCountedTodayAsync(s.MailboxId));
        Assert.DoesNotContain(await rig.EventTypesAsync(s.EnrollmentId), t => t.StartsWith("send", StringComparison.Ordinal) || t.StartsWith("step", StringComparison.Ordinal));
        rig.Advance(FaultRig.Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(0, await rig.RunAsync());
        await sink.SettleAsync();
        Assert.Equal(0, sink.Sessions);

        // Resumed: it runs (once) from where it was.
        await http.PostAsync(resume, null).ExpectAsync(HttpStatusCode.OK);
        await RunUntilSentAsync(rig, s.EnrollmentId);
        var send = (await rig.SendAsync(s.EnrollmentId))!;
        Assert.Equal(("sent", 1), (send.State, send.Attempts));
        await sink.SettleAsync(dots: 1);
        Assert.Equal((1, 1), (sink.Transactions, sink.MessagesWithId(send.MessageId)));
    }

    // The catch-up on resume may place the step a little later: move the clock along until it has been sent.
    private static async Task RunUntilSentAsync(FaultRig rig, Guid enrollmentId)
    {
        for (var i = 0; i < 20 && (await rig.SendAsync(enrollmentId))?.State != "sent"; i++)
        {
            if (await rig.RunAsync() == 0)
            {
                rig.Advance(TimeSpan.FromMinutes(5));
            }
        }
    }
}
