using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Prospector.Core.Sequences;
using Prospector.Core.Templates;
using Prospector.Server.Hosting;
using Prospector.Storage.Stores;

namespace Prospector.Server.Engine;

/// <summary>
/// Webhook steps: POSTs the rendered JSON payload to the step's URL with a stable <c>Idempotency-Key</c> /
/// <c>webhook-id</c> per (enrollment, step). 2xx → webhook_sent; 4xx other than 408/429 (and 3xx: redirects are not
/// followed) → webhook_failed; 408, 429, 5xx, timeouts and connection errors are retried with backoff (Retry-After
/// honoured up to a cap) until the attempts run out, then webhook_failed. Either way the sequence goes on. Targets
/// on loopback, private, link-local or multicast addresses are refused at connect time (after DNS resolution, so a
/// name cannot rebind) unless <see cref="DispatcherOptions.AllowPrivateWebhookTargets"/>.
/// </summary>
public sealed class WebhookStepRunner : IDisposable
{
    private readonly DispatchStore _store;
    private readonly TimeProvider _clock;
    private readonly IOptions<DispatcherOptions> _options;
    private readonly ILogger<WebhookStepRunner> _logger;
    private readonly HttpClient _http;

    /// <summary>
    /// Creates the runner and its HTTP client (no redirects, no proxy, no cookies, guarded connects). A
    /// <paramref name="transport"/> (registered only by the simulation) replaces the network handler entirely.
    /// </summary>
    public WebhookStepRunner(
        DispatchStore store, TimeProvider clock, IOptions<DispatcherOptions> options, ILogger<WebhookStepRunner> logger, WebhookTransport? transport = null)
    {
        _store = store;
        _clock = clock;
        _options = options;
        _logger = logger;
        _http = transport is null ? new HttpClient(GuardedHandler()) : new HttpClient(transport.Handler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan;
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Prospector-Webhook/1.0");
    }

    private SocketsHttpHandler GuardedHandler() => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectCallback = ConnectAsync,
    };

