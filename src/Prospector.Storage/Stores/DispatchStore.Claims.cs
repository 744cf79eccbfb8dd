using System.Data.Common;
using System.Globalization;
using Dapper;
using Prospector.Core.Scheduling;
using Prospector.Core.Sequences;

namespace Prospector.Storage.Stores;

/// <summary>An enrollment's current step with what placing it needs: the prospect's zone and country, the mailbox's window.</summary>
internal abstract class ScheduledStepRow
{
    public Guid Id { get; init; }
    public Guid SequenceId { get; init; }
    public Guid ProspectId { get; init; }
    public Guid MailboxId { get; init; }
    public int CurrentStep { get; init; }
    public string StepChannel { get; init; } = StepChannels.Email;
    public string? DueReasons { get; init; }
    public string? ProspectTimeZone { get; init; }
    public string? CompanyTimeZone { get; init; }
    public string? Country { get; init; }
    public string MailboxTimeZone { get; init; } = "UTC";
    public int WindowStartMinute { get; init; }
    public int WindowEndMinute { get; init; }
    public string WindowDays { get; init; } = "";

    public SendingWindow Window => SendingWindow.Parse(WindowStartMinute, WindowEndMinute, WindowDays);

    public StepSchedule Schedule(IHolidayCalendar holidays)
        => new(StepSchedule.ResolveZone(ProspectTimeZone, CompanyTimeZone, MailboxTimeZone), Country, Window, holidays);

    /// <summary>The jitter key of this step: stable per prospect, sequence and step, so a replay places it the same way.</summary>
    public string JitterKey => StepKeys.Jitter(ProspectId, SequenceId, CurrentStep);
}

/// <summary>A due enrollment as the claim sees it: its step's kind, when it was due and why, and its schedule.</summary>
internal sealed class ClaimCandidate : ScheduledStepRow
{
    public Guid WorkspaceId { get; init; }
    public DateTimeOffset NextDueAt { get; init; }
    public DateTimeOffset? WantedAt { get; init; }
}

/// <summary>A mailbox's limits and counters, read under its row lock.</summary>
internal sealed class MailboxCapacityRow
{
    public Guid Id { get; init; }
    public int DailyCap { get; init; }
    public int? HourlyCap { get; init; }
    public int MinGapSeconds { get; init; }
    public int? RampStart { get; init; }
    public int? RampStep { get; init; }
    public DateTimeOffset? RampStartedAt { get; init; }
    public string TimeZone { get; init; } = "UTC";
    public DateTimeOffset? LastSlotAt { get; init; }
    public string? BlockedReason { get; init; }
    public string? SlotsDay { get; init; }
    public int SlotsDayCount { get; init; }

    public MailboxLimits Limits() => MailboxLimitsOf(DailyCap, HourlyCap, MinGapSeconds, RampStart, RampStep, RampStartedAt, TimeZone);

    public static MailboxLimits MailboxLimitsOf(int dailyCap, int? hourlyCap, int minGapSeconds, int? rampStart, int? rampStep, DateTimeOffset? rampStartedAt, string zone)
        => new(
            dailyCap, hourlyCap, TimeSpan.FromSeconds(minGapSeconds),
            rampStart is { } start && rampStartedAt is { } since ? new RampUp(start, rampStep ?? 0, since) : null,
            StepSchedule.ResolveZone(null, null, zone));
}

internal sealed class SlotRef
{
    public Guid Id { get; init; }
    public Guid MailboxId { get; init; }
    public string Day { get; init; } = "";
}

internal sealed class HeldRef
{
    public string Kind { get; init; } = "";
    public Guid Id { get; init; }
}

internal sealed class SlotTime
{
    public Guid MailboxId { get; init; }
    public DateTimeOffset SlotAt { get; init; }
}

/// <summary>Keys that make scheduling deterministic.</summary>
public static class StepKeys
{
    /// <summary>The jitter key of a step of an enrollment: "prospect:sequence:step".</summary>
    public static string Jitter(Guid prospectId, Guid sequenceId, int stepIndex)
        => string.Create(CultureInfo.InvariantCulture, $"{prospectId:N}:{sequenceId:N}:{stepIndex}");
}

