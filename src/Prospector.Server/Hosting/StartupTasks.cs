using Microsoft.Extensions.Options;
using Prospector.Server.Security;
using Prospector.Storage;
using Prospector.Storage.Stores;

namespace Prospector.Server.Hosting;

/// <summary>
/// Runs before anything else starts: applies migrations (under a lock), makes sure the default workspace exists and
/// has an API key (the configured one, or a new one printed once on standard output).
/// </summary>
public sealed class StartupTasks(Migrator migrator, WorkspaceStore workspaces, IOptions<ApiOptions> api, TimeProvider clock, ILogger<StartupTasks> logger)
    : IHostedService
{
    /// <summary>The default workspace's id, once started.</summary>
    public Guid DefaultWorkspaceId { get; private set; }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await migrator.MigrateAsync(cancellationToken);
        var now = clock.GetUtcNow();
        DefaultWorkspaceId = await workspaces.EnsureDefaultAsync("default", now, cancellationToken);
        if (!string.IsNullOrWhiteSpace(api.Value.BootstrapApiKey))
        {
            var key = api.Value.BootstrapApiKey.Trim();
            await workspaces.AddApiKeyAsync(DefaultWorkspaceId, "bootstrap (configuration)", "admin", ApiKeys.DisplayPrefix(key), ApiKeys.Hash(key), now, cancellationToken);
            return;
        }

        if (!await workspaces.HasActiveApiKeyAsync(DefaultWorkspaceId, cancellationToken))
        {
            var key = ApiKeys.Generate();
            await workspaces.AddApiKeyAsync(DefaultWorkspaceId, "bootstrap (generated)", "admin", ApiKeys.DisplayPrefix(key), ApiKeys.Hash(key), now, cancellationToken);
            // Printed, not logged: log sinks keep things; this is shown once and never again.
            await Console.Out.WriteLineAsync($"""

                ==> Prospector API key for the default workspace (shown once, store it now):
                    {key}

                """);
            logger.LogWarning("Generated the first API key ({Prefix}…) and printed it on standard output", ApiKeys.DisplayPrefix(key));
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
