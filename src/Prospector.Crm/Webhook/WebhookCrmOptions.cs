namespace Prospector.Crm.Webhook;

/// <summary>Short in-call retry policy and endpoint rules of <see cref="WebhookCrmAdapter"/>; section <c>WebhookCrmOptions</c>.</summary>
public sealed class WebhookCrmOptions
{
    /// <summary>Retries after the first attempt (so 3 means at most 4 requests).</summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>First backoff delay; grows exponentially, with jitter.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Cap on the computed backoff (not on a server's Retry-After).</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest Retry-After we wait for inside the call. A longer one ends the call at once with
    /// <c>Retryable</c> and <c>RetryAfter</c> set, so the CRM outbox reschedules instead of holding a worker.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Timeout of one attempt, including reading the response.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// SSRF seam. Today only the scheme is checked (http/https) and this must stay true: private, loopback and
    /// link-local targets are allowed. Blocking them belongs in <c>SocketsHttpHandler.ConnectCallback</c> of the
    /// webhook HttpClient (see <c>CrmServiceCollectionExtensions</c>), checking the address actually connected to,
    /// so DNS rebinding cannot get around it. Until that exists, false is refused at start-up rather than ignored.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; } = true;
}
