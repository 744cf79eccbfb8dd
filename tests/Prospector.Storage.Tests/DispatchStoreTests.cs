using Prospector.Core.Sequences;
using Prospector.Storage.Stores;

namespace Prospector.Storage.Tests;

public abstract class DispatchStoreTests(SqlDialect dialect) : StoreTestBase(dialect)
{
    protected static readonly DateTimeOffset Now = TestData.T0.AddMinutes(10);

    protected Task<BeginSend> BeginAsync(DispatchWork work, string stepId, string messageId, DateTimeOffset? now = null)
        => Data.Dispatch.BeginSendAsync(work, stepId, Guid.NewGuid(), messageId, "Hello", now ?? Now, Ct);

    [Fact]
    public async Task ClaimDueAsync_ReturnsOnlyDueActiveRows_WhenOthersAreFutureOrPaused()
    {
        var due = await Data.ScenarioAsync(dueAt: TestData.T0);
        var future = await Data.ScenarioAsync(dueAt: Now.AddHours(1));
        var paused = await Data.ScenarioAsync(dueAt: TestData.T0);
        await Data.ExecuteAsync("update enrollments set state = 'paused' where id = @id", new { id = paused.EnrollmentId });

        var claimed = await Data.Dispatch.ClaimDueAsync(Now, Now.AddMinutes(5), 10, Ct);

        Assert.Equal(due.EnrollmentId, Assert.Single(claimed));
        Assert.DoesNotContain(future.EnrollmentId, claimed);
    }

    [Fact]
    public async Task ClaimDueAsync_SkipsLeasedRow_UntilLeaseExpires()
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        Assert.Single(await Data.Dispatch.ClaimDueAsync(Now, Now.AddMinutes(5), 10, Ct));

        var whileLeased = await Data.Dispatch.ClaimDueAsync(Now.AddMinutes(4), Now.AddMinutes(9), 10, Ct);
        var afterExpiry = await Data.Dispatch.ClaimDueAsync(Now.AddMinutes(6), Now.AddMinutes(11), 10, Ct);

