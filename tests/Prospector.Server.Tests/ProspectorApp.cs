using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Prospector.Server.Security;
using Prospector.Storage;
using Prospector.Storage.Stores;
using Prospector.Storage.Tests;

namespace Prospector.Server.Tests;

/// <summary>
/// The real server (role "all": API, Hangfire server, dispatcher) on a fresh test database of either dialect,
/// tuned to react within about a second. Each instance has its own database and Hangfire storage.
/// </summary>
public sealed class ProspectorApp : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    private readonly TimeProvider? _clock;

    private ProspectorApp(TestDatabase database, Dictionary<string, string?> settings, TimeProvider? clock)
    {
        Database = database;
        _settings = settings;
        _clock = clock;
    }

    /// <summary>The admin key of the default workspace.</summary>
    public string ApiKey { get; } = ApiKeys.Generate();

    /// <summary>The test database.</summary>
    public TestDatabase Database { get; }

    /// <summary>Starts an app on a new database. <paramref name="settings"/> override configuration keys.</summary>
    public static async Task<ProspectorApp> StartAsync(SqlDialect dialect, IDictionary<string, string?>? settings = null, TimeProvider? clock = null)
    {
        var database = await TestDatabase.CreateAsync(dialect, migrate: false);
        var all = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["DispatcherOptions:PollInterval"] = "00:00:00.200",
            ["MailboxSyncOptions:Cron"] = "*/1 * * * * *",
            ["CrmOptions:OutboxCron"] = "*/2 * * * * *",
            ["HangfireOptions:QueuePollInterval"] = "00:00:00.200",
            ["HangfireOptions:SchedulePollingInterval"] = "00:00:01",
            ["HangfireOptions:WorkerCount"] = "4",
        };
        if (dialect == SqlDialect.Postgres)
        {
            all["StorageOptions:PostgresConnectionString"] = database.PostgresConnectionString;
        }
        else
        {
            all["StorageOptions:DataDirectory"] = database.DataDirectory;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var app = new ProspectorApp(database, all, clock);
        app._settings["ApiOptions:BootstrapApiKey"] = app.ApiKey;
        _ = app.Services; // start the host now: migrations, bootstrap key, workers
        return app;
    }

    /// <summary>An HTTP client authenticated with <paramref name="apiKey"/> (default: the admin key).</summary>
    public HttpClient Client(string? apiKey = null)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey ?? ApiKey);
        return client;
    }

    /// <summary>Creates another workspace with its own admin key (for isolation tests).</summary>
    public async Task<(Guid WorkspaceId, string ApiKey)> CreateWorkspaceAsync(string name)
    {
        var store = Services.GetRequiredService<WorkspaceStore>();
        var now = DateTimeOffset.UtcNow;
        var id = await store.CreateAsync(name, now, CancellationToken.None);
        var key = ApiKeys.Generate();
        await store.AddApiKeyAsync(id, "test", "admin", ApiKeys.DisplayPrefix(key), ApiKeys.Hash(key), now, CancellationToken.None);
        return (id, key);
    }

    /// <inheritdoc />
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_clock is { } clock)
        {
            builder.ConfigureTestServices(services => services.AddSingleton(clock));
        }
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Database.DisposeAsync();
    }
}
