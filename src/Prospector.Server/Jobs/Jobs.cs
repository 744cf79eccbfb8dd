using Hangfire;
using Prospector.Server.Engine;
using Prospector.Storage.Stores;

namespace Prospector.Server.Jobs;

/// <summary>Recurring: syncs every mailbox that has IMAP settings, then hands new CRM outbox rows to <see cref="CrmPushJob"/>.</summary>
public sealed class MailboxSyncJob(MailboxStore mailboxes, MailboxSync sync, IBackgroundJobClient jobs, ILogger<MailboxSyncJob> logger)
{
    /// <summary>Stable recurring-job id.</summary>
    public const string RecurringId = "mailbox-sync";

    /// <summary>Runs one sync round. One mailbox failing does not stop the others; the round fails at the end so Hangfire shows it.</summary>
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    [AutomaticRetry(Attempts = 0)] // the next recurring run is the retry
    public async Task RunAsync(CancellationToken ct)
    {
        var failures = new List<Guid>();
        foreach (var mailbox in await mailboxes.ListSyncableAsync(ct))
        {
            try
            {
                var (_, outbox) = await sync.SyncAsync(mailbox, ct);
                foreach (var id in outbox)
                {
                    jobs.Enqueue<CrmPushJob>(j => j.RunAsync(id, CancellationToken.None));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Mailbox {MailboxId} sync failed", mailbox.Id);
                failures.Add(mailbox.Id);
            }
        }

        if (failures.Count > 0)
        {
            throw new InvalidOperationException($"{failures.Count} mailbox(es) failed to sync: {string.Join(", ", failures)}");
        }
    }
}

/// <summary>Pushes one CRM outbox row. Retries are the outbox's (rescheduled rows, swept by <see cref="CrmOutboxJob"/>), not Hangfire's.</summary>
public sealed class CrmPushJob(CrmPusher pusher)
{
    /// <summary>Pushes the row if still pending and due.</summary>
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(Guid outboxId, CancellationToken ct) => pusher.PushAsync(outboxId, ct);
}

/// <summary>Recurring: pushes every due pending outbox row (retries, and rows whose first job was lost).</summary>
public sealed class CrmOutboxJob(CrmStore store, CrmPusher pusher, TimeProvider clock)
{
    /// <summary>Stable recurring-job id.</summary>
    public const string RecurringId = "crm-outbox";

    /// <summary>One sweep.</summary>
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(CancellationToken ct)
    {
        foreach (var id in await store.DueAsync(clock.GetUtcNow(), 200, ct))
        {
            await pusher.PushAsync(id, ct);
        }
    }
}

/// <summary>
/// Recurring safety net and manual trigger (dashboard "Trigger now") for the dispatcher; the <see cref="DispatchLoop"/>
/// normally drains due steps within a second. Both are safe together: claims never overlap.
/// </summary>
public sealed class DispatchJob(Dispatcher dispatcher)
{
    /// <summary>Stable recurring-job id.</summary>
    public const string RecurringId = "dispatch-due-steps";

    /// <summary>Drains what is due now.</summary>
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(CancellationToken ct)
    {
        while (await dispatcher.RunOnceAsync(ct) > 0)
        {
        }
    }
}

/// <summary>The worker's dispatcher loop: claim a batch, run it, and sleep only when nothing was due.</summary>
public sealed class DispatchLoop(Dispatcher dispatcher, TimeProvider clock, Microsoft.Extensions.Options.IOptions<Hosting.DispatcherOptions> options, ILogger<DispatchLoop> logger)
    : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await dispatcher.RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Dispatcher round failed; retrying after the poll interval");
            }

            if (claimed == 0)
            {
                await Task.Delay(options.Value.PollInterval, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
