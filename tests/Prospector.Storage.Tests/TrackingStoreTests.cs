using Prospector.Core.Prospects;
using Prospector.Core.Sequences;
using Prospector.Storage.Stores;

namespace Prospector.Storage.Tests;

public abstract class TrackingStoreTests(SqlDialect dialect) : StoreTestBase(dialect)
{
    private static readonly DateTimeOffset Now = TestData.T0.AddHours(1);

    /// <summary>A scenario whose step s1 was sent at T0; returns it with its send.</summary>
    private async Task<(Scenario Scenario, TrackedSend Send)> SentAsync(string? email = null)
    {
        var s = await Data.ScenarioAsync(email);
        var work = await Data.WorkAsync(s.EnrollmentId);
        var begin = await Data.Dispatch.BeginSendAsync(work, "s1", Guid.CreateVersion7(TestData.T0), $"{Guid.NewGuid():N}@example.test", "Hello", TestData.T0, Ct);
        Assert.Equal(BeginSendStatus.Proceed, begin.Status);
        await Data.Dispatch.MarkSentAsync(work, begin.SendId, "s1", SequenceProgress.Next(TestData.Definition, 1, TestData.T0), null, "Hello", TestData.T0, Ct);
        var tracking = new TrackingStore(Db);
        return (s, (await tracking.FindSendAsync(begin.SendId, Ct))!);
    }

    private TrackingStore Tracking => new(Db);

    [Fact]
    public async Task FindSendAsync_ReturnsWorkspaceEnrollmentStepSentAtAndAddress()
    {
        var (s, send) = await SentAsync("ann@acme.test");

        Assert.Equal((s.WorkspaceId, s.EnrollmentId, s.ProspectId, "s1", TestData.T0, "ann@acme.test"), (send.WorkspaceId, send.EnrollmentId, send.ProspectId, send.StepId, send.SentAt, send.Email));
        Assert.Null(await Tracking.FindSendAsync(Guid.NewGuid(), Ct));
    }