public sealed partial class DispatchStore
{
    /// <summary>A step that ran this much after its due time waited for something (capacity, a pause).</summary>
    private static readonly TimeSpan Late = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Leases up to <paramref name="batch"/> due enrollments until <paramref name="leaseUntil"/> and returns their ids, in
    /// due order. One transaction:
    /// <list type="number">
    /// <item>Due rows of active enrollments, sequences, mailboxes and workspaces are locked with FOR UPDATE SKIP LOCKED
    /// (SQLite: the transaction is the single writer), leaving out email steps of mailboxes blocked until later.</item>
    /// <item>Email and task steps outside their prospect's window (a cap or a pause held them past it) are not claimed:
    /// they are placed at the next allowed instant, with the reasons.</item>
    /// <item>Email steps need a mailbox slot: their mailboxes' rows are locked in id order, the daily (ramp-up), hourly
    /// and gap limits read, and one slot reserved per claimed step (mailbox_slots, 'reserved'). When a mailbox runs out,
    /// it is blocked until its next free instant and its other due steps stay as they are (untouched, claimed in due
    /// order once it frees). A step still holding a reserved slot (its worker died before sending) keeps it.</item>
    /// </list>
    /// Several processes may claim at once: rows are never claimed twice (row locks), and caps hold across processes
    /// because counting and reserving happen under the mailbox row lock.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int batch, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        // What holds due rows back is read first — paused sequences, paused workspaces, mailboxes not active, mailboxes
        // blocked by a limit (few rows) — so the inner query filters on enrollment columns only: PostgreSQL then walks
        // the due index in claim order and stops at the batch whatever its statistics of those small tables say (with
        // per-row joins it sorted every due row when they were missing: ~1 s per claim with 100k due). Held rows are
        // passed over, never returned, and never keep other work from being claimed.
        var held = (await c.QueryAsync<HeldRef>(new CommandDefinition(
            """
            select 'sequence' as kind, id from sequences where state = 'paused'
            union all select 'workspace', id from workspaces where state <> 'active'
            union all select 'mailbox', id from mailboxes where state <> 'active'
            union all select 'blocked', id from mailboxes where state = 'active' and blocked_until > @now
            """, new { now }, tx, cancellationToken: ct))).ToLookup(h => h.Kind, h => h.Id);
        var args = new
        {
            now, batch,
            sequences = held["sequence"].ToArray(), workspaces = held["workspace"].ToArray(),
            mailboxes = held["mailbox"].ToArray(), blocked = held["blocked"].ToArray(),
        };
        var sql = $"""
            select d.id, d.workspace_id, d.sequence_id, d.prospect_id, d.mailbox_id, d.current_step, d.step_channel, d.next_due_at, d.wanted_at, d.due_reasons,
                   p.time_zone as prospect_time_zone, co.time_zone as company_time_zone, p.country,
                   m.time_zone as mailbox_time_zone, m.window_start_minute, m.window_end_minute, m.window_days
            from (select e.id from enrollments e
                  where e.state = 'active' and e.next_due_at <= @now and (e.lease_until is null or e.lease_until <= @now)
                    and {db.Sql("not (e.sequence_id = any(@sequences))", "e.sequence_id not in @sequences")}
                    and {db.Sql("not (e.workspace_id = any(@workspaces))", "e.workspace_id not in @workspaces")}
                    and {db.Sql("not (e.mailbox_id = any(@mailboxes))", "e.mailbox_id not in @mailboxes")}
                    and (e.step_channel <> 'email' or {db.Sql("not (e.mailbox_id = any(@blocked))", "e.mailbox_id not in @blocked")})
                  order by e.next_due_at, e.prospect_id
                  limit @batch
                  {db.Sql("for update of e skip locked", "")}) due
            join enrollments d on d.id = due.id
            join mailboxes m on m.id = d.mailbox_id
            join prospects p on p.id = d.prospect_id
            left join companies co on co.id = p.company_id
            order by d.next_due_at, d.prospect_id
            """;
        var candidates = (await c.QueryAsync<ClaimCandidate>(new CommandDefinition(sql, args, tx, cancellationToken: ct))).AsList();
        if (candidates.Count == 0)
        {
            await tx.CommitAsync(ct);
            return [];
        }

