using Prospector.Core.Inbound;
using Prospector.Core.Sequences;
using Prospector.Storage.Stores;

namespace Prospector.Storage.Tests;

public abstract class InboundTestBase(SqlDialect dialect) : StoreTestBase(dialect)
{
    protected static readonly DateTimeOffset Now = TestData.T0.AddHours(1);

    /// <summary>A scenario whose first step was sent with Message-ID <paramref name="messageId"/>.</summary>
    protected async Task<Scenario> SentAsync(string messageId, string? email = null)
    {
        var s = await Data.ScenarioAsync(email);
        var work = await Data.WorkAsync(s.EnrollmentId);
        var begin = await Data.Dispatch.BeginSendAsync(work, "s1", Guid.NewGuid(), messageId, "Hello", TestData.T0, Ct);
        Assert.Equal(BeginSendStatus.Proceed, begin.Status);
        await Data.Dispatch.MarkSentAsync(work, begin.SendId, "s1", SequenceProgress.Next(TestData.Definition, 1, TestData.T0), messageId, "Hello", TestData.T0, Ct);
        return s;
    }

    protected static InboundApplication App(Scenario s, uint uid, InboundClassification classification, MatchedEnrollment? match,
        (int, bool, string)? qualification = null, (string, string)? crm = null)
        => new(s.Mailbox.Id, s.WorkspaceId, 7, uid, classification, match, qualification, crm, Now);

    protected static InboundClassification Human(params string[] refs) => new(InboundKind.HumanReply, "human", refs, null, "Sounds good");
}

public abstract class InboundStoreTests(SqlDialect dialect) : InboundTestBase(dialect)
{

    [Fact]
    public async Task MatchAsync_FindsEnrollment_WhenAnyReferencedIdIsOurs()
    {
        var s = await SentAsync("m1@example.test");

        var match = await Data.Inbound.MatchAsync(s.WorkspaceId, ["unrelated@elsewhere.test", "m1@example.test"], Ct);

        Assert.NotNull(match);
        Assert.Equal((s.EnrollmentId, s.ProspectId, s.Sequence.Id, s.Sequence.Name, s.Email, "active"), (match.EnrollmentId, match.ProspectId, match.SequenceId, match.SequenceName, match.Email, match.State));
    }

    [Fact]
    public async Task MatchAsync_ReturnsNull_WhenMessageIdBelongsToAnotherWorkspace()
    {
        await SentAsync("theirs@example.test");
        var mine = await SentAsync("mine@example.test");

        Assert.Null(await Data.Inbound.MatchAsync(mine.WorkspaceId, ["theirs@example.test"], Ct));
        Assert.Null(await Data.Inbound.MatchAsync(mine.WorkspaceId, [], Ct));
    }

    [Fact]
    public async Task ApplyAsync_ReturnsAlreadyProcessedWithoutEffects_WhenSameUidIsAppliedTwice()
    {
        var s = await SentAsync("m1@example.test");
        var match = await Data.MatchOfAsync(s);
        var app = App(s, 42, Human("m1@example.test"), match, (80, true, "[\"budget\"]"));

        var first = await Data.Inbound.ApplyAsync(app, Now, Ct);
        var eventsAfterFirst = (await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct)).Count;
        var second = await Data.Inbound.ApplyAsync(app, Now.AddMinutes(1), Ct);

        Assert.False(first.AlreadyProcessed);
        Assert.True(second.AlreadyProcessed);
        Assert.Null(second.CrmOutboxId);
        Assert.Single(await Data.Enrollments.QualificationsAsync(s.EnrollmentId, Ct));
        Assert.Equal(eventsAfterFirst, (await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct)).Count);
        Assert.Equal(1, await Data.ScalarAsync<long>("select count(*) from inbound_messages where mailbox_id = @id", new { id = s.Mailbox.Id }));
    }

    [Fact]
    public async Task ApplyAsync_StopsAsRepliedAndStoresQualification_WhenHumanReplyMatches()
    {
        var s = await SentAsync("m1@example.test");
        var match = await Data.MatchOfAsync(s);

        await Data.Inbound.ApplyAsync(App(s, 1, Human("m1@example.test"), match, (72, true, "[\"timeline\"]")), Now, Ct);

        var e = await Data.EnrollmentAsync(s);
        Assert.Equal(("replied", "replied", (DateTimeOffset?)null), (e.State, e.StopReason, e.NextDueAt));
        var q = Assert.Single(await Data.Enrollments.QualificationsAsync(s.EnrollmentId, Ct));
        Assert.Equal((72, true, "[\"timeline\"]"), (q.Score, q.Qualified, q.Reasons));
        var types = (await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct)).Select(ev => ev.Type).ToList();
        Assert.Contains("replied", types);
        Assert.Contains("qualified", types);
        Assert.Empty(await Data.Dispatch.ClaimDueAsync(Now.AddDays(30), Now.AddDays(31), 10, Ct));
    }

    [Fact]
    public async Task ApplyAsync_StopsAsBouncedAndSuppressesBoth_WhenHardBounceMatches()
    {
        var s = await SentAsync("m1@example.test", "bounced@example.test");
        var match = await Data.MatchOfAsync(s);
        var bounce = new InboundClassification(InboundKind.Bounce, "dsn", ["m1@example.test"],
            new BounceInfo(true, "5.1.1", "Other.Recipient@example.test", "failed", "550 user unknown"), null);

        await Data.Inbound.ApplyAsync(App(s, 2, bounce, match), Now, Ct);

        var e = await Data.EnrollmentAsync(s);
        Assert.Equal(("bounced", "hard_bounce"), (e.State, e.StopReason));
        Assert.True(await Data.Suppressions.IsSuppressedAsync(s.WorkspaceId, "bounced@example.test", Ct));
        Assert.True(await Data.Suppressions.IsSuppressedAsync(s.WorkspaceId, "other.recipient@example.test", Ct));
    }

    [Fact]
    public async Task ApplyAsync_KeepsEnrollmentActiveAndRecordsEvent_WhenAutoReplyMatches()
    {
        var s = await SentAsync("m1@example.test");
        var match = await Data.MatchOfAsync(s);
        var auto = new InboundClassification(InboundKind.AutoReply, "auto-submitted", ["m1@example.test"], null, null);

        await Data.Inbound.ApplyAsync(App(s, 3, auto, match), Now, Ct);

        var e = await Data.EnrollmentAsync(s);
        Assert.Equal(("active", (string?)null, 2), (e.State, e.StopReason, e.CurrentStep));
        Assert.Equal("auto_reply", (await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct))[^1].Type);
        Assert.Empty(await Data.Enrollments.QualificationsAsync(s.EnrollmentId, Ct));
    }
}

