using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using Prospector.Core.Crm;

namespace Prospector.Crm.Webhook;

/// <summary>
/// Posts each push as a Standard Webhooks signed event to the connection's endpoint. Register as a singleton:
/// the resilience pipeline is built once here and shared by every call.
/// </summary>
public sealed class WebhookCrmAdapter(
    IHttpClientFactory httpClientFactory,
    IOptions<WebhookCrmOptions> options,
    TimeProvider timeProvider,
    ILogger<WebhookCrmAdapter> logger) : ICrmAdapter
{
    /// <summary>Name of the HttpClient registered by <c>AddProspectorCrm</c>.</summary>
    public const string HttpClientName = "Prospector.Crm.Webhook";

    // Enough for a CRM's JSON acknowledgement; anything longer is not read (the id is then unknown).
    private const int MaxSuccessBodyBytes = 64 * 1024;
    private const int MaxErrorBodyBytes = 1024;
    private const int MaxErrorChars = 200;

    private static readonly ResiliencePropertyKey<string> PushIdKey = new("Prospector.Crm.PushId");
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private readonly IHttpClientFactory _httpClientFactory = httpClientFactory;
    private readonly TimeProvider _timeProvider = timeProvider;
    private readonly ILogger _logger = logger;
    private readonly TimeSpan _attemptTimeout = options.Value.AttemptTimeout;
    private readonly ResiliencePipeline<WebhookAttempt> _pipeline = BuildPipeline(options.Value, timeProvider, logger);

    public string Kind => "webhook";

    public async Task<CrmPushResult> PushAsync(CrmConnection connection, CrmPush push, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(push);
        cancellationToken.ThrowIfCancellationRequested();

        if (CheckEndpoint(connection.Endpoint) is { } endpointError)
        {
            return Log(push, Refused(endpointError));
        }

        if (!IsHeaderSafe(push.Id))
        {
            return Log(push, Refused("The push id must be non-empty printable ASCII."));
        }

        if (!StandardWebhookSignature.TryDecodeSecret(connection.Secret, out var key))
        {
            return Log(push, Refused("The signing secret is malformed: the part after whsec_ must be base64."));
        }

        // The body (and its event timestamp) is fixed for the whole call; each attempt signs it afresh.
        var state = new AttemptState(
            _httpClientFactory.CreateClient(HttpClientName), connection.Endpoint, key, push.Id,
            SerializeBody(push, _timeProvider.GetUtcNow()), _timeProvider);

        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(PushIdKey, push.Id);
        Outcome<WebhookAttempt> outcome;
        try
        {
            outcome = await _pipeline.ExecuteOutcomeAsync(
                static (ctx, s) => SendAttemptAsync(s, ctx.CancellationToken), context, state);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        return Log(push, ToResult(outcome, cancellationToken));
    }

    /// <summary>Why the endpoint is refused before any request, or null. The SSRF seam (see <see cref="WebhookCrmOptions.AllowPrivateNetworks"/>).</summary>
    private static string? CheckEndpoint(Uri endpoint)
    {
        if (!endpoint.IsAbsoluteUri)
        {
            return "The webhook endpoint must be an absolute http or https URL.";
        }

        return endpoint.Scheme == Uri.UriSchemeHttp || endpoint.Scheme == Uri.UriSchemeHttps
            ? null
            : $"The webhook endpoint scheme '{Sanitize(endpoint.Scheme, 20)}' is not allowed; use http or https.";
    }

    private static ResiliencePipeline<WebhookAttempt> BuildPipeline(WebhookCrmOptions options, TimeProvider timeProvider, ILogger logger)
    {
        var maxRetryAfter = options.MaxRetryAfter;
        return new ResiliencePipelineBuilder<WebhookAttempt> { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions<WebhookAttempt>
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, maxRetryAfter, args.Context.CancellationToken)),
                // The server's Retry-After wins over the backoff; ShouldRetry has already refused ones above the cap.
                DelayGenerator = static args => ValueTask.FromResult(args.Outcome.Result?.RetryAfter),
                OnRetry = args =>
                {
                    if (logger.IsEnabled(LogLevel.Debug))
                    {
                        logger.LogDebug(
                            "Webhook push {PushId} attempt {Attempt} got status {StatusCode}; retrying in {Delay}",
                            args.Context.Properties.GetValue(PushIdKey, "?"), args.AttemptNumber + 1,
                            args.Outcome.Result?.StatusCode, args.RetryDelay);
                    }

                    return default;
                },
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }

    private static bool ShouldRetry(Outcome<WebhookAttempt> outcome, TimeSpan maxRetryAfter, CancellationToken callerToken)
        => outcome switch
        {
            { Exception: HttpRequestException or IOException or TimeoutRejectedException } => true,
            // A cancellation the caller did not ask for is some other timeout.
            { Exception: OperationCanceledException } => !callerToken.IsCancellationRequested,
            { Result: { } attempt } => IsTransient(attempt.StatusCode) && !(attempt.RetryAfter > maxRetryAfter),
            _ => false,
        };

    private static bool IsTransient(int status) => status is 408 or 429 or >= 500;

    private static async ValueTask<Outcome<WebhookAttempt>> SendAttemptAsync(AttemptState state, CancellationToken cancellationToken)
    {
        try
        {
            var timestamp = state.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, state.Endpoint)
            {
                Content = new ByteArrayContent(state.Body),
            };
            request.Content.Headers.ContentType = JsonContentType;
            request.Headers.TryAddWithoutValidation("User-Agent", "Prospector");
            request.Headers.Add(StandardWebhookSignature.IdHeader, state.PushId);
            request.Headers.Add(StandardWebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add(StandardWebhookSignature.SignatureHeader,
                StandardWebhookSignature.Sign(state.Key, state.PushId, timestamp, state.Body));

            using var response = await state.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            var body = await ReadPrefixAsync(
                response.Content, status is >= 200 and <= 299 ? MaxSuccessBodyBytes : MaxErrorBodyBytes, cancellationToken);
            return Outcome.FromResult(new WebhookAttempt(
                status, response.ReasonPhrase, ReadRetryAfter(response, state.TimeProvider), body));
        }
        catch (Exception ex)
        {
            return Outcome.FromException<WebhookAttempt>(ex);
        }
    }

    /// <summary>Up to <paramref name="limit"/> bytes of the body; null when it is longer or cannot be read.</summary>
    private static async Task<byte[]?> ReadPrefixAsync(HttpContent content, int limit, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[limit + 1];
            var total = 0;
            int read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
            {
                total += read;
            }

            return total > limit ? buffer[..limit] : buffer[..total];
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            // The status line is what counts; a body cut off is not a failed delivery.
            return null;
        }
    }

    private static TimeSpan? ReadRetryAfter(HttpResponseMessage response, TimeProvider timeProvider)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta > TimeSpan.Zero ? delta : TimeSpan.Zero;
        }

        if (header?.Date is { } date)
        {
            var wait = date - timeProvider.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    private CrmPushResult ToResult(Outcome<WebhookAttempt> outcome, CancellationToken cancellationToken)
    {
        if (outcome.Exception is { } ex)
        {
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                ExceptionDispatchInfo.Throw(ex);
            }

            // Exception messages can carry host names or URLs (with tokens in them); report only the kind.
            return ex switch
            {
                TimeoutRejectedException or OperationCanceledException => new CrmPushResult(
                    false, null, true, null, $"No response within {_attemptTimeout.TotalSeconds:0.###} s.", null),
                HttpRequestException http => new CrmPushResult(
                    false, null, true, null, $"Network error: {http.HttpRequestError}.", null),
                IOException => new CrmPushResult(false, null, true, null, "Network error: the connection failed while reading the response.", null),
                _ => Rethrow(ex),
            };
        }

        var attempt = outcome.Result!;
        if (attempt.StatusCode is >= 200 and <= 299)
        {
            return new CrmPushResult(true, attempt.StatusCode, false, null, null, ReadExternalId(attempt.Body));
        }

        var error = $"HTTP {attempt.StatusCode} {Sanitize(attempt.ReasonPhrase, 100)}".TrimEnd();
        if (attempt.Body is { Length: > 0 } body && Sanitize(Encoding.UTF8.GetString(body), MaxErrorChars) is { Length: > 0 } snippet)
        {
            error += ": " + snippet;
        }

        return new CrmPushResult(false, attempt.StatusCode, IsTransient(attempt.StatusCode), attempt.RetryAfter, error, null);
    }

    private static CrmPushResult Rethrow(Exception ex)
    {
        ExceptionDispatchInfo.Throw(ex);
        return null!;
    }

    private static CrmPushResult Refused(string error) => new(false, null, false, null, error, null);

    /// <summary>The <c>id</c> field of a JSON object body, as text; null when absent or not JSON.</summary>
    private static string? ReadExternalId(byte[]? body)
    {
        if (body is not { Length: > 0 })
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("id", out var id))
            {
                return null;
            }

            return id.ValueKind switch
            {
                JsonValueKind.String => id.GetString(),
                JsonValueKind.Number => id.GetRawText(),
                _ => null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static byte[] SerializeBody(CrmPush push, DateTimeOffset now)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", push.EventType);
            writer.WriteString("timestamp", now.UtcDateTime);
            writer.WritePropertyName("data");
            push.Data.WriteTo(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static bool IsHeaderSafe(string value)
        => !string.IsNullOrEmpty(value) && value.All(c => c is > ' ' and < (char)0x7F);

    /// <summary>Control characters become spaces (no log injection), then the text is cut to <paramref name="max"/> chars.</summary>
    private static string Sanitize(string? text, int max)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "";
        }

        var chars = text.Length > max ? text.AsSpan(0, max) : text.AsSpan();
        var builder = new StringBuilder(chars.Length + 1);
        foreach (var c in chars)
        {
            builder.Append(char.IsControl(c) ? ' ' : c);
        }

        if (text.Length > max)
        {
            builder.Append('…');
        }

        return builder.ToString().Trim();
    }

    private CrmPushResult Log(CrmPush push, CrmPushResult result)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            _logger.LogDebug(
                "Webhook push {PushId}: delivered {Delivered}, status {StatusCode}, retryable {Retryable}",
                push.Id, result.Delivered, result.StatusCode, result.Retryable);
        }

        return result;
    }

    private sealed record AttemptState(
        HttpClient Client, Uri Endpoint, byte[] Key, string PushId, byte[] Body, TimeProvider TimeProvider);

    private sealed record WebhookAttempt(int StatusCode, string? ReasonPhrase, TimeSpan? RetryAfter, byte[]? Body);
}
