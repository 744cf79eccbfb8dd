using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prospector.Core.Crm;
using Prospector.Crm.Webhook;

namespace Prospector.Crm;

public static class CrmServiceCollectionExtensions
{
    /// <summary>
    /// Registers every CRM adapter as a singleton <see cref="ICrmAdapter"/> (pick one by <see cref="ICrmAdapter.Kind"/>),
    /// their HttpClients, and <see cref="WebhookCrmOptions"/> bound to the section of that name.
    /// </summary>
    public static IServiceCollection AddProspectorCrm(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.TryAddSingleton(TimeProvider.System);

        services.AddOptions<WebhookCrmOptions>()
            .BindConfiguration(nameof(WebhookCrmOptions))
            .Validate(o => o.MaxRetryAttempts is >= 1 and <= 10, "WebhookCrmOptions.MaxRetryAttempts must be 1..10.")
            .Validate(o => o.BaseDelay > TimeSpan.Zero && o.MaxDelay >= o.BaseDelay, "WebhookCrmOptions.BaseDelay must be positive and at most MaxDelay.")
            .Validate(o => o.MaxRetryAfter >= TimeSpan.Zero, "WebhookCrmOptions.MaxRetryAfter must not be negative.")
            .Validate(o => o.AttemptTimeout >= TimeSpan.FromMilliseconds(10) && o.AttemptTimeout <= TimeSpan.FromMinutes(5), "WebhookCrmOptions.AttemptTimeout must be 10 ms..5 min.")
            .Validate(o => o.AllowPrivateNetworks, "WebhookCrmOptions.AllowPrivateNetworks=false is not implemented yet; see its documentation.")
            .ValidateOnStart();

        services.AddHttpClient(WebhookCrmAdapter.HttpClientName, client =>
            {
                // The adapter's pipeline times each attempt; HttpClient's own 100 s timeout would only blur that.
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // A redirect is reported as a failure, never followed: it could point anywhere (SSRF) and would
                // turn the POST into a GET. Private-network blocking goes here later, as a ConnectCallback.
                AllowAutoRedirect = false,
                UseCookies = false,
            })
            // The factory's default handlers log full request URLs at Information; webhook URLs often carry tokens.
            .RemoveAllLoggers();

        services.TryAddEnumerable(ServiceDescriptor.Singleton<ICrmAdapter, WebhookCrmAdapter>());
        return services;
    }
}