public sealed class PostgresInboundStoreTests() : InboundStoreTests(SqlDialect.Postgres);

public sealed class SqliteInboundStoreTests() : InboundStoreTests(SqlDialect.Sqlite);

public abstract class CrmStoreTests(SqlDialect dialect) : InboundTestBase(dialect)
{
    private async Task<(Scenario Scenario, Guid OutboxId)> QueuedAsync()
    {
        var s = await SentAsync("crm@example.test");
        var match = await Data.MatchOfAsync(s);
        var applied = await Data.Inbound.ApplyAsync(App(s, 10, Human("crm@example.test"), match, (90, true, "[]"), ("lead.qualified", "{\"score\":90}")), Now, Ct);
        Assert.NotNull(applied.CrmOutboxId);
        return (s, applied.CrmOutboxId.Value);
    }

    [Fact]
    public async Task EnqueueAsync_CreatesOneRow_WhenQualifiedReplyIsAppliedAndRepeated()
    {
        var (s, id) = await QueuedAsync();
        var match = await Data.MatchOfAsync(s);

        var sameUid = await Data.Inbound.ApplyAsync(App(s, 10, Human("crm@example.test"), match, (90, true, "[]"), ("lead.qualified", "{}")), Now, Ct);
        var otherUid = await Data.Inbound.ApplyAsync(App(s, 11, Human("crm@example.test"), match, (90, true, "[]"), ("lead.qualified", "{}")), Now, Ct);

        Assert.True(sameUid.AlreadyProcessed);
        Assert.Null(otherUid.CrmOutboxId);
        var row = Assert.Single(await Data.Crm.ListAsync(s.WorkspaceId, 10, Ct));
        Assert.Equal((id, s.EnrollmentId, "lead.qualified", "{\"score\":90}", "pending", 0, Now), (row.Id, row.EnrollmentId, row.EventType, row.Payload, row.State, row.Attempts, row.NextAttemptAt));
        Assert.Equal([id], await Data.Crm.DueAsync(Now, 10, Ct));
    }

    [Fact]
    public async Task TryLeaseAsync_SucceedsOnce_WhenTwoWorkersLeaseTheSameRow()
    {
        var (_, id) = await QueuedAsync();

        var first = await Data.Crm.TryLeaseAsync(id, Now, Now.AddMinutes(2), Ct);
        var second = await Data.Crm.TryLeaseAsync(id, Now.AddSeconds(1), Now.AddMinutes(2), Ct);

        Assert.True(first);
        Assert.False(second);
        Assert.Empty(await Data.Crm.DueAsync(Now.AddMinutes(1), 10, Ct));
        Assert.True(await Data.Crm.TryLeaseAsync(id, Now.AddMinutes(3), Now.AddMinutes(5), Ct));
    }

    [Fact]
    public async Task TryLeaseAsync_SucceedsForExactlyOne_WhenLeasedInParallel()
    {
        var (_, id) = await QueuedAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Data.Crm.TryLeaseAsync(id, Now, Now.AddMinutes(2), Ct))));

        Assert.Equal(1, results.Count(r => r));
    }

    [Fact]
    public async Task MarkFailedAsync_MarksDead_WhenNoNextAttempt()
    {
        var (_, id) = await QueuedAsync();
        Assert.True(await Data.Crm.TryLeaseAsync(id, Now, Now.AddMinutes(2), Ct));

        await Data.Crm.MarkFailedAsync(id, 400, "bad request", null, Now, Ct);

        var row = await Data.Crm.GetAsync(id, Ct);
        Assert.Equal(("dead", 1, (int?)400, "bad request"), (row!.State, row.Attempts, row.LastStatus, row.LastError));
        Assert.Empty(await Data.Crm.DueAsync(Now.AddDays(1), 10, Ct));
        Assert.False(await Data.Crm.TryLeaseAsync(id, Now.AddDays(1), Now.AddDays(2), Ct));
    }

    [Fact]
    public async Task MarkFailedAsync_StaysPending_WhenNextAttemptGiven()
    {
        var (_, id) = await QueuedAsync();
        var next = Now.AddMinutes(30);

        await Data.Crm.MarkFailedAsync(id, 503, "unavailable", next, Now, Ct);

        var row = await Data.Crm.GetAsync(id, Ct);
        Assert.Equal(("pending", 1, next), (row!.State, row.Attempts, row.NextAttemptAt));
        Assert.Empty(await Data.Crm.DueAsync(Now.AddMinutes(29), 10, Ct));
        Assert.Equal([id], await Data.Crm.DueAsync(next, 10, Ct));
    }
}

public sealed class PostgresCrmStoreTests() : CrmStoreTests(SqlDialect.Postgres);

public sealed class SqliteCrmStoreTests() : CrmStoreTests(SqlDialect.Sqlite);
