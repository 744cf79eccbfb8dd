using Prospector.Core.Scheduling;
using Prospector.Core.Sequences;
using Prospector.Storage.Stores;

namespace Prospector.Storage.Tests;

/// <summary>The claim's scheduling: mailbox capacity (daily, hourly, gap), slots, windows in the prospect's zone, catch-up.</summary>
public abstract class DispatchCapacityStoreTests(SqlDialect dialect) : StoreTestBase(dialect)
{
    // Monday 2025-03-03 09:00 UTC: inside the default window (Mon–Fri 08:00–18:00) of a UTC mailbox.
    private static readonly DateTimeOffset Monday9 = TestData.T0;

    // Claimed steps are not sent in these tests: a lease that outlives them keeps them from being claimed again.
    private static readonly DateTimeOffset Lease = TestData.T0.AddDays(30);

    private async Task<(Guid Workspace, MailboxRow Mailbox, SequenceRow Sequence, List<Guid> Enrollments)> DueAsync(
        int count, int dailyCap = 50, DateTimeOffset? dueAt = null, Guid? workspace = null)
    {
        var ws = workspace ?? await Data.WorkspaceAsync();
        var mailbox = await Data.MailboxAsync(ws, dailyCap: dailyCap);
        var sequence = await Data.SequenceAsync(ws);
        var enrollments = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var prospect = await Data.ProspectAsync(ws, $"p{Guid.NewGuid():N}@example.test");
            enrollments.Add(await Data.EnrollAsync(ws, sequence.Id, mailbox.Id, prospect, dueAt ?? Monday9));
        }

