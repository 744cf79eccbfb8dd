using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Prospector.Core.Crm;
using Prospector.Crm.Webhook;

namespace Prospector.Crm.Tests;

public class CrmServiceCollectionExtensionsTests
{
    [Fact]
    public void AddProspectorCrm_RegistersWebhookAdapterAsSingleton_WhenCalledTwice()
    {
        using var provider = Build(new Dictionary<string, string?>(), twice: true);

        var adapter = Assert.Single(provider.GetServices<ICrmAdapter>());

        Assert.IsType<WebhookCrmAdapter>(adapter);
        Assert.Equal("webhook", adapter.Kind);
        Assert.Same(adapter, Assert.Single(provider.GetServices<ICrmAdapter>()));
        Assert.NotNull(provider.GetRequiredService<IHttpClientFactory>().CreateClient(WebhookCrmAdapter.HttpClientName));
    }

    [Fact]
    public void AddProspectorCrm_BindsOptionsFromTheirSection_WhenConfigured()
    {
        using var provider = Build(new Dictionary<string, string?>
        {
            ["WebhookCrmOptions:MaxRetryAttempts"] = "5",
            ["WebhookCrmOptions:MaxRetryAfter"] = "00:01:00",
        });

        var options = provider.GetRequiredService<IOptions<WebhookCrmOptions>>().Value;

        Assert.Equal(5, options.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromMinutes(1), options.MaxRetryAfter);
        Assert.True(options.AllowPrivateNetworks);
    }

    [Fact]
    public void AddProspectorCrm_RejectsOptions_WhenPrivateNetworkBlockingRequested()
    {
        using var provider = Build(new Dictionary<string, string?> { ["WebhookCrmOptions:AllowPrivateNetworks"] = "false" });

        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<WebhookCrmOptions>>().Value);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings, bool twice = false)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        services.AddProspectorCrm();
        if (twice)
        {
            services.AddProspectorCrm();
        }

        return services.BuildServiceProvider(validateScopes: true);
    }
}