        var claimed = new HashSet<Guid>();
        var email = new List<ClaimCandidate>();
        var moved = new List<object>();
        foreach (var candidate in candidates)
        {
            if (StepChannels.KeepsWindow(candidate.StepChannel))
            {
                var schedule = candidate.Schedule(Holidays);
                if (Scheduler.Check(now, schedule) != WaitReasons.None)
                {
                    var placed = Scheduler.Place(now, schedule, candidate.JitterKey);
                    moved.Add(new { id = candidate.Id, due = placed.At, reasons = Scheduler.Format(Scheduler.ParseReasons(candidate.DueReasons) | placed.Reasons) });
                    continue;
                }
            }

            if (candidate.StepChannel == StepChannels.Email)
            {
                email.Add(candidate);
            }
            else
            {
                claimed.Add(candidate.Id);
            }
        }

        if (moved.Count > 0)
        {
            await c.ExecuteAsync(new CommandDefinition(
                "update enrollments set next_due_at = @due, due_reasons = @reasons, wanted_at = coalesce(wanted_at, next_due_at) where id = @id",
                moved, tx, cancellationToken: ct));
        }

        if (email.Count > 0)
        {
            await ReserveSlotsAsync(c, tx, email, now, candidates.Count < batch, claimed, ct);
        }

        var ids = candidates.Where(x => claimed.Contains(x.Id)).Select(x => x.Id).ToArray();
        if (ids.Length > 0)
        {
            await c.ExecuteAsync(new CommandDefinition(
                $"update enrollments set lease_until = @leaseUntil where {db.Sql("id = any(@ids)", "id in @ids")}",
                new { leaseUntil, ids }, tx, cancellationToken: ct));
        }