        Assert.Empty(whileLeased);
        Assert.Equal(s.EnrollmentId, Assert.Single(afterExpiry));
    }

    [Fact]
    public async Task ClaimDueAsync_ReturnsAtMostBatch_WhenMoreAreDue()
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        for (var i = 0; i < 4; i++)
        {
            var p = await Data.ProspectAsync(s.WorkspaceId, $"more{i}@example.test");
            await Data.EnrollAsync(s.WorkspaceId, s.Sequence.Id, s.Mailbox.Id, p, TestData.T0.AddSeconds(i));
        }

        var first = await Data.Dispatch.ClaimDueAsync(Now, Now.AddMinutes(5), 3, Ct);
        var second = await Data.Dispatch.ClaimDueAsync(Now, Now.AddMinutes(5), 3, Ct);

        Assert.Equal(3, first.Count);
        Assert.Equal(2, second.Count);
        Assert.Empty(first.Intersect(second));
    }

    [Fact]
    public async Task LoadAsync_ReturnsWorkWithProspectAndMailbox_WhenEnrollmentsAreClaimed()
    {
        var a = await Data.ScenarioAsync(email: "a@example.test", dueAt: TestData.T0);
        var b = await Data.ScenarioAsync(email: "b@example.test", dueAt: TestData.T0);
        var claimed = await Data.Dispatch.ClaimDueAsync(Now, Now.AddMinutes(5), 10, Ct);

        var work = await Data.Dispatch.LoadAsync(claimed, Ct);

        Assert.Equal(2, work.Count);
        var wa = Assert.Single(work, w => w.Id == a.EnrollmentId);
        Assert.Equal((a.WorkspaceId, "a@example.test", a.Mailbox.Id, a.Mailbox.FromAddress, 0, a.Sequence.Definition), (wa.WorkspaceId, wa.Email, wa.MailboxId, wa.FromAddress, wa.CurrentStep, wa.Definition));
        Assert.Contains(work, w => w.Id == b.EnrollmentId);
    }

    [Fact]
    public async Task BeginSendAsync_InsertsSendingRowWithMessageId_WhenStepIsNew()
    {
        var s = await Data.ScenarioAsync();
        var work = await Data.WorkAsync(s.EnrollmentId);

        var begin = await BeginAsync(work, "s1", "m1@example.test");

        Assert.Equal(BeginSendStatus.Proceed, begin.Status);
        Assert.Equal("m1@example.test", begin.MessageId);
        Assert.Equal(1, begin.Attempt);
        Assert.Empty(begin.PreviousMessageIds);
        var send = Assert.Single(await Data.Enrollments.SendsAsync(s.EnrollmentId, Ct));
        Assert.Equal((begin.SendId, "s1", "sending", "m1@example.test", 1, s.Mailbox.Id), (send.Id, send.StepId, send.State, send.MessageId, send.Attempts, send.MailboxId));
    }

    [Fact]
    public async Task BeginSendAsync_ReturnsInDoubtAndPauses_WhenPreviousAttemptIsStillSending()
    {
        var s = await Data.ScenarioAsync();
        var work = await Data.WorkAsync(s.EnrollmentId);
        await BeginAsync(work, "s1", "m1@example.test");

        var again = await BeginAsync(work, "s1", "m2@example.test");

        Assert.Equal(BeginSendStatus.InDoubt, again.Status);
        Assert.Equal("m1@example.test", again.MessageId);
        var send = Assert.Single(await Data.Enrollments.SendsAsync(s.EnrollmentId, Ct));
        Assert.Equal("unknown", send.State);
        var e = await Data.EnrollmentAsync(s);
        Assert.Equal(("paused", "send_unknown"), (e.State, e.StopReason));
        Assert.Contains(await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct), ev => ev.Type == "send_unknown");
        Assert.Empty(await Data.Dispatch.ClaimDueAsync(Now.AddDays(10), Now.AddDays(11), 10, Ct));
    }

    [Fact]
    public async Task MarkSentAsync_AdvancesEnrollment_WhenServerAccepted()
    {
        var s = await Data.ScenarioAsync();
        var work = await Data.WorkAsync(s.EnrollmentId);
        var begin = await BeginAsync(work, "s1", "m1@example.test");
        var next = SequenceProgress.Next(TestData.Definition, 1, Now);

        await Data.Dispatch.MarkSentAsync(work, begin.SendId, "s1", next, "m1@example.test", "Hello", Now, Ct);

        var e = await Data.EnrollmentAsync(s);
        Assert.Equal(("active", 2, (DateTimeOffset?)Now.AddDays(2), "m1@example.test", "Hello"), (e.State, e.CurrentStep, e.NextDueAt, e.ThreadMessageId, e.ThreadSubject));
        var send = Assert.Single(await Data.Enrollments.SendsAsync(s.EnrollmentId, Ct));
        Assert.Equal(("sent", (int?)250, (DateTimeOffset?)Now), (send.State, send.SmtpStatus, send.SentAt));
    }

    [Fact]
    public async Task BeginSendAsync_ReturnsAlreadySent_WhenStepWasSentBefore()
    {
        var s = await Data.ScenarioAsync();
        var work = await Data.WorkAsync(s.EnrollmentId);
        var begin = await BeginAsync(work, "s1", "m1@example.test");
        await Data.Dispatch.MarkSentAsync(work, begin.SendId, "s1", SequenceProgress.Next(TestData.Definition, 1, Now), "m1@example.test", "Hello", Now, Ct);
        var current = await Data.WorkAsync(s.EnrollmentId);

        var again = await BeginAsync(current, "s1", "m9@example.test");

        Assert.Equal(BeginSendStatus.AlreadySent, again.Status);
        Assert.Equal((begin.SendId, "m1@example.test"), (again.SendId, again.MessageId));
        Assert.Single(await Data.Enrollments.SendsAsync(s.EnrollmentId, Ct));
    }

    [Fact]
    public async Task BeginSendAsync_ReturnsNotActive_WhenWorkIsStaleAfterAdvance()
    {
        var s = await Data.ScenarioAsync();
        var work = await Data.WorkAsync(s.EnrollmentId);
        var begin = await BeginAsync(work, "s1", "m1@example.test");
        await Data.Dispatch.MarkSentAsync(work, begin.SendId, "s1", SequenceProgress.Next(TestData.Definition, 1, Now), "m1@example.test", "Hello", Now, Ct);

        var stale = await BeginAsync(work, "s1", "m9@example.test");

        Assert.Equal(BeginSendStatus.NotActive, stale.Status);
    }

    [Fact]
    public async Task BeginSendAsync_ReturnsPreviousMessageIds_WhenFollowUpStepBegins()
    {
        var s = await Data.ScenarioAsync();
        var work = await Data.WorkAsync(s.EnrollmentId);
        var begin = await BeginAsync(work, "s1", "m1@example.test");
        await Data.Dispatch.MarkSentAsync(work, begin.SendId, "s1", SequenceProgress.Next(TestData.Definition, 1, Now), "m1@example.test", "Hello", Now, Ct);
        var current = await Data.WorkAsync(s.EnrollmentId);

        var followUp = await BeginAsync(current, "s2", "m2@example.test", Now.AddDays(2));

        Assert.Equal(BeginSendStatus.Proceed, followUp.Status);
        Assert.Equal(["m1@example.test"], followUp.PreviousMessageIds);
        Assert.Equal("m1@example.test", current.ThreadMessageId);
    }

    [Fact]
    public async Task BeginSendAsync_ReturnsSuppressedAndStops_WhenAddressIsSuppressed()
    {
        var s = await Data.ScenarioAsync(email: "Stop.Me@Example.test");
        var work = await Data.WorkAsync(s.EnrollmentId);
        await Data.Suppressions.AddAsync(s.WorkspaceId, "stop.me@example.TEST", "manual", TestData.T0, Ct);

        var begin = await BeginAsync(work, "s1", "m1@example.test");

        Assert.Equal(BeginSendStatus.Suppressed, begin.Status);
        Assert.Empty(await Data.Enrollments.SendsAsync(s.EnrollmentId, Ct));
        var e = await Data.EnrollmentAsync(s);
        Assert.Equal(("suppressed", (DateTimeOffset?)null), (e.State, e.NextDueAt));
    }

    [Fact]
    public async Task BeginSendAsync_ReturnsNotActiveAndReleasesLease_WhenEnrollmentIsNoLongerActive()
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        Assert.Single(await Data.Dispatch.ClaimDueAsync(Now, Now.AddMinutes(5), 10, Ct));
        var work = await Data.WorkAsync(s.EnrollmentId);
        await Data.ExecuteAsync("update enrollments set state = 'replied' where id = @id", new { id = s.EnrollmentId });

        var begin = await BeginAsync(work, "s1", "m1@example.test");

        Assert.Equal(BeginSendStatus.NotActive, begin.Status);
        Assert.Empty(await Data.Enrollments.SendsAsync(s.EnrollmentId, Ct));
        Assert.Equal(0, await Data.ScalarAsync<long>("select count(*) from enrollments where id = @id and lease_until is not null", new { id = s.EnrollmentId }));
    }

    [Fact]
    public async Task BeginSendAsync_RearmsWithSameMessageId_WhenRetriedAfterMarkRetry()
    {
        var s = await Data.ScenarioAsync();
        var work = await Data.WorkAsync(s.EnrollmentId);
        var first = await BeginAsync(work, "s1", "m1@example.test");
        var retryAt = Now.AddMinutes(15);

        await Data.Dispatch.MarkRetryAsync(work, first.SendId, retryAt, 451, "try later", Now, Ct);

        var planned = Assert.Single(await Data.Enrollments.SendsAsync(s.EnrollmentId, Ct));
        Assert.Equal(("planned", (int?)451, "try later"), (planned.State, planned.SmtpStatus, planned.LastError));
        Assert.Equal(retryAt, (await Data.EnrollmentAsync(s)).NextDueAt);

        var second = await BeginAsync(work, "s1", "m2@example.test", retryAt);

        Assert.Equal(BeginSendStatus.Proceed, second.Status);
        Assert.Equal((first.SendId, "m1@example.test", 2), (second.SendId, second.MessageId, second.Attempt));
        var send = Assert.Single(await Data.Enrollments.SendsAsync(s.EnrollmentId, Ct));
        Assert.Equal(("sending", 2, "m1@example.test"), (send.State, send.Attempts, send.MessageId));
    }

    [Fact]
    public async Task MarkEndedAsync_SuppressesAddress_WhenSuppressIsTrue()
    {
        var s = await Data.ScenarioAsync(email: "gone@example.test");
        var work = await Data.WorkAsync(s.EnrollmentId);
        var begin = await BeginAsync(work, "s1", "m1@example.test");
        Assert.False(await Data.Suppressions.IsSuppressedAsync(s.WorkspaceId, "gone@example.test", Ct));

        await Data.Dispatch.MarkEndedAsync(work, begin.SendId, SendStates.Failed, EnrollmentStates.Bounced, "hard_bounce", true, 550, "user unknown", Now, Ct);

        Assert.True(await Data.Suppressions.IsSuppressedAsync(s.WorkspaceId, "GONE@example.test", Ct));
        Assert.Equal("failed", Assert.Single(await Data.Enrollments.SendsAsync(s.EnrollmentId, Ct)).State);
        var e = await Data.EnrollmentAsync(s);
        Assert.Equal(("bounced", "hard_bounce"), (e.State, e.StopReason));
    }

    [Fact]
    public async Task MarkEndedAsync_DoesNotSuppress_WhenSuppressIsFalse()
    {
        var s = await Data.ScenarioAsync(email: "keep@example.test");
        var work = await Data.WorkAsync(s.EnrollmentId);
        var begin = await BeginAsync(work, "s1", "m1@example.test");

        await Data.Dispatch.MarkEndedAsync(work, begin.SendId, SendStates.Failed, EnrollmentStates.Failed, "message_refused", false, 554, "refused", Now, Ct);

        Assert.False(await Data.Suppressions.IsSuppressedAsync(s.WorkspaceId, "keep@example.test", Ct));
        Assert.Equal("failed", (await Data.EnrollmentAsync(s)).State);
    }
}

