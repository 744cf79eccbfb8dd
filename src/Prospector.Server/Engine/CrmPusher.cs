using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Prospector.Core.Crm;
using Prospector.Server.Hosting;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Engine;

/// <summary>
/// Pushes one CRM outbox row through the workspace's adapter. The outbox is the truth: the adapter retries briefly
/// in-call (Polly); beyond that the row is rescheduled (honouring Retry-After) or dead-lettered, never lost.
/// </summary>
public sealed class CrmPusher(
    CrmStore store,
    IEnumerable<ICrmAdapter> adapters,
    SecretProtector secrets,
    TimeProvider clock,
    IOptions<CrmOptions> options,
    ILogger<CrmPusher> logger)
{
    // Long enough for an adapter's in-call retries; a worker that dies mid-push frees the row after this.
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);

    /// <summary>Pushes the row if it is pending and due. Returns true when it was delivered by this call.</summary>
    public async Task<bool> PushAsync(Guid outboxId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (!await store.TryLeaseAsync(outboxId, now, now + Lease, ct))
        {
            return false;
        }

        var row = (await store.GetAsync(outboxId, ct))!;
        var connection = await store.GetConnectionAsync(row.WorkspaceId, ct);
        if (connection is null)
        {
            await store.MarkFailedAsync(row.Id, null, "no CRM connection configured", clock.GetUtcNow() + TimeSpan.FromHours(1), clock.GetUtcNow(), ct);
            return false;
        }

        var adapter = adapters.FirstOrDefault(a => a.Kind == connection.Kind)
            ?? throw new InvalidOperationException($"no CRM adapter for '{connection.Kind}'");
        var result = await adapter.PushAsync(
            new CrmConnection(connection.Kind, new Uri(connection.Endpoint), secrets.Unprotect(connection.SecretProtected)!),
            new CrmPush(row.Id.ToString(), row.EventType, (JsonObject)JsonNode.Parse(row.Payload)!),
            ct);
        now = clock.GetUtcNow();
        if (result.Delivered)
        {
            await store.MarkDeliveredAsync(row.Id, result.StatusCode, result.ExternalId, now, ct);
            logger.LogInformation("CRM outbox {OutboxId} delivered ({Status})", row.Id, result.StatusCode);
            return true;
        }

        var attempts = row.Attempts + 1;
        DateTimeOffset? next = result.Retryable && attempts < options.Value.MaxAttempts
            ? now + Max(result.RetryAfter ?? TimeSpan.Zero, TimeSpan.FromSeconds(30 * Math.Pow(2, attempts - 1)))
            : null;
        await store.MarkFailedAsync(row.Id, result.StatusCode, result.Error, next, now, ct);
        logger.LogWarning("CRM outbox {OutboxId} attempt {Attempt} failed ({Status}: {Error}); {Next}",
            row.Id, attempts, result.StatusCode, result.Error, next is null ? "dead-lettered" : $"retry at {next:O}");
        return false;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
