using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prospector.Core.Crm;
using Prospector.Crm.Webhook;

namespace Prospector.Crm.Tests;

public sealed class WebhookCrmAdapterTests : IAsyncLifetime
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    private WebhookReceiver _receiver = null!;
    private ServiceProvider? _services;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task PushAsync_PostsSignedStandardWebhook_WhenReceiverAccepts()
    {
        var push = NewPush();
        _receiver.Reply(201, """{"id":"crm-42","status":"created"}""");

        var result = await Adapter().PushAsync(Connection(), push, CancellationToken.None);

        Assert.Equal(new CrmPushResult(true, 201, false, null, null, "crm-42"), result);
        var request = Assert.Single(_receiver.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/hooks/crm", request.Path);
        Assert.StartsWith("application/json", request.Header("content-type"), StringComparison.Ordinal);
        Assert.Equal("Prospector", request.Header("user-agent"));
        Assert.Equal(push.Id, request.Header("webhook-id"));

        var timestamp = long.Parse(request.Header("webhook-timestamp"), CultureInfo.InvariantCulture);
        Assert.InRange(timestamp, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        // The documented algorithm, computed here independently of our signer...
        Assert.Equal(ExpectedSignature(Secret, request), request.Header("webhook-signature"));
        // ...and the helper receivers use agrees.
        Assert.True(StandardWebhookSignature.Verify(
            Secret, request.Header("webhook-id"), request.Header("webhook-timestamp"), request.Header("webhook-signature"), request.Body));

        var body = JsonNode.Parse(request.Body)!.AsObject();
        Assert.Equal(["type", "timestamp", "data"], body.Select(p => p.Key));
        Assert.Equal("lead.qualified", (string?)body["type"]);
        Assert.True(JsonNode.DeepEquals(push.Data, body["data"]));
        var eventTime = (string)body["timestamp"]!;
        Assert.EndsWith("Z", eventTime, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.Zero, DateTimeOffset.Parse(eventTime, CultureInfo.InvariantCulture).Offset);
    }

    [Theory]
    [InlineData(200, """{"id": 12345}""", "12345")]
    [InlineData(200, """{"ok": true}""", null)]
    [InlineData(200, """[{"id": "x"}]""", null)]
    [InlineData(202, "accepted", null)]
    [InlineData(204, null, null)]
    public async Task PushAsync_ReadsExternalIdOnlyFromJsonIdField_WhenDelivered(int status, string? body, string? externalId)
    {
        _receiver.Reply(status, body);

        var result = await Adapter().PushAsync(Connection(), NewPush(), CancellationToken.None);

        Assert.True(result.Delivered);
        Assert.Equal(status, result.StatusCode);
        Assert.Equal(externalId, result.ExternalId);
    }

    [Fact]
    public async Task PushAsync_SignsWithUtf8Secret_WhenSecretHasNoWhsecPrefix()
    {
        var result = await Adapter().PushAsync(Connection("plain shared secret"), NewPush(), CancellationToken.None);

        Assert.True(result.Delivered);
        var request = Assert.Single(_receiver.Requests);
        Assert.Equal(ExpectedSignature("plain shared secret", request), request.Header("webhook-signature"));
    }

    [Fact]
    public async Task PushAsync_DeliversAfterRetry_WhenFirstAttemptReturns503()
    {
        _receiver.Reply(503);
        _receiver.Reply(200, """{"id":"crm-7"}""");

        var result = await Adapter().PushAsync(Connection(), NewPush(), CancellationToken.None);

        Assert.Equal(new CrmPushResult(true, 200, false, null, null, "crm-7"), result);
        Assert.Equal(2, _receiver.Requests.Count);
    }

    [Fact]
    public async Task PushAsync_KeepsIdAndResignsEachAttempt_WhenRetrying()
    {
        // Every read of the wall clock moves it 7 s on, so each attempt must carry its own timestamp.
        var clock = new SteppingTimeProvider(DateTimeOffset.UtcNow, TimeSpan.FromSeconds(7));
        var push = NewPush();
        _receiver.Reply(503);
        _receiver.Reply(500);
        _receiver.Reply(200);

        var result = await Adapter(timeProvider: clock).PushAsync(Connection(), push, CancellationToken.None);

        Assert.True(result.Delivered);
        var requests = _receiver.Requests;
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal(push.Id, r.Header("webhook-id")));
        Assert.All(requests, r => Assert.Equal(requests[0].Body, r.Body));
        Assert.Equal(3, requests.Select(r => r.Header("webhook-timestamp")).Distinct().Count());
        Assert.Equal(3, requests.Select(r => r.Header("webhook-signature")).Distinct().Count());
        Assert.All(requests, r => Assert.Equal(ExpectedSignature(Secret, r), r.Header("webhook-signature")));
        var timestamps = requests.Select(r => long.Parse(r.Header("webhook-timestamp"), CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(timestamps.Order(), timestamps);
    }

    [Fact]
    public async Task PushAsync_WaitsForRetryAfter_WhenReceiverReturns429WithRetryAfterOneSecond()
    {
        _receiver.Reply(429, retryAfter: "1");
        _receiver.Reply(200);

        var result = await Adapter().PushAsync(Connection(), NewPush(), CancellationToken.None);

        Assert.True(result.Delivered);
        var requests = _receiver.Requests;
        Assert.Equal(2, requests.Count);
        // The backoff alone would be ~20 ms here. The slack covers only the millisecond tick of .NET timers.
        Assert.True(
            Stopwatch.GetElapsedTime(requests[0].ArrivedAt, requests[1].ArrivedAt) >= TimeSpan.FromMilliseconds(985),
            "The retry came before the 1 s Retry-After.");
    }

    [Fact]
    public async Task PushAsync_ReturnsRetryableWithRetryAfterWithoutRetrying_WhenRetryAfterExceedsCap()
    {
        _receiver.Reply(429, retryAfter: "120");

        var result = await Adapter().PushAsync(Connection(), NewPush(), CancellationToken.None);

        Assert.False(result.Delivered);
        Assert.Equal(429, result.StatusCode);
        Assert.True(result.Retryable);
        Assert.Equal(TimeSpan.FromSeconds(120), result.RetryAfter);
        Assert.Single(_receiver.Requests);
    }

    [Fact]
    public async Task PushAsync_ReturnsRetryAfterFromHttpDate_WhenDateExceedsCap()
    {
        _receiver.Reply(503, retryAfter: DateTimeOffset.UtcNow.AddMinutes(2).ToString("R", CultureInfo.InvariantCulture));

        var result = await Adapter().PushAsync(Connection(), NewPush(), CancellationToken.None);

        Assert.True(result.Retryable);
        Assert.Equal(503, result.StatusCode);
        Assert.InRange(result.RetryAfter!.Value, TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(121));
        Assert.Single(_receiver.Requests);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(404)]
    [InlineData(422)]
    public async Task PushAsync_ReturnsNotRetryableWithoutRetrying_WhenReceiverReturnsClientError(int status)
    {
        _receiver.Reply(status);

        var result = await Adapter().PushAsync(Connection(), NewPush(), CancellationToken.None);

        Assert.False(result.Delivered);
        Assert.False(result.Retryable);
        Assert.Equal(status, result.StatusCode);
        Assert.StartsWith($"HTTP {status}", result.Error, StringComparison.Ordinal);
        Assert.Single(_receiver.Requests);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(408)]
    [InlineData(429)]
    public async Task PushAsync_ReturnsRetryableAfterThreeRetries_WhenReceiverKeepsFailing(int status)
    {
        for (var i = 0; i < 4; i++)
        {
            _receiver.Reply(status);
        }

        var result = await Adapter().PushAsync(Connection(), NewPush(), CancellationToken.None);

        Assert.False(result.Delivered);
        Assert.True(result.Retryable);
        Assert.Equal(status, result.StatusCode);
        Assert.Null(result.RetryAfter);
        Assert.Equal(4, _receiver.Requests.Count);
    }

    [Fact]
    public async Task PushAsync_ReportsRedirectWithoutFollowing_WhenReceiverRedirects()
    {
        _receiver.Reply(307, location: _receiver.Url("/elsewhere").ToString());

        var result = await Adapter().PushAsync(Connection(), NewPush(), CancellationToken.None);

        Assert.False(result.Delivered);
        Assert.False(result.Retryable);
        Assert.Equal(307, result.StatusCode);
        Assert.Single(_receiver.Requests);
    }

    [Fact]
    public async Task PushAsync_ReturnsLogSafeError_WhenClientErrorHasLongBody()
    {
        var connection = new CrmConnection("webhook", _receiver.Url("/hooks/tok-SECRETPATH?key=QUERYTOKEN"), Secret);
        _receiver.Reply(400, "line one\r\nInjected: header " + new string('x', 2000));

        var result = await Adapter().PushAsync(connection, NewPush(), CancellationToken.None);

        Assert.False(result.Retryable);
        Assert.NotNull(result.Error);
        Assert.StartsWith("HTTP 400 Bad Request: line one", result.Error, StringComparison.Ordinal);
        Assert.True(result.Error.Length <= 230, $"Error is {result.Error.Length} chars.");
        Assert.DoesNotContain('\n', result.Error);
        Assert.DoesNotContain('\r', result.Error);
        Assert.DoesNotContain("SECRETPATH", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("QUERYTOKEN", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PushAsync_ReturnsRetryable_WhenConnectionRefused()
    {
        var closedPort = FreeLoopbackPort();
        var connection = new CrmConnection("webhook", new Uri($"http://127.0.0.1:{closedPort}/hooks/crm"), Secret);

        var result = await Adapter().PushAsync(connection, NewPush(), CancellationToken.None);

        Assert.False(result.Delivered);
        Assert.True(result.Retryable);
        Assert.Null(result.StatusCode);
        Assert.StartsWith("Network error", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(closedPort.ToString(CultureInfo.InvariantCulture), result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PushAsync_RetriesThenReturnsRetryable_WhenAttemptsTimeOut()
    {
        _receiver.Stall(TimeSpan.FromSeconds(30));
        _receiver.Stall(TimeSpan.FromSeconds(30));

        var result = await Adapter(o =>
        {
            // Long enough for each attempt to reach the receiver on a loaded machine before it is cancelled.
            o.AttemptTimeout = TimeSpan.FromMilliseconds(1500);
            o.MaxRetryAttempts = 1;
        }).PushAsync(Connection(), NewPush(), CancellationToken.None);

        Assert.False(result.Delivered);
        Assert.True(result.Retryable);
        Assert.Null(result.StatusCode);
        Assert.StartsWith("No response within", result.Error, StringComparison.Ordinal);
        // The second attempt was cancelled by its timeout; on a loaded machine the receiver may log it a moment later.
        for (var waited = 0; _receiver.Requests.Count < 2 && waited < 5_000; waited += 50)
        {
            await Task.Delay(50);
        }

        Assert.Equal(2, _receiver.Requests.Count);
    }

    [Fact]
    public async Task PushAsync_ThrowsOperationCanceled_WhenCallerCancels()
    {
        _receiver.Stall(TimeSpan.FromSeconds(30));
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Adapter().PushAsync(Connection(), NewPush(), cancellation.Token));
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/hooks")]
    [InlineData("file:///etc/passwd")]
    [InlineData("gopher://127.0.0.1:70/_x")]
    public async Task PushAsync_RefusesWithoutRequest_WhenSchemeIsNotHttp(string endpoint)
    {
        var result = await Adapter().PushAsync(new CrmConnection("webhook", new Uri(endpoint), Secret), NewPush(), CancellationToken.None);

        Assert.False(result.Delivered);
        Assert.False(result.Retryable);
        Assert.Null(result.StatusCode);
        Assert.Contains("http or https", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PushAsync_RefusesWithoutRequest_WhenSecretIsMalformed()
    {
        var result = await Adapter().PushAsync(Connection("whsec_not*base64!"), NewPush(), CancellationToken.None);

        Assert.False(result.Delivered);
        Assert.False(result.Retryable);
        Assert.DoesNotContain("not*base64", result.Error, StringComparison.Ordinal);
        Assert.Empty(_receiver.Requests);
    }

    [Fact]
    public async Task PushAsync_RefusesWithoutRequest_WhenPushIdHasLineBreak()
    {
        var push = new CrmPush("abc\r\nX-Evil: 1", "lead.qualified", []);

        var result = await Adapter().PushAsync(Connection(), push, CancellationToken.None);

        Assert.False(result.Delivered);
        Assert.False(result.Retryable);
        Assert.Empty(_receiver.Requests);
    }

    private WebhookCrmAdapter Adapter(Action<WebhookCrmOptions>? configure = null, TimeProvider? timeProvider = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddLogging();
        if (timeProvider is not null)
        {
            services.AddSingleton(timeProvider);
        }

        services.AddProspectorCrm();
        services.Configure<WebhookCrmOptions>(o =>
        {
            // Short backoff keeps the tests quick; Retry-After handling does not depend on it.
            o.BaseDelay = TimeSpan.FromMilliseconds(20);
            o.MaxDelay = TimeSpan.FromMilliseconds(100);
            configure?.Invoke(o);
        });
        _services = services.BuildServiceProvider(validateScopes: true);
        return Assert.IsType<WebhookCrmAdapter>(Assert.Single(_services.GetServices<ICrmAdapter>()));
    }

    private CrmConnection Connection(string secret = Secret) => new("webhook", _receiver.Url(), secret);

    private static CrmPush NewPush() => new(
        $"outbox_{Guid.NewGuid():N}",
        "lead.qualified",
        new JsonObject { ["email"] = "ana@example.test", ["score"] = 87, ["tags"] = new JsonArray("b2b", "é") });

    /// <summary>HMAC-SHA256 over "{id}.{timestamp}.{body}" exactly as the Standard Webhooks spec describes it.</summary>
    private static string ExpectedSignature(string secret, ReceivedRequest request)
    {
        var key = secret.StartsWith("whsec_", StringComparison.Ordinal)
            ? Convert.FromBase64String(secret["whsec_".Length..])
            : Encoding.UTF8.GetBytes(secret);
        var signedContent = Encoding.UTF8.GetBytes($"{request.Header("webhook-id")}.{request.Header("webhook-timestamp")}.")
            .Concat(request.Body)
            .ToArray();
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signedContent));
    }

    private static int FreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