        await tx.CommitAsync(ct);
        return ids;
    }

    private async Task ReserveSlotsAsync(DbConnection c, DbTransaction tx, List<ClaimCandidate> email, DateTimeOffset now, bool sawAllDue, HashSet<Guid> claimed, CancellationToken ct)
    {
        var mailboxIds = email.Select(x => x.MailboxId).Distinct().Order().ToArray();
        var enrollmentIds = email.Select(x => x.Id).ToArray();

        // The locks serialise claimers per mailbox (in id order, so two claimers never deadlock); FOR NO KEY UPDATE
        // does not block the foreign-key checks of rows that reference the mailbox.
        var mailboxes = (await c.QueryAsync<MailboxCapacityRow>(new CommandDefinition(
            $"""
            select id, daily_cap, hourly_cap, min_gap_seconds, ramp_start, ramp_step, ramp_started_at, time_zone, last_slot_at, blocked_reason, slots_day, slots_day_count
            from mailboxes where {db.Sql("id = any(@mailboxIds)", "id in @mailboxIds")} order by id {db.Sql("for no key update", "")}
            """, new { mailboxIds }, tx, cancellationToken: ct))).ToDictionary(m => m.Id);
        var held = (await c.QueryAsync<Guid>(new CommandDefinition(
            $"select enrollment_id from mailbox_slots where state = 'reserved' and {db.Sql("enrollment_id = any(@enrollmentIds)", "enrollment_id in @enrollmentIds")}",
            new { enrollmentIds }, tx, cancellationToken: ct))).ToHashSet();
        // The last hour's slots matter only to mailboxes with an hourly cap (read for those alone: a busy mailbox without
        // one would otherwise cost a scan of its whole hour on every claim).
        var hourAgo = now - TimeSpan.FromHours(1);
        var hourlyIds = mailboxes.Values.Where(m => m.HourlyCap is not null).Select(m => m.Id).ToArray();
        var hourly = (hourlyIds.Length == 0 ? [] : await c.QueryAsync<SlotTime>(new CommandDefinition(
            $"""
            select mailbox_id, slot_at from mailbox_slots
            where state <> 'released' and slot_at > @hourAgo and {db.Sql("mailbox_id = any(@hourlyIds)", "mailbox_id in @hourlyIds")}
            order by slot_at
            """, new { hourAgo, hourlyIds }, tx, cancellationToken: ct))).ToLookup(x => x.MailboxId, x => x.SlotAt);

        var slots = new List<object>();
        var updates = new List<object>();
        foreach (var group in email.GroupBy(x => x.MailboxId))
        {
            if (!mailboxes.TryGetValue(group.Key, out var mailbox))
            {
                continue;
            }

            var limits = mailbox.Limits();
            var day = Day(limits, now);
            var usedToday = mailbox.SlotsDay == day ? mailbox.SlotsDayCount : 0;
            var lastHour = hourly[group.Key].ToList();
            var lastSlot = mailbox.LastSlotAt;
            var backlogReason = Scheduler.ParseReasons(mailbox.BlockedReason);
            DateTimeOffset? blockedUntil = null;
            string? blockedReason = null;
            var exhausted = false;
            foreach (var candidate in group)
            {
                if (held.Contains(candidate.Id))
                {
                    // Its worker died between the claim and the send: the slot it holds is still counted, reuse it.
                    claimed.Add(candidate.Id);
                    continue;
                }

                var capacity = MailboxCapacity.At(limits, now, usedToday, lastHour, lastSlot);
                if (capacity.Available <= 0)
                {
                    blockedUntil = capacity.FreeAt;
                    blockedReason = Scheduler.Format(capacity.Limit);
                    exhausted = true;
                    break;
                }

                var waited = now - candidate.NextDueAt > Late ? backlogReason : WaitReasons.None;
                slots.Add(new
                {
                    id = Guid.CreateVersion7(now), workspaceId = candidate.WorkspaceId, mailboxId = candidate.MailboxId, enrollmentId = candidate.Id, day,
                    wantedAt = candidate.WantedAt ?? candidate.NextDueAt, dueAt = candidate.NextDueAt, now,
                    reasons = Scheduler.Format(Scheduler.ParseReasons(candidate.DueReasons) | waited),
                });
                usedToday++;
                lastHour.Add(now);
                lastSlot = now;
                claimed.Add(candidate.Id);
            }

            // The reason a backlog waits is kept while it lasts (steps claimed late name it); once every due step of the
            // mailbox was served with room to spare, it is cleared.
            var reason = exhausted ? blockedReason : sawAllDue ? null : mailbox.BlockedReason;
            updates.Add(new { id = mailbox.Id, lastSlot, day, usedToday, blockedUntil, reason });
        }

        if (slots.Count > 0)
        {
            await c.ExecuteAsync(new CommandDefinition(
                """
                insert into mailbox_slots (id, workspace_id, mailbox_id, enrollment_id, step_id, state, day, wanted_at, due_at, slot_at, reasons, updated_at)
                values (@id, @workspaceId, @mailboxId, @enrollmentId, null, 'reserved', @day, @wantedAt, @dueAt, @now, @reasons, @now)
                """, slots, tx, cancellationToken: ct));
        }

        await c.ExecuteAsync(new CommandDefinition(
            """
            update mailboxes set last_slot_at = @lastSlot, slots_day = @day, slots_day_count = @usedToday, blocked_until = @blockedUntil, blocked_reason = @reason
            where id = @id
            """, updates, tx, cancellationToken: ct));
    }

    /// <summary>The mailbox's local day of an instant, as stored in slots_day ("yyyy-MM-dd").</summary>
    internal static string Day(MailboxLimits limits, DateTimeOffset at)
        => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, limits.Zone).DateTime).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The claimed step's slot is being used for a send attempt (its step is known now).</summary>
    // The reserved slot of @enrollmentId becomes used by @stepId (run in the pre-send transaction, batched with the send row).
    private const string UseSlotSql = "update mailbox_slots set state = 'used', step_id = @stepId, updated_at = @now where enrollment_id = @enrollmentId and state = 'reserved'";

    /// <summary>
    /// Gives back the enrollment's slots in <paramref name="state"/> ('reserved': nothing was attempted; 'used' with a step:
    /// a transient failure, nothing was accepted) — they stop counting, the day's counter goes down and the mailbox is
    /// unblocked so the next claim recounts.
    /// </summary>
    private static async Task ReleaseSlotsAsync(DbConnection c, DbTransaction tx, Guid enrollmentId, string state, string? stepId, DateTimeOffset now, CancellationToken ct)
    {
        var released = (await c.QueryAsync<SlotRef>(new CommandDefinition(
            stepId is null
                ? "select id, mailbox_id, day from mailbox_slots where enrollment_id = @enrollmentId and state = @state"
                : "select id, mailbox_id, day from mailbox_slots where enrollment_id = @enrollmentId and state = @state and step_id = @stepId",
            new { enrollmentId, state, stepId }, tx, cancellationToken: ct))).AsList();
        foreach (var slot in released)
        {
            await c.ExecuteAsync(new CommandDefinition(
                "update mailbox_slots set state = 'released', updated_at = @now where id = @id", new { id = slot.Id, now }, tx, cancellationToken: ct));
            await c.ExecuteAsync(new CommandDefinition(
                """
                update mailboxes set blocked_until = null,
                    slots_day_count = case when slots_day = @Day and slots_day_count > 0 then slots_day_count - 1 else slots_day_count end
                where id = @MailboxId
                """, new { slot.MailboxId, slot.Day }, tx, cancellationToken: ct));
        }
    }
}