    [Fact]
    public async Task RecordHitAsync_AppendsOpenedOnlyForFirstHumanOpen_WhenMachineAndHumansHit()
    {
        var (s, send) = await SentAsync();

        var machine = await Tracking.RecordHitAsync(send, TrackingStore.OpenKind, null, true, "google_image_proxy", Now, Ct);
        var first = await Tracking.RecordHitAsync(send, TrackingStore.OpenKind, null, false, null, Now.AddMinutes(1), Ct);
        var second = await Tracking.RecordHitAsync(send, TrackingStore.OpenKind, null, false, null, Now.AddMinutes(2), Ct);

        Assert.Equal((false, true, false), (machine, first, second));
        var hits = await Tracking.HitsForSendAsync(send.SendId, Ct);
        Assert.Equal([(true, "google_image_proxy"), (false, null), (false, null)], hits.Select(h => (h.Machine, h.MachineReason)));
        Assert.All(hits, h => Assert.Equal(("open", s.EnrollmentId, (string?)null), (h.Kind, h.EnrollmentId, h.Url)));
        var events = (await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct)).Where(e => e.Type is "opened" or "clicked").ToArray();
        var opened = Assert.Single(events);
        Assert.Equal(("opened", "s1"), (opened.Type, opened.Detail));
        Assert.Equal(3, (await Tracking.HitsForEnrollmentAsync(s.WorkspaceId, s.EnrollmentId, Ct)).Count);
        Assert.Empty(await Tracking.HitsForEnrollmentAsync(Guid.NewGuid(), s.EnrollmentId, Ct));
    }

    [Fact]
    public async Task RecordHitAsync_StoresUrlAndNeverAppendsEvent_WhenOnlyMachinesClick()
    {
        var (s, send) = await SentAsync();

        await Tracking.RecordHitAsync(send, TrackingStore.ClickKind, "https://acme.test/a?b=1", true, "too_soon_after_send", Now, Ct);
        await Tracking.RecordHitAsync(send, TrackingStore.ClickKind, "https://acme.test/a?b=1", true, "head_request", Now, Ct);

        Assert.DoesNotContain(await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct), e => e.Type is "clicked" or "opened");
        Assert.All(await Tracking.HitsForSendAsync(send.SendId, Ct), h => Assert.Equal(("click", "https://acme.test/a?b=1", true), (h.Kind, h.Url, h.Machine)));

        Assert.True(await Tracking.RecordHitAsync(send, TrackingStore.ClickKind, "https://acme.test/a?b=1", false, null, Now.AddMinutes(3), Ct));
        Assert.Contains(await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct), e => e.Type == "clicked" && e.Detail == "s1");
    }

    [Fact]
    public async Task UnsubscribeAsync_SuppressesAndStopsEveryRunningEnrollmentOfProspect_OnceOnly()
    {
        var (s, send) = await SentAsync("bob@acme.test");
        // The same prospect in a second sequence (paused, with an open task), and a third, already completed.
        var other = await Data.SequenceAsync(s.WorkspaceId);
        var done = await Data.SequenceAsync(s.WorkspaceId);
        var plan = new EnrollPlan(s.WorkspaceId, other.Id, 1, [s.Mailbox.Id], 0, TestData.T0, TestData.T0) { ProspectIds = [s.ProspectId], SkipActiveInOtherSequences = false };
        var otherId = Assert.Single((await Data.Enrollments.EnrollAsync(plan, Ct)).Enrolled).EnrollmentId;
        var doneId = Assert.Single((await Data.Enrollments.EnrollAsync(plan with { SequenceId = done.Id }, Ct)).Enrolled).EnrollmentId;
        await Data.ExecuteAsync("update enrollments set state = 'paused', stop_reason = 'paused_by_user' where id = @otherId", new { otherId });
        await Data.ExecuteAsync("update enrollments set state = 'completed' where id = @doneId", new { doneId });
        await Data.ExecuteAsync(
            """
            insert into tasks (id, workspace_id, enrollment_id, step_id, type, title, state, due_at, created_at)
            values (@task, @ws, @otherId, 'call-1', 'call', 'Call', 'open', @at, @at)
            """, new { task = Guid.NewGuid(), ws = s.WorkspaceId, otherId, at = TestData.T0 });

        var first = await Tracking.UnsubscribeAsync(send.SendId, Now, Ct);
        var again = await Tracking.UnsubscribeAsync(send.SendId, Now.AddMinutes(5), Ct);

        Assert.Equal((true, true), (first.Found, first.Suppressed));
        Assert.Equal([s.EnrollmentId, otherId], first.Stopped);
        Assert.Equal((true, false, 0), (again.Found, again.Suppressed, again.Stopped.Count));
        Assert.True(await Data.Suppressions.IsSuppressedAsync(s.WorkspaceId, "BOB@acme.test", Ct));
        Assert.Equal(("address", "unsubscribe_link"), Assert.Single(await Data.QueryAsync<(string, string)>(
            "select kind, reason from suppressions where workspace_id = @ws", new { ws = s.WorkspaceId })));
        var states = (await Data.QueryAsync<(Guid Id, string State, string? Reason)>(
            "select id, state, stop_reason from enrollments where prospect_id = @p", new { p = s.ProspectId })).ToDictionary(r => r.Id);
        Assert.Equal(("unsubscribed", "unsubscribe_link"), (states[s.EnrollmentId].State, states[s.EnrollmentId].Reason));
        Assert.Equal(("unsubscribed", "unsubscribe_link"), (states[otherId].State, states[otherId].Reason));
        Assert.Equal("completed", states[doneId].State);
        Assert.Equal(("skipped", "unsubscribed"), Assert.Single(await Data.QueryAsync<(string, string)>("select state, outcome from tasks where enrollment_id = @otherId", new { otherId })));
        Assert.Single(await Data.Enrollments.EventsAsync(s.EnrollmentId, Ct), e => e.Type == "unsubscribed" && e.Detail == "s1");
        Assert.Single(await Data.Enrollments.EventsAsync(otherId, Ct), e => e.Type == "unsubscribed" && e.Detail == $"via:{s.EnrollmentId}");
        Assert.DoesNotContain(await Data.Enrollments.EventsAsync(doneId, Ct), e => e.Type == "unsubscribed");
        Assert.Null(await Data.ScalarAsync<string?>("select cast(next_due_at as text) from enrollments where id = @id", new { id = s.EnrollmentId }));
    }

    [Fact]
    public async Task UnsubscribeAsync_ReturnsNotFound_WhenSendIsUnknown()
        => Assert.False((await Tracking.UnsubscribeAsync(Guid.NewGuid(), Now, Ct)).Found);

    [Fact]
    public async Task DomainEntry_SuppressesEveryAddressAtDomain_InCheckEnrollAndPreSend()
    {
        var s = await Data.ScenarioAsync("carol@blocked.test");
        var (row, created) = await Data.Suppressions.AddKeyAsync(s.WorkspaceId, SuppressionKeys.ForDomain("Blocked.TEST"), SuppressionKeys.DomainKind, "manual", Now, Ct);

        Assert.True(created);
        Assert.Equal(("domain", "manual", Now), (row.Kind, row.Reason, row.CreatedAt));
        Assert.True(await Data.Suppressions.IsSuppressedAsync(s.WorkspaceId, "dave@BLOCKED.test", Ct));
        Assert.False(await Data.Suppressions.IsSuppressedAsync(s.WorkspaceId, "dave@sub.blocked.test", Ct));
        Assert.False(await Data.Suppressions.IsSuppressedAsync(s.WorkspaceId, "dave@open.test", Ct));
        Assert.False(await Data.Suppressions.IsSuppressedAsync(await Data.WorkspaceAsync("other"), "dave@blocked.test", Ct));

        // Enrolling: skipped as suppressed, next to a prospect elsewhere who is enrolled.
        var dave = await Data.ProspectAsync(s.WorkspaceId, "dave@blocked.test");
        var erin = await Data.ProspectAsync(s.WorkspaceId, "erin@open.test");
        var result = await Data.Enrollments.EnrollAsync(s.WorkspaceId, s.Sequence.Id, 1, s.Mailbox.Id, [dave, erin], 0, TestData.T0, TestData.T0, Ct);
        Assert.Equal([new EnrollmentStore.Skipped(dave, "suppressed")], result.Skipped);
        Assert.Equal(erin, Assert.Single(result.Enrolled).ProspectId);

        // Sending: the pre-send check stops the already enrolled prospect at that domain.
        var begin = await Data.Dispatch.BeginSendAsync(await Data.WorkAsync(s.EnrollmentId), "s1", Guid.NewGuid(), "x@example.test", "Hello", Now, Ct);
        Assert.Equal(BeginSendStatus.Suppressed, begin.Status);
        Assert.Equal("suppressed", (await Data.EnrollmentAsync(s)).State);
    }

    [Fact]
    public async Task RemoveAsync_RemovesManualEntries_AndProtectsOthersUnlessAllowed()
    {
        var ws = await Data.WorkspaceAsync();
        await Data.Suppressions.AddAsync(ws, "gone@acme.test", "unsubscribe_link", Now, Ct);
        await Data.Suppressions.AddKeyAsync(ws, SuppressionKeys.ForAddress("typo@acme.test"), SuppressionKeys.AddressKind, "manual", Now, Ct);

        Assert.Equal(SuppressionRemoval.Protected, await Data.Suppressions.RemoveAsync(ws, SuppressionKeys.ForAddress("gone@acme.test"), false, Ct));
        Assert.True(await Data.Suppressions.IsSuppressedAsync(ws, "gone@acme.test", Ct));
        Assert.Equal(SuppressionRemoval.Removed, await Data.Suppressions.RemoveAsync(ws, SuppressionKeys.ForAddress("typo@acme.test"), false, Ct));
        Assert.Equal(SuppressionRemoval.NotFound, await Data.Suppressions.RemoveAsync(ws, SuppressionKeys.ForAddress("typo@acme.test"), false, Ct));
        Assert.Equal(SuppressionRemoval.NotFound, await Data.Suppressions.RemoveAsync(await Data.WorkspaceAsync("b"), SuppressionKeys.ForAddress("gone@acme.test"), true, Ct));
        Assert.Equal(SuppressionRemoval.Removed, await Data.Suppressions.RemoveAsync(ws, SuppressionKeys.ForAddress("gone@acme.test"), true, Ct));
        Assert.False(await Data.Suppressions.IsSuppressedAsync(ws, "gone@acme.test", Ct));
    }

    [Fact]
    public async Task ListAsync_PagesByHash_WhenMoreEntriesThanLimit()
    {
        var ws = await Data.WorkspaceAsync();
        for (var i = 0; i < 5; i++)
        {
            await Data.Suppressions.AddAsync(ws, $"p{i}@acme.test", "manual", Now, Ct);
        }

        await Data.Suppressions.AddAsync(await Data.WorkspaceAsync("b"), "theirs@acme.test", "manual", Now, Ct);
        var first = await Data.Suppressions.ListAsync(ws, null, 3, Ct);
        var rest = await Data.Suppressions.ListAsync(ws, first[^1].AddressHash, 3, Ct);

        var all = first.Concat(rest).Select(r => r.AddressHash).ToArray();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => SuppressionKeys.ForAddress($"p{i}@acme.test")).Order(StringComparer.Ordinal), all);
        Assert.Equal(2, rest.Count);
    }
}

public sealed class PostgresTrackingStoreTests() : TrackingStoreTests(SqlDialect.Postgres);

public sealed class SqliteTrackingStoreTests() : TrackingStoreTests(SqlDialect.Sqlite);
