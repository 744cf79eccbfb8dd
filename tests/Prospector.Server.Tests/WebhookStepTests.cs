using System.Text.Json;
using Prospector.Core.Sequences;
using Prospector.Storage;

namespace Prospector.Server.Tests;

public class WebhookStepTests
{
    private static readonly Dictionary<string, string?> AllowLocal = new(StringComparer.Ordinal)
    {
        ["DispatcherOptions:AllowPrivateWebhookTargets"] = "true",
        ["DispatcherOptions:WebhookRetryDelay"] = "00:00:00.200",
    };

    private static SequenceDefinition Hook(Uri url, string? payload = """{"name": "{{ first_name }}", "company": "{{ company }}"}""")
        => new([new WebhookStep("h1", url, payload)]);

    private static Task<string?> CompletedAsync(ProspectorApp app, Guid enrollmentId)
        => StepHarness.ScalarAsync<string?>(app, "select state from enrollments where id = @enrollmentId and state <> 'active'", new { enrollmentId });

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.Sqlite)]
    public async Task Webhook200_PostsRenderedJsonWithIdempotencyKeyAndAdvances(SqlDialect dialect)
    {
        await using var receiver = await StepReceiver.StartAsync(200);
        await using var app = await ProspectorApp.StartAsync(dialect, AllowLocal);
        var s = await StepHarness.EnrollAsync(app, Hook(new Uri(receiver.BaseUrl, "/in")));

        Assert.Equal("completed", await StepHarness.UntilAsync(app, () => CompletedAsync(app, s.EnrollmentId), "the webhook step"));

        var request = Assert.Single(receiver.Requests);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal(("Jane", "Acme"), (body.RootElement.GetProperty("name").GetString(), body.RootElement.GetProperty("company").GetString()));
        Assert.StartsWith("application/json", request.Header("content-type"), StringComparison.Ordinal);
        var callId = Guid.Parse(await StepHarness.ScalarAsync<string>(app, "select cast(id as text) from webhook_calls where enrollment_id = @id", new { id = s.EnrollmentId }));
        Assert.Equal(callId.ToString(), request.Header("idempotency-key"));
        Assert.Equal(callId.ToString(), request.Header("webhook-id"));
        Assert.Equal([("webhook_sent", (string?)"h1: 200"), ("completed", null)], await StepHarness.EventsAsync(app, s.EnrollmentId));
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    public async Task Webhook500Then200_RetriesOnceWithSameKey(SqlDialect dialect)
    {
        await using var receiver = await StepReceiver.StartAsync(500, 200);
        await using var app = await ProspectorApp.StartAsync(dialect, AllowLocal);
        var s = await StepHarness.EnrollAsync(app, Hook(new Uri(receiver.BaseUrl, "/in")));

        Assert.Equal("completed", await StepHarness.UntilAsync(app, () => CompletedAsync(app, s.EnrollmentId), "the retried webhook"));

        Assert.Equal(2, receiver.Requests.Count);
        Assert.Equal(receiver.Requests[0].Header("idempotency-key"), receiver.Requests[1].Header("idempotency-key"));
        Assert.Equal(2L, await StepHarness.ScalarAsync<long>(app, "select attempts from webhook_calls where enrollment_id = @id", new { id = s.EnrollmentId }));
        Assert.Equal([("webhook_deferred", (string?)"h1: 500"), ("webhook_sent", "h1: 200"), ("completed", null)], await StepHarness.EventsAsync(app, s.EnrollmentId));
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    public async Task Webhook503_FailsAndAdvances_WhenAttemptsRunOut(SqlDialect dialect)
    {
        await using var receiver = await StepReceiver.StartAsync(503, 503, 200);
        await using var app = await ProspectorApp.StartAsync(dialect, new Dictionary<string, string?>(AllowLocal) { ["DispatcherOptions:WebhookMaxAttempts"] = "2" });
        var s = await StepHarness.EnrollAsync(app, Hook(new Uri(receiver.BaseUrl, "/in")));

        Assert.Equal("completed", await StepHarness.UntilAsync(app, () => CompletedAsync(app, s.EnrollmentId), "the exhausted webhook"));

        Assert.Equal(2, receiver.Requests.Count);
        Assert.Equal([("webhook_deferred", (string?)"h1: 503"), ("webhook_failed", "h1: 503"), ("completed", null)], await StepHarness.EventsAsync(app, s.EnrollmentId));
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    public async Task Webhook400_RecordsFailureAndAdvances(SqlDialect dialect)
    {
        await using var receiver = await StepReceiver.StartAsync(400);
        await using var app = await ProspectorApp.StartAsync(dialect, AllowLocal);
        var s = await StepHarness.EnrollAsync(app, Hook(new Uri(receiver.BaseUrl, "/in")));

        Assert.Equal("completed", await StepHarness.UntilAsync(app, () => CompletedAsync(app, s.EnrollmentId), "the failed webhook"));

        Assert.Single(receiver.Requests);
        Assert.Equal([("webhook_failed", (string?)"h1: 400"), ("completed", null)], await StepHarness.EventsAsync(app, s.EnrollmentId));
        Assert.Equal("failed", await StepHarness.ScalarAsync<string>(app, "select state from webhook_calls where enrollment_id = @id", new { id = s.EnrollmentId }));
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    public async Task WebhookToLoopback_IsRefused_WhenPrivateTargetsNotAllowed(SqlDialect dialect)
    {
        await using var receiver = await StepReceiver.StartAsync(200);
        await using var app = await ProspectorApp.StartAsync(dialect);
        var s = await StepHarness.EnrollAsync(app, Hook(new Uri(receiver.BaseUrl, "/in")));

        Assert.Equal("completed", await StepHarness.UntilAsync(app, () => CompletedAsync(app, s.EnrollmentId), "the refused webhook"));

        Assert.Empty(receiver.Requests);
        var failed = (await StepHarness.EventsAsync(app, s.EnrollmentId))[0];
        Assert.Equal("webhook_failed", failed.Type);
        Assert.Contains("refused", failed.Detail, StringComparison.Ordinal);
        Assert.Contains("non-public address", failed.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SqlDialect.Postgres)]
    public async Task WebhookPayloadNotJsonOnceRendered_PausesWithoutCall(SqlDialect dialect)
    {
        await using var receiver = await StepReceiver.StartAsync(200);
        await using var app = await ProspectorApp.StartAsync(dialect, AllowLocal);
        var s = await StepHarness.EnrollAsync(app, Hook(new Uri(receiver.BaseUrl, "/in"), """{% if first_name == "Jane" %}oops{% endif %}{"name": "{{ first_name }}"}"""));

        Assert.Equal("paused", await StepHarness.UntilAsync(app, () => CompletedAsync(app, s.EnrollmentId), "the pause"));

        Assert.Empty(receiver.Requests);
        Assert.Equal("paused_webhook_payload_invalid", Assert.Single(await StepHarness.EventsAsync(app, s.EnrollmentId)).Type);
    }
}

public class WebhookTargetGuardTests
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("::", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("ff02::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("93.184.216.34", false)]
    [InlineData("2606:2800:220:1::1", false)]
    public void IsNonPublic_ClassifiesAddress(string address, bool nonPublic)
        => Assert.Equal(nonPublic, Engine.WebhookStepRunner.IsNonPublic(System.Net.IPAddress.Parse(address)));
}
