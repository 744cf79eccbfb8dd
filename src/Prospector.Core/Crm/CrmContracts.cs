using System.Text.Json.Nodes;

namespace Prospector.Core.Crm;

/// <summary>A workspace's connection to a CRM. <see cref="Secret"/> is decrypted only for the push.</summary>
/// <param name="Kind">Adapter name: "webhook" today; "hubspot", "pipedrive", "salesforce" later.</param>
/// <param name="Endpoint">Base URL (webhook: the URL to POST to).</param>
/// <param name="Secret">Signing secret or API token.</param>
public sealed record CrmConnection(string Kind, Uri Endpoint, string Secret)
{
    /// <summary>Never print the secret.</summary>
    public override string ToString() => $"{Kind} {Endpoint.GetLeftPart(UriPartial.Authority)}";
}

/// <summary>One event for the CRM, e.g. a qualified lead.</summary>
/// <param name="Id">Stable across every retry of the same event (the outbox row id); receivers deduplicate on it.</param>
/// <param name="EventType">For example "lead.qualified".</param>
/// <param name="Data">The event's payload.</param>
public sealed record CrmPush(string Id, string EventType, JsonObject Data);

/// <summary>What happened to a push after the adapter's own short retries.</summary>
/// <param name="Delivered">True when the CRM accepted the event.</param>
/// <param name="StatusCode">The last HTTP status, if any response came back.</param>
/// <param name="Retryable">When not delivered: true for 429, 5xx, timeouts and connection failures; false for other 4xx.</param>
/// <param name="RetryAfter">The CRM's Retry-After, when it sent one.</param>
/// <param name="Error">Log-safe description of the failure.</param>
/// <param name="ExternalId">The CRM's id for the record, when it returns one.</param>
public sealed record CrmPushResult(bool Delivered, int? StatusCode, bool Retryable, TimeSpan? RetryAfter, string? Error, string? ExternalId);

/// <summary>Pushes events into one kind of CRM.</summary>
public interface ICrmAdapter
{
    /// <summary>The <see cref="CrmConnection.Kind"/> this adapter serves.</summary>
    string Kind { get; }

    /// <summary>Delivers <paramref name="push"/>, with short in-call retries on transient failures.
    /// Returns a result instead of throwing for HTTP and network failures; only cancellation throws.</summary>
    Task<CrmPushResult> PushAsync(CrmConnection connection, CrmPush push, CancellationToken cancellationToken);
}