public sealed class PostgresDispatchStoreTests() : DispatchStoreTests(SqlDialect.Postgres)
{
    [Fact]
    public async Task ClaimDueAsync_ClaimsEachRowOnce_WhenFourWorkersClaimConcurrently()
    {
        var ws = await Data.WorkspaceAsync();
        var mailbox = await Data.MailboxAsync(ws, dailyCap: 1000);
        var sequence = await Data.SequenceAsync(ws);
        var prospects = new List<Guid>();
        for (var i = 0; i < 500; i++)
        {
            prospects.Add(await Data.ProspectAsync(ws, $"c{i}@example.test"));
        }

        var enrolled = await Data.Enrollments.EnrollAsync(ws, sequence.Id, 1, mailbox.Id, prospects, 0, TestData.T0, TestData.T0, Ct);
        Assert.Equal(500, enrolled.Enrolled.Count);

        var perWorker = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var mine = new List<Guid>();
            while (true)
            {
                var batch = await Data.Dispatch.ClaimDueAsync(Now, Now.AddMinutes(5), 25, Ct);
                if (batch.Count == 0)
                {
                    return mine;
                }

                mine.AddRange(batch);
            }
        })));

        var all = perWorker.SelectMany(w => w).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(enrolled.Enrolled.Select(e => e.EnrollmentId).Order(), all.Order());
    }
}

public sealed class SqliteDispatchStoreTests() : DispatchStoreTests(SqlDialect.Sqlite);