        // Claims take due steps in due order, then by prospect id: list them in that order.
        var ordered = await Data.QueryAsync<Guid>("select id from enrollments where mailbox_id = @id order by prospect_id", new { id = mailbox.Id });
        return (ws, mailbox, sequence, ordered.ToList());
    }

    private Task<long> SlotsAsync(Guid mailboxId)
        => Data.ScalarAsync<long>("select count(*) from mailbox_slots where mailbox_id = @mailboxId and state <> 'released'", new { mailboxId });

    [Fact]
    public async Task ClaimDueAsync_StopsAtTheDailyCap_AndBlocksTheMailboxUntilItsNextDay()
    {
        var (_, mailbox, _, enrollments) = await DueAsync(5, dailyCap: 3);

        var first = await Data.Dispatch.ClaimDueAsync(Monday9, Lease, 10, Ct);
        var again = await Data.Dispatch.ClaimDueAsync(Monday9.AddMinutes(1), Lease, 10, Ct);

        Assert.Equal(3, first.Count);
        Assert.Equal(enrollments.Take(3), first); // due order; ties by prospect id
        Assert.Empty(again);
        Assert.Equal(3, await SlotsAsync(mailbox.Id));
        var blocked = await Data.QueryAsync<MailboxBlock>("select blocked_until, blocked_reason from mailboxes where id = @id", new { id = mailbox.Id });
        Assert.Equal(new DateTimeOffset(2025, 3, 4, 0, 0, 0, TimeSpan.Zero), blocked[0].BlockedUntil);
        Assert.Equal("daily_cap", blocked[0].BlockedReason);
        // The two over the cap are untouched: still due, not leased.
        var waiting = await Data.QueryAsync<EnrollmentDue>(
            "select id, next_due_at, lease_until, due_reasons from enrollments where lease_until is null and state = 'active'");
        Assert.Equal(enrollments.Skip(3).Order(), waiting.Select(w => w.Id).Order());
        Assert.All(waiting, w => Assert.Equal(Monday9, w.NextDueAt));
    }

    [Fact]
    public async Task ClaimDueAsync_PlacesCapHeldStepsInTheNextWindow_WithTheirReasons()
    {
        var (_, _, _, enrollments) = await DueAsync(3, dailyCap: 1);
        Assert.Single(await Data.Dispatch.ClaimDueAsync(Monday9, Lease, 10, Ct));

        // Tuesday 00:00: the cap frees but the window is closed: the waiting steps are moved into Tuesday's window.
        var midnight = new DateTimeOffset(2025, 3, 4, 0, 0, 0, TimeSpan.Zero);
        Assert.Empty(await Data.Dispatch.ClaimDueAsync(midnight, Lease, 10, Ct));
        var moved = await Data.QueryAsync<EnrollmentDue>(
            "select id, next_due_at, lease_until, due_reasons from enrollments where lease_until is null and state = 'active' order by next_due_at");
        Assert.Equal(2, moved.Count);
        Assert.All(moved, m =>
        {
            Assert.InRange(m.NextDueAt!.Value, midnight.AddHours(8), midnight.AddHours(18));
            Assert.Contains("window", m.DueReasons!, StringComparison.Ordinal);
        });

        // At the first of those times one is claimed (the cap is 1), and its slot says why it waited.
        var at = moved[0].NextDueAt!.Value;
        var claimed = await Data.Dispatch.ClaimDueAsync(at, Lease, 10, Ct);
        Assert.Equal(moved[0].Id, Assert.Single(claimed));
        var reasons = await Data.ScalarAsync<string>("select reasons from mailbox_slots where enrollment_id = @id", new { id = moved[0].Id });
        Assert.Contains("window", reasons, StringComparison.Ordinal);
        Assert.Contains(enrollments, e => e == moved[0].Id);
    }

    [Fact]
    public async Task ClaimDueAsync_KeepsTheHourlyCap_OverARollingHour()
    {
        var (_, mailbox, _, _) = await DueAsync(5, dailyCap: 50);
        await Data.ExecuteAsync("update mailboxes set hourly_cap = 2 where id = @id", new { id = mailbox.Id });

        Assert.Equal(2, (await Data.Dispatch.ClaimDueAsync(Monday9, Lease, 10, Ct)).Count);
        Assert.Empty(await Data.Dispatch.ClaimDueAsync(Monday9.AddMinutes(59), Lease, 10, Ct));
        Assert.Equal("hourly_cap", await Data.ScalarAsync<string>("select blocked_reason from mailboxes where id = @id", new { id = mailbox.Id }));
        Assert.Equal(2, (await Data.Dispatch.ClaimDueAsync(Monday9.AddHours(1).AddSeconds(1), Lease, 10, Ct)).Count);
    }

    [Fact]
    public async Task ClaimDueAsync_KeepsTheMinimumGap_BetweenTwoSlots()
    {
        var (_, mailbox, _, _) = await DueAsync(3, dailyCap: 50);
        await Data.ExecuteAsync("update mailboxes set min_gap_seconds = 60 where id = @id", new { id = mailbox.Id });

        Assert.Single(await Data.Dispatch.ClaimDueAsync(Monday9, Lease, 10, Ct));
        Assert.Empty(await Data.Dispatch.ClaimDueAsync(Monday9.AddSeconds(30), Lease, 10, Ct));
        Assert.Single(await Data.Dispatch.ClaimDueAsync(Monday9.AddSeconds(60), Lease, 10, Ct));
        var slots = await Data.QueryAsync<DateTimeOffset>("select slot_at from mailbox_slots where mailbox_id = @id order by slot_at", new { id = mailbox.Id });
        Assert.Equal([Monday9, Monday9.AddSeconds(60)], slots);
    }

    [Fact]
    public async Task ClaimDueAsync_RampsUp_FromStartPerDay()
    {
        var (_, mailbox, _, _) = await DueAsync(6, dailyCap: 50);
        await Data.ExecuteAsync("update mailboxes set ramp_start = 2, ramp_step = 1, ramp_started_at = @Monday9 where id = @id", new { id = mailbox.Id, Monday9 });

        Assert.Equal(2, (await Data.Dispatch.ClaimDueAsync(Monday9, Lease, 10, Ct)).Count);
        var tuesday = Monday9.AddDays(1);
        Assert.Equal(3, (await Data.Dispatch.ClaimDueAsync(tuesday, Lease, 10, Ct)).Count);
    }

    [Fact]
    public async Task TransientFailure_ReleasesTheSlot_AndUnblocksTheMailbox()
    {
        var (_, mailbox, _, enrollments) = await DueAsync(2, dailyCap: 1);
        var claimed = Assert.Single(await Data.Dispatch.ClaimDueAsync(Monday9, Lease, 10, Ct));
        Assert.Empty(await Data.Dispatch.ClaimDueAsync(Monday9, Lease, 10, Ct)); // blocks the mailbox
        var work = Assert.Single(await Data.Dispatch.LoadAsync([claimed], Ct));
        var begin = await Data.Dispatch.BeginSendAsync(work, "s1", Guid.NewGuid(), "t1@example.test", "Hello", Monday9, Ct);
        Assert.Equal(BeginSendStatus.Proceed, begin.Status);
        Assert.Equal("used", await Data.ScalarAsync<string>("select state from mailbox_slots where enrollment_id = @claimed", new { claimed }));

        await Data.Dispatch.MarkRetryAsync(work, begin.SendId, Monday9.AddMinutes(10), 451, "try later", Monday9, Ct);

        Assert.Equal(0, await SlotsAsync(mailbox.Id));
        // The other prospect can take the freed slot at once.
        var other = enrollments.Single(e => e != claimed);
        Assert.Equal(other, Assert.Single(await Data.Dispatch.ClaimDueAsync(Monday9.AddSeconds(1), Lease, 10, Ct)));
    }

    [Fact]
    public async Task ClaimDueAsync_MovesStepsOutsideTheProspectsWindow_InTheirZoneAndCountry()
    {
        var (_, _, _, enrollments) = await DueAsync(2);
        // 09:00 UTC is 04:00 in New York (before the window) and a French holiday would not matter on a Monday in March.
        await Data.ExecuteAsync("update prospects set time_zone = 'America/New_York' where id = (select prospect_id from enrollments where id = @id)", new { id = enrollments[0] });

        var claimed = await Data.Dispatch.ClaimDueAsync(Monday9, Lease, 10, Ct);

        Assert.Equal(enrollments[1], Assert.Single(claimed));
        var moved = Assert.Single(await Data.QueryAsync<EnrollmentDue>(
            "select id, next_due_at, lease_until, due_reasons from enrollments where id = @id", new { id = enrollments[0] }));
        // 08:00–18:00 New York (EST, UTC−5) on Monday 3 March: 13:00–23:00 UTC.
        Assert.InRange(moved.NextDueAt!.Value, Monday9.AddHours(4), Monday9.AddHours(14));
        Assert.Equal("window", moved.DueReasons);
        Assert.Null(moved.LeaseUntil);
    }

    [Fact]
    public async Task ClaimDueAsync_SkipsPausedWorkspaces()
    {
        var (ws, _, _, _) = await DueAsync(2);
        await Data.ExecuteAsync("update workspaces set state = 'paused' where id = @ws", new { ws });
        Assert.Empty(await Data.Dispatch.ClaimDueAsync(Monday9, Lease, 10, Ct));
        await Data.ExecuteAsync("update workspaces set state = 'active' where id = @ws", new { ws });
        Assert.Equal(2, (await Data.Dispatch.ClaimDueAsync(Monday9, Lease, 10, Ct)).Count);
    }

    [Fact]
    public async Task CatchUpAsync_SpreadsOverdueSteps_AtTheMailboxPace()
    {
        // 20 steps fell due at 09:00 while the sequence was paused; it resumes at 10:00. Cap 100 over a 10-hour window:
        // one every 6 minutes, each in its window, in due order.
        var (ws, mailbox, sequence, enrollments) = await DueAsync(20, dailyCap: 100);
        var resumedAt = Monday9.AddHours(1);

        var moved = await Data.Dispatch.CatchUpAsync(ws, CatchUpScope.Sequence, sequence.Id, resumedAt, Ct);

        Assert.Equal(20, moved);
        var due = await Data.QueryAsync<EnrollmentDue>(
            "select id, next_due_at, lease_until, due_reasons from enrollments where sequence_id = @id order by next_due_at", new { id = sequence.Id });
        Assert.Equal(enrollments, due.Select(d => d.Id));
        for (var i = 0; i < due.Count; i++)
        {
            Assert.Equal(resumedAt.AddMinutes(6 * i), due[i].NextDueAt);
            Assert.Equal("paused", due[i].DueReasons);
        }

        Assert.Single(await Data.Dispatch.ClaimDueAsync(resumedAt, Lease, 50, Ct));
        Assert.Equal(mailbox.Id, (await Data.QueryAsync<Guid>("select mailbox_id from mailbox_slots")).Single());
    }

    [Fact]
    public async Task ClaimDueAsync_NeverExceedsCaps_WhenFourWorkersClaimConcurrently()
    {
        var ws = await Data.WorkspaceAsync();
        var a = await DueAsync(60, dailyCap: 20, workspace: ws);
        var b = await DueAsync(60, dailyCap: 25, workspace: ws);

        var perWorker = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var mine = new List<Guid>();
            for (var round = 0; round < 50; round++)
            {
                var batch = await Data.Dispatch.ClaimDueAsync(Monday9, Lease, 7, Ct);
                if (batch.Count == 0)
                {
                    return mine;
                }

                mine.AddRange(batch);
            }

            return mine;
        })));

        var all = perWorker.SelectMany(w => w).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(20, all.Count(a.Enrollments.Contains));
        Assert.Equal(25, all.Count(b.Enrollments.Contains));
        Assert.Equal(20, await SlotsAsync(a.Mailbox.Id));
        Assert.Equal(25, await SlotsAsync(b.Mailbox.Id));
    }

    private sealed class MailboxBlock
    {
        public DateTimeOffset? BlockedUntil { get; init; }
        public string? BlockedReason { get; init; }
    }

    private sealed class EnrollmentDue
    {
        public Guid Id { get; init; }
        public DateTimeOffset? NextDueAt { get; init; }
        public DateTimeOffset? LeaseUntil { get; init; }
        public string? DueReasons { get; init; }
    }
}

public sealed class PostgresDispatchCapacityStoreTests() : DispatchCapacityStoreTests(SqlDialect.Postgres);

public sealed class SqliteDispatchCapacityStoreTests() : DispatchCapacityStoreTests(SqlDialect.Sqlite);
