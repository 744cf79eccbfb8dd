using Prospector.Core.Inbound;
using Prospector.Core.Sequences;
using Prospector.Server.Apis;
using Prospector.Server.Engine;
using Prospector.Storage;
using Prospector.Storage.Stores;

namespace Prospector.Server.Simulation;

/// <summary>
/// A dry run of a sequence: the real enrollment code, <see cref="Dispatcher"/>, task and inbound effects, on a scratch
/// SQLite database (deleted afterwards) and a <see cref="VirtualClock"/> that jumps to the next instant anything can
/// happen. Email and webhook channels record instead of acting; the SDR completes every task the moment it is created.
/// </summary>
public static class Simulator
{
    /// <summary>
    /// Runs a simulation: <paramref name="seed"/> fills the freshly migrated scratch database (through the services it is
    /// given) and returns the plan; then prospects are enrolled and the clock advanced until nothing is left to do or the
    /// horizon is reached. Throws <see cref="SimulationLimitException"/> when the plan's work limit is exceeded.
    /// </summary>
    public static async Task<SimulationResult> RunAsync(
        DateTimeOffset start, Func<IServiceProvider, CancellationToken, Task<SimulationPlan>> seed, CancellationToken ct)
    {
        var path = Path.Combine(Path.GetTempPath(), $"prospector-sim-{Guid.NewGuid():N}.db");
        var scratch = Database.ForSqliteFile(path);
        try
        {
            var clock = new VirtualClock(start);
            var services = new ServiceCollection().AddSimulationEngine(scratch, clock);
            await using var provider = services.BuildServiceProvider();
            await provider.GetRequiredService<Migrator>().MigrateAsync(ct);
            var plan = await seed(provider, ct);
            return await new Run(provider, scratch, clock, plan).ExecuteAsync(ct);
        }
        finally
        {
            await ScratchData.ReleaseAsync(scratch);
            await scratch.DisposeAsync();
            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(file);
            }
        }
    }

    private sealed class Run(IServiceProvider services, Database scratch, VirtualClock clock, SimulationPlan plan)
    {
        private readonly Dispatcher _dispatcher = services.GetRequiredService<Dispatcher>();
        private readonly TaskSteps _tasks = services.GetRequiredService<TaskSteps>();
        private readonly InboundStore _inbound = services.GetRequiredService<InboundStore>();
        private readonly List<IgnoredEvent> _ignored = [];
        private IReadOnlyDictionary<Guid, (Guid EnrollmentId, Guid WorkspaceId, Guid MailboxId)> _enrollments = new Dictionary<Guid, (Guid, Guid, Guid)>();
        private uint _uid;

        public async Task<SimulationResult> ExecuteAsync(CancellationToken ct)
        {
            // Enrolling: the enroll route's plan and store call, same skip reasons and mailbox rotation.
            var enrollPlan = SequenceEnrollmentsApi.Plan(plan.WorkspaceId, plan.SequenceId, plan.Version, plan.Definition, plan.MailboxIds, clock.GetUtcNow())
                with { ProspectIds = plan.ProspectIds };
            var enrolled = await services.GetRequiredService<EnrollmentStore>().EnrollAsync(enrollPlan, ct);
            _enrollments = await ScratchData.EnrollmentsAsync(scratch, ct);

            var events = plan.Events.Select((e, i) => (Event: e, Index: i)).OrderBy(x => x.Event.At).ThenBy(x => x.Index).ToList();
            var nextEvent = 0;
            var end = plan.Start + plan.Horizon;
            var steps = 0;
            for (var instants = 0; ; instants++)
            {
                if (instants > plan.MaxSteps * 4)
                {
                    throw new SimulationLimitException($"the simulation needed more than {plan.MaxSteps * 4} clock moves");
                }

                var now = clock.GetUtcNow();
                for (; nextEvent < events.Count && events[nextEvent].Event.At <= now; nextEvent++)
                {
                    await ApplyAsync(events[nextEvent].Event, events[nextEvent].Index, ct);
                }

                // Everything due now, including what completing a task makes due at once.
                while (true)
                {
                    var claimed = await _dispatcher.RunOnceAsync(ct);
                    var closed = await CompleteTasksAsync(events.Select(x => x.Event), ct);
                    steps += claimed + closed;
                    if (steps > plan.MaxSteps)
                    {
                        throw new SimulationLimitException(
                            $"the simulation needs more than {plan.MaxSteps} steps; simulate fewer prospects (sample) or a shorter horizon (horizonDays)");
                    }

                    if (claimed == 0 && closed == 0)
                    {
                        break;
                    }
                }

                var next = await NextInstantAsync(now, nextEvent < events.Count ? events[nextEvent].Event.At : null, ct);
                if (next is not { } at || at > end)
                {
                    break;
                }

                clock.Set(at);
            }

            return await ResultAsync(enrolled, steps, end, ct);
        }

        // The next instant anything can happen: an active enrollment falls due (after its lease), a mailbox frees a slot,
        // or an injected event arrives.
        private async Task<DateTimeOffset?> NextInstantAsync(DateTimeOffset now, DateTimeOffset? nextEvent, CancellationToken ct)
        {
            DateTimeOffset? next = nextEvent;
            foreach (var w in await ScratchData.WaitingAsync(scratch, ct))
            {
                var at = w.LeaseUntil is { } lease && lease > w.NextDueAt ? lease : w.NextDueAt;
                if (at > now && (next is null || at < next))
                {
                    next = at;
                }
            }

            foreach (var at in await ScratchData.BlockedUntilAsync(scratch, ct))
            {
                if (at > now && (next is null || at < next))
                {
                    next = at;
                }
            }

            return next;
        }

        // The SDR does every task as soon as it exists, through the same path as POST /api/tasks/{id}/complete; an
        // invitation counts as accepted when a linkedin_connected event was injected for the prospect by now.
        private async Task<int> CompleteTasksAsync(IEnumerable<SimulatedEvent> events, CancellationToken ct)
        {
            var now = clock.GetUtcNow();
            var closed = 0;
            foreach (var task in await ScratchData.OpenTasksAsync(scratch, ct))
            {
                string? outcome = null;
                if (task.Type == StepTypes.LinkedInInvite)
                {
                    outcome = events.Any(e => e.ProspectId == task.ProspectId && e.Type == SimulatedEvents.LinkedInConnected && e.At <= now) ? "connected" : "pending";
                }

                var (status, _) = await _tasks.CloseAsync(task.WorkspaceId, task.Id, done: true, outcome, ct);
                if (status == CloseTaskStatus.Closed)
                {
                    closed++;
                }
            }

            return closed;
        }

        // Replies, out-of-office answers and bounces go through the live inbound effects (InboundStore.ApplyAsync, as
        // MailboxSync calls it), matched through the Message-IDs actually sent; the other events are the facts branches read.
        private async Task ApplyAsync(SimulatedEvent e, int index, CancellationToken ct)
        {
            if (!_enrollments.TryGetValue(e.ProspectId, out var enrollment))
            {
                _ignored.Add(new(index, "the prospect is not enrolled"));
                return;
            }

            if (e.Type is SimulatedEvents.Opened or SimulatedEvents.Clicked or SimulatedEvents.LinkedInConnected)
            {
                await ScratchData.AppendEventAsync(scratch, enrollment.WorkspaceId, enrollment.EnrollmentId, e.Type, e.At, ct);
                return;
            }

            var sent = await ScratchData.SentMessageIdsAsync(scratch, enrollment.EnrollmentId, ct);
            if (sent.Count == 0)
            {
                _ignored.Add(new(index, "no email was sent to the prospect before this event"));
                return;
            }

            var classification = e.Type switch
            {
                SimulatedEvents.Reply => new InboundClassification(InboundKind.HumanReply, "simulated reply", sent, null, "(simulated reply)"),
                SimulatedEvents.Bounce => new InboundClassification(InboundKind.Bounce, "simulated hard bounce", sent, new BounceInfo(true, "5.1.1", null, "failed", null), null),
                _ => new InboundClassification(InboundKind.AutoReply, "simulated out of office", sent, null, null),
            };
            var match = await _inbound.MatchAsync(enrollment.WorkspaceId, sent, ct);
            await _inbound.ApplyAsync(
                new InboundApplication(enrollment.MailboxId, enrollment.WorkspaceId, 1, ++_uid, classification, match, null, null, e.At),
                clock.GetUtcNow(), ct);
        }

        private async Task<SimulationResult> ResultAsync(EnrollmentStore.EnrollResult enrolled, int steps, DateTimeOffset end, CancellationToken ct)
        {
            var labels = (await ScratchData.ProspectLabelsAsync(scratch, ct)).ToDictionary(p => p.Id, p => p.Email ?? p.LinkedinUrl);
            var timeline = (await ScratchData.ActionsAsync(scratch, ct))
                .Select(a => new TimelineEntry(
                    a.At.ToUniversalTime(), a.ProspectId, labels.GetValueOrDefault(a.ProspectId), a.StepId,
                    plan.Definition.Steps.FirstOrDefault(s => s.Id == a.StepId)?.Type ?? a.Kind, a.MailboxId, a.WantedAt?.ToUniversalTime(),
                    (a.Reasons ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
                .OrderBy(t => t.At).ThenBy(t => t.Prospect, StringComparer.Ordinal).ThenBy(t => t.ProspectId).ThenBy(t => plan.Definition.IndexOf(t.StepId))
                .ToList();

            var zones = (await ScratchData.MailboxZonesAsync(scratch, ct)).ToDictionary(m => m.Id, m => Zone(m.TimeZone));
            var perDay = timeline.Where(t => t.MailboxId is not null)
                .GroupBy(t => (Date: DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(t.At, zones.GetValueOrDefault(t.MailboxId!.Value, TimeZoneInfo.Utc)).DateTime), Mailbox: t.MailboxId!.Value))
                .Select(g => new DayVolume(g.Key.Date, g.Key.Mailbox, g.Count()))
                .OrderBy(d => d.Date).ThenBy(d => Pool(d.MailboxId)).ThenBy(d => d.MailboxId)
                .ToList();

            var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
            var rows = await ScratchData.OutcomesAsync(scratch, ct);
            foreach (var row in rows)
            {
                var key = row.State is EnrollmentStates.Paused or EnrollmentStates.Stopped or EnrollmentStates.Failed && row.StopReason is { } reason
                    ? $"{row.State}:{reason}"
                    : row.State;
                outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
            }

            foreach (var skip in enrolled.Skipped)
            {
                var key = "skipped:" + skip.Reason;
                outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
            }

            var unfinished = rows.Count(r => r.State is EnrollmentStates.Active or EnrollmentStates.Paused);
            DateTimeOffset? finishedAt = unfinished == 0 && rows.Count > 0 ? rows.Max(r => r.UpdatedAt).ToUniversalTime() : null;
            return new SimulationResult(
                timeline, perDay, outcomes, finishedAt, unfinished, enrolled.Skipped.Select(s => new SimulationSkip(s.ProspectId, s.Reason)).ToList(),
                _ignored.OrderBy(i => i.Index).ToList(), steps, plan.Start, end);
        }

        // Pool order: stable across runs even where ids are fresh (the CLI's scratch mailboxes).
        private int Pool(Guid mailboxId)
        {
            for (var i = 0; i < plan.MailboxIds.Count; i++)
            {
                if (plan.MailboxIds[i] == mailboxId)
                {
                    return i;
                }
            }

            return int.MaxValue;
        }

        private static TimeZoneInfo Zone(string id) => TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : TimeZoneInfo.Utc;
    }
}