    /// <summary>Runs the webhook step of a claimed enrollment.</summary>
    internal async Task RunAsync(DispatchWork work, SequenceDefinition definition, WebhookStep step, CancellationToken ct)
    {
        var o = _options.Value;
        string payload;
        try
        {
            // JSON format: values are escaped for JSON strings (the template puts them in quotes).
            payload = step.Payload is null ? DefaultPayload(work, step) : TemplateRenderer.Render(step.Payload, StepContext.Model(work), new RenderOptions(TemplateFormat.Json));
            using var _ = JsonDocument.Parse(payload);
        }
        catch (Exception ex) when (ex is TemplateException or JsonException)
        {
            var reason = ex is JsonException ? "the rendered payload is not valid JSON" : ex.Message;
            _logger.LogWarning("Enrollment {EnrollmentId} step {StepId}: webhook payload refused: {Reason}", work.Id, step.Id, reason);
            await _store.PauseAsync(work, "webhook_payload_invalid", $"{step.Id}: {reason}", _clock.GetUtcNow(), ct);
            return;
        }

        var begin = await _store.BeginWebhookAsync(work, step.Id, Guid.CreateVersion7(_clock.GetUtcNow()), _clock.GetUtcNow(), ct);
        if (begin.Status == WebhookCallStatus.NotActive)
        {
            return;
        }

        if (begin.Status == WebhookCallStatus.Done)
        {
            await EndAsync(work, definition, begin.CallId, step, sent: true, status: null, error: null, alreadyEnded: true, ct);
            return;
        }

        var (outcome, status, error, retryAfter) = await PostAsync(step.Url, payload, begin.CallId, ct);
        _logger.LogInformation("Webhook {CallId} (enrollment {EnrollmentId}, step {StepId}, attempt {Attempt}): {Outcome} {Status}",
            begin.CallId, work.Id, step.Id, begin.Attempt, outcome, status);
        switch (outcome)
        {
            case WebhookOutcome.Sent:
                await EndAsync(work, definition, begin.CallId, step, sent: true, status, null, alreadyEnded: false, ct);
                break;
            case WebhookOutcome.Retry when begin.Attempt < o.WebhookMaxAttempts:
                var backoff = o.WebhookRetryDelay * Math.Pow(2, begin.Attempt - 1);
                var delay = retryAfter ?? backoff;
                delay = delay < TimeSpan.Zero ? TimeSpan.Zero : delay > o.WebhookMaxRetryAfter ? o.WebhookMaxRetryAfter : delay;
                var now = _clock.GetUtcNow();
                await _store.DeferWebhookAsync(work, begin.CallId, step.Id, now + delay, status, error, now, ct);
                break;
            default:
                await EndAsync(work, definition, begin.CallId, step, sent: false, status, error ?? (outcome == WebhookOutcome.Retry ? "attempts exhausted" : null), alreadyEnded: false, ct);
                break;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private async Task EndAsync(
        DispatchWork work, SequenceDefinition definition, Guid callId, WebhookStep step, bool sent, int? status, string? error, bool alreadyEnded, CancellationToken ct)
    {
        var now = _clock.GetUtcNow();
        var facts = StepContext.Facts(work, await _store.FactEventsAsync(work.Id, ct));
        var (next, branches) = StepContext.Advance(work, definition, work.CurrentStep + 1, now, facts);
        if (alreadyEnded)
        {
            await _store.AdvanceAsync(work, next, branches, now, ct);
        }
        else
        {
            await _store.EndWebhookAsync(work, callId, step.Id, sent, status, error, next, branches, now, ct);
        }
    }

    private async Task<(WebhookOutcome Outcome, int? Status, string? Error, TimeSpan? RetryAfter)> PostAsync(Uri url, string payload, Guid callId, CancellationToken ct)
    {
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            return (WebhookOutcome.Failed, null, "refused: only http and https URLs", null);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        var id = callId.ToString();
        request.Headers.Add("Idempotency-Key", id);
        request.Headers.Add("webhook-id", id);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.Value.WebhookTimeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var code = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return (WebhookOutcome.Sent, code, null, null);
            }

            if (code is 408 or 429 or >= 500)
            {
                var retryAfter = response.Headers.RetryAfter is { } ra
                    ? ra.Delta ?? (ra.Date is { } date ? date - _clock.GetUtcNow() : null)
                    : null;
                return (WebhookOutcome.Retry, code, null, retryAfter);
            }

            return (WebhookOutcome.Failed, code, null, null);
        }
        catch (HttpRequestException ex) when (ex.InnerException is WebhookTargetRefusedException refused)
        {
            return (WebhookOutcome.Failed, null, "refused: " + refused.Message, null);
        }
        catch (HttpRequestException ex)
        {
            return (WebhookOutcome.Retry, null, ex.HttpRequestError.ToString(), null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (WebhookOutcome.Retry, null, "timeout", null);
        }
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        if (addresses.Length == 0)
        {
            throw new WebhookTargetRefusedException($"{host} does not resolve");
        }

        if (!_options.Value.AllowPrivateWebhookTargets && addresses.FirstOrDefault(IsNonPublic) is { } blocked)
        {
            throw new WebhookTargetRefusedException($"{host} resolves to a non-public address ({blocked})");
        }

        // Connect to the addresses just checked, never to a second resolution of the name.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Loopback, private, shared (CGNAT), link-local, multicast, unspecified or reserved.</summary>
    internal static bool IsNonPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] is 0 or 10 or 127 or >= 224
                || (b[0] == 100 && b[1] >= 64 && b[1] < 128)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] >= 16 && b[1] < 32)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] == 0);
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xfe) == 0xfc;
        }

        return true;
    }

    private static string DefaultPayload(DispatchWork work, WebhookStep step) => JsonSerializer.Serialize(new
    {
        type = "sequence.step",
        workspace_id = work.WorkspaceId,
        enrollment_id = work.Id,
        sequence_id = work.SequenceId,
        sequence_version = work.SequenceVersion,
        prospect_id = work.ProspectId,
        step_id = step.Id,
    });

    private enum WebhookOutcome
    {
        Sent,
        Retry,
        Failed,
    }
}

/// <summary>
/// A replacement for the webhook runner's network transport. Live dispatch never registers one; the simulation registers a
/// handler that answers without any connection or DNS lookup.
/// </summary>
/// <param name="Handler">The handler every webhook request goes to (not disposed by the runner).</param>
public sealed record WebhookTransport(HttpMessageHandler Handler);

/// <summary>A webhook target that the SSRF guard refuses (non-public address, unresolvable name).</summary>
public sealed class WebhookTargetRefusedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WebhookTargetRefusedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public WebhookTargetRefusedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public WebhookTargetRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
