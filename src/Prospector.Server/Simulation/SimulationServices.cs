using System.Net;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Prospector.Core.Email;
using Prospector.Server.Engine;
using Prospector.Server.Hosting;
using Prospector.Server.Security;
using Prospector.Storage;
using Prospector.Storage.Stores;

namespace Prospector.Server.Simulation;

/// <summary>
/// The engine's services, built on a scratch database and a virtual clock, with channels that record instead of acting.
/// The same classes as live dispatch (ProspectorServer registers them for the server): when an engine constructor gains a
/// dependency, register it in <see cref="AddSimulationEngine"/> too.
/// </summary>
public static class SimulationServices
{
    /// <summary>Registers everything <see cref="Dispatcher"/>, <see cref="TaskSteps"/> and the stores need, against <paramref name="scratch"/>.</summary>
    public static IServiceCollection AddSimulationEngine(this IServiceCollection services, Database scratch, VirtualClock clock, DispatcherOptions? options = null)
    {
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddSingleton<TimeProvider>(clock);
        services.AddSingleton(clock);
        services.AddSingleton(Options.Create(options ?? new DispatcherOptions()));

        // Our data: the scratch copy, migrated by the production migrator.
        services.AddSingleton(scratch);
        services.AddProspectorStores();

        // Secrets: nothing secret is copied; an ephemeral key ring (never persisted) satisfies the dispatcher's SecretProtector.
        services.AddSingleton<IDataProtectionProvider>(new EphemeralDataProtectionProvider(NullLoggerFactory.Instance));
        services.AddSingleton<SecretProtector>();

        // No public base URL: simulated emails carry no https links (their link key lives in the scratch database).
        services.AddSingleton(Options.Create(new EmailOptions()));
        services.AddSingleton<Prospector.Server.Email.PublicLinks>();

        // Channels that record: email "sent" without a network, webhooks answered 200 without a connection or DNS lookup.
        services.AddSingleton<RecordingEmailSender>();
        services.AddSingleton<IEmailSender>(sp => sp.GetRequiredService<RecordingEmailSender>());
        services.AddSingleton(new WebhookTransport(new AnsweringHandler()));

        // The engine, exactly the live classes.
        services.AddSingleton<Dispatcher>();
        services.AddSingleton<TaskSteps>();
        services.AddSingleton<WebhookStepRunner>();
        return services;
    }
}

/// <summary>An email "channel" that accepts every message (250) and only counts it: the send row records the rest.</summary>
public sealed class RecordingEmailSender : IEmailSender
{
    private int _sent;

    /// <summary>How many messages were accepted.</summary>
    public int Sent => _sent;

    /// <inheritdoc />
    public Task<SendResult> SendAsync(SmtpEndpoint endpoint, OutgoingEmail email, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _sent);
        return Task.FromResult(new SendResult(SendOutcome.Sent, "simulated", 250));
    }
}

/// <summary>Answers every webhook request 200 in process: no socket, no DNS.</summary>
internal sealed class AnsweringHandler : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request });
}
