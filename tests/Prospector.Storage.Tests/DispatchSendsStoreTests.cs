using Prospector.Core.Sequences;
using Prospector.Storage.Stores;

namespace Prospector.Storage.Tests;

/// <summary>The send list, resolving 'unknown' sends, and the pre-send re-check of what may hold a claimed step.</summary>
public abstract class DispatchSendsStoreTests(SqlDialect dialect) : StoreTestBase(dialect)
{
    private static readonly DateTimeOffset Now = TestData.T0.AddMinutes(10);

    private Task<BeginSend> BeginAsync(DispatchWork work, string messageId, DateTimeOffset? now = null)
        => Data.Dispatch.BeginSendAsync(work, "s1", Guid.NewGuid(), messageId, "Hello", now ?? Now, Ct);

    private async Task<(Scenario S, DispatchWork Work, Guid SendId)> UnknownAsync(string messageId = "m1@example.test")
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        Assert.Single(await Data.Dispatch.ClaimDueAsync(Now, Now.AddMinutes(5), 10, Ct));
        var work = await Data.WorkAsync(s.EnrollmentId);
        var begin = await BeginAsync(work, messageId);
        await Data.Dispatch.MarkEndedAsync(work, begin.SendId, SendStates.Unknown, EnrollmentStates.Paused, "send_unknown", false, null, "timeout after DATA", Now, Ct);
        return (s, work, begin.SendId);
    }

    private Task<long> LiveSlotsAsync(Guid enrollmentId)
        => Data.ScalarAsync<long>("select count(*) from mailbox_slots where enrollment_id = @enrollmentId and state <> 'released'", new { enrollmentId });

    [Theory]
    [InlineData("sequences", "paused")]
    [InlineData("mailboxes", "paused")]
    [InlineData("workspaces", "paused")]
    public async Task BeginSendAsync_ReleasesClaimAndSlotWithoutSending_WhenPausedAfterTheClaim(string table, string state)
    {
        var s = await Data.ScenarioAsync(dueAt: TestData.T0);
        Assert.Single(await Data.Dispatch.ClaimDueAsync(Now, Now.AddMinutes(5), 10, Ct));
        Assert.Equal(1, await LiveSlotsAsync(s.EnrollmentId));
        var work = await Data.WorkAsync(s.EnrollmentId);
        var id = table switch { "sequences" => s.Sequence.Id, "mailboxes" => s.Mailbox.Id, _ => s.WorkspaceId };
        await Data.ExecuteAsync($"update {table} set state = @state where id = @id", new { state, id });

        var begin = await BeginAsync(work, "m1@example.test");

        Assert.Equal(BeginSendStatus.Held, begin.Status);
        Assert.Empty(await Data.Enrollments.SendsAsync(s.EnrollmentId, Ct));
        var e = await Data.EnrollmentAsync(s);
        Assert.Equal(("active", 0, (DateTimeOffset?)TestData.T0), (e.State, e.CurrentStep, e.NextDueAt));
        Assert.Null(await Data.ScalarAsync<DateTimeOffset?>("select lease_until from enrollments where id = @id", new { id = s.EnrollmentId }));
        Assert.Equal(0, await LiveSlotsAsync(s.EnrollmentId));

        // Once resumed it is claimed and sent as usual.
        await Data.ExecuteAsync($"update {table} set state = 'active' where id = @id", new { id });
        Assert.Single(await Data.Dispatch.ClaimDueAsync(Now.AddMinutes(1), Now.AddMinutes(6), 10, Ct));
        Assert.Equal(BeginSendStatus.Proceed, (await BeginAsync(work, "m1@example.test", Now.AddMinutes(1))).Status);
    }

    [Fact]
    public async Task ResolveNotSentAsync_PlansTheSameMessageAgainAndResumes_WhenTheSendIsUnknown()
    {
        var (s, work, sendId) = await UnknownAsync();
        var later = Now.AddHours(1);

        Assert.Equal(ResolveSendStatus.Done, await Data.Dispatch.ResolveNotSentAsync(s.WorkspaceId, sendId, 0, later, Ct));

        var send = (await Data.Dispatch.GetSendAsync(s.WorkspaceId, sendId, Ct))!;
        Assert.Equal(("planned", "not_sent", (DateTimeOffset?)later, 1, s.ProspectId), (send.State, send.Resolution, send.ResolvedAt, send.Attempts, send.ProspectId));
        var e = await Data.EnrollmentAsync(s);
        Assert.Equal(("active", (string?)null, 0, (DateTimeOffset?)later), (e.State, e.StopReason, e.CurrentStep, e.NextDueAt));
        Assert.Equal(0, await LiveSlotsAsync(s.EnrollmentId));
        Assert.Contains(await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct), ev => ev is { Type: "send_resolved", Detail: "not_sent" });
        Assert.Equal(ResolveSendStatus.Conflict, await Data.Dispatch.ResolveNotSentAsync(s.WorkspaceId, sendId, 0, later, Ct));

        // The next claim sends it again: same row, same Message-ID, second attempt.
        Assert.Single(await Data.Dispatch.ClaimDueAsync(later, later.AddMinutes(5), 10, Ct));
        var again = await BeginAsync(work, "other@example.test", later);
        Assert.Equal((BeginSendStatus.Proceed, sendId, "m1@example.test", 2), (again.Status, again.SendId, again.MessageId, again.Attempt));
    }

    [Fact]
    public async Task ResolveSentAsync_MarksSentAndMovesOn_WhenTheSendIsUnknown()
    {
        var (s, work, sendId) = await UnknownAsync();
        var later = Now.AddHours(1);
        var next = SequenceProgress.Next(TestData.Definition, 1, later);

        Assert.Equal(ResolveSendStatus.Done, await Data.Dispatch.ResolveSentAsync(s.WorkspaceId, sendId, new SentMove(work, next, [], "m1@example.test", "Hello"), later, Ct));

        var send = (await Data.Dispatch.GetSendAsync(s.WorkspaceId, sendId, Ct))!;
        Assert.Equal(("sent", "sent", (DateTimeOffset?)later, (DateTimeOffset?)later), (send.State, send.Resolution, send.ResolvedAt, send.SentAt));
        var e = await Data.EnrollmentAsync(s);
        Assert.Equal(("active", 2, (DateTimeOffset?)later.AddDays(2), "m1@example.test"), (e.State, e.CurrentStep, e.NextDueAt, e.ThreadMessageId));
        Assert.Equal(["enrolled", "send_unknown", "send_resolved", "step_sent"], (await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct)).Select(ev => ev.Type).ToArray());
        Assert.Equal(1, await LiveSlotsAsync(s.EnrollmentId));
        Assert.Equal(ResolveSendStatus.Conflict, await Data.Dispatch.ResolveSentAsync(s.WorkspaceId, sendId, null, later, Ct));
    }

    [Fact]
    public async Task ResolveSentAsync_OnlyChangesTheRow_WhenTheEnrollmentWasStoppedMeanwhile()
    {
        var (s, work, sendId) = await UnknownAsync();
        await Data.ExecuteAsync("update enrollments set state = 'stopped', stop_reason = 'stopped_by_user' where id = @id", new { id = s.EnrollmentId });

        await Data.Dispatch.ResolveSentAsync(s.WorkspaceId, sendId, new SentMove(work, SequenceProgress.Next(TestData.Definition, 1, Now), [], "m1@example.test", "Hello"), Now, Ct);

        Assert.Equal("sent", (await Data.Dispatch.GetSendAsync(s.WorkspaceId, sendId, Ct))!.State);
        var e = await Data.EnrollmentAsync(s);
        Assert.Equal(("stopped", 0), (e.State, e.CurrentStep));
    }

    [Fact]
    public async Task ListSendsAsync_FiltersAndPages_AndNeverShowsAnotherWorkspacesSends()
    {
        var (s, _, unknown) = await UnknownAsync();
        var other = await UnknownAsync("m2@example.test");

        Assert.Equal([unknown], (await Data.Dispatch.ListSendsAsync(s.WorkspaceId, new SendFilter(), null, 10, Ct)).Select(r => r.Id));
        Assert.Equal([unknown], (await Data.Dispatch.ListSendsAsync(s.WorkspaceId, new SendFilter("unknown", s.EnrollmentId), null, 10, Ct)).Select(r => r.Id));
        Assert.Empty(await Data.Dispatch.ListSendsAsync(s.WorkspaceId, new SendFilter("sent"), null, 10, Ct));
        Assert.Empty(await Data.Dispatch.ListSendsAsync(s.WorkspaceId, new SendFilter(), unknown, 10, Ct));
        Assert.Null(await Data.Dispatch.GetSendAsync(s.WorkspaceId, other.SendId, Ct));
        Assert.Equal(ResolveSendStatus.NotFound, await Data.Dispatch.ResolveNotSentAsync(s.WorkspaceId, other.SendId, 0, Now, Ct));
        Assert.Equal("unknown", (await Data.Dispatch.GetSendAsync(other.S.WorkspaceId, other.SendId, Ct))!.State);
    }
}

public sealed class PostgresDispatchSendsStoreTests() : DispatchSendsStoreTests(SqlDialect.Postgres);

public sealed class SqliteDispatchSendsStoreTests() : DispatchSendsStoreTests(SqlDialect.Sqlite);