/// <summary>What a resume covers.</summary>
public enum CatchUpScope
{
    /// <summary>Every enrollment of a sequence.</summary>
    Sequence,
    /// <summary>Every enrollment sending from a mailbox.</summary>
    Mailbox,
    /// <summary>Every enrollment of the workspace.</summary>
    Workspace,
}

/// <summary>An overdue step to spread on resume, with its mailbox's limits.</summary>
internal sealed class OverdueStep : ScheduledStepRow
{
    public int DailyCap { get; init; }
    public int? HourlyCap { get; init; }
    public int MinGapSeconds { get; init; }
    public int? RampStart { get; init; }
    public int? RampStep { get; init; }
    public DateTimeOffset? RampStartedAt { get; init; }
}

public sealed partial class DispatchStore
{
    /// <summary>
    /// The catch-up policy, applied just before a sequence, mailbox or workspace resumes (while its steps still cannot be
    /// claimed): steps that fell due while it was paused are spread at each mailbox's pace (<see cref="CatchUp"/>: one
    /// every max(gap, window length / daily cap), in due order from <paramref name="now"/>), each placed in its prospect's
    /// window, with "paused" added to their reasons. Caps still apply when they are claimed. Returns how many moved.
    /// </summary>
    public async Task<int> CatchUpAsync(Guid workspaceId, CatchUpScope scope, Guid id, DateTimeOffset now, CancellationToken ct)
    {
        var filter = scope switch
        {
            CatchUpScope.Sequence => "e.sequence_id = @id",
            CatchUpScope.Mailbox => "e.mailbox_id = @id",
            _ => "e.workspace_id = @id",
        };
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var overdue = (await c.QueryAsync<OverdueStep>(new CommandDefinition(
            $"""
            select e.id, e.sequence_id, e.prospect_id, e.mailbox_id, e.current_step, e.step_channel, e.due_reasons,
                   p.time_zone as prospect_time_zone, co.time_zone as company_time_zone, p.country,
                   m.time_zone as mailbox_time_zone, m.window_start_minute, m.window_end_minute, m.window_days,
                   m.daily_cap, m.hourly_cap, m.min_gap_seconds, m.ramp_start, m.ramp_step, m.ramp_started_at
            from enrollments e
            join mailboxes m on m.id = e.mailbox_id
            join prospects p on p.id = e.prospect_id
            left join companies co on co.id = p.company_id
            where e.workspace_id = @workspaceId and {filter} and e.state = 'active' and e.next_due_at < @now
              and (e.lease_until is null or e.lease_until <= @now)
            order by e.next_due_at, e.prospect_id
            """, new { workspaceId, id, now }, tx, cancellationToken: ct))).AsList();
        var updates = new List<object>();
        foreach (var group in overdue.GroupBy(x => x.MailboxId))
        {
            var first = group.First();
            var limits = MailboxCapacityRow.MailboxLimitsOf(
                first.DailyCap, first.HourlyCap, first.MinGapSeconds, first.RampStart, first.RampStep, first.RampStartedAt, first.MailboxTimeZone);
            var window = first.Window;
            var steps = group.ToList();
            var wanted = CatchUp.Spread(steps.Count, now, limits, window);
            for (var i = 0; i < steps.Count; i++)
            {
                var step = steps[i];
                var reasons = Scheduler.ParseReasons(step.DueReasons) | WaitReasons.Paused;
                var at = wanted[i];
                if (StepChannels.KeepsWindow(step.StepChannel))
                {
                    var placed = Scheduler.Place(at, step.Schedule(Holidays), step.JitterKey);
                    at = placed.At;
                    reasons |= placed.Reasons;
                }

                updates.Add(new { id = step.Id, due = at, reasons = Scheduler.Format(reasons) });
            }
        }

        if (updates.Count > 0)
        {
            await c.ExecuteAsync(new CommandDefinition(
                "update enrollments set wanted_at = coalesce(wanted_at, next_due_at), next_due_at = @due, due_reasons = @reasons where id = @id",
                updates, tx, cancellationToken: ct));
        }

        await tx.CommitAsync(ct);
        return updates.Count;
    }
}
