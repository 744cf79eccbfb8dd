using System.Text.Json.Serialization;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.Storage.SQLite;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Prospector.Crm;
using Prospector.Email;
using Prospector.Server.Apis;
using Prospector.Server.Engine;
using Prospector.Server.Jobs;
using Prospector.Server.Security;
using Prospector.Storage;
using Prospector.Storage.Stores;

namespace Prospector.Server.Hosting;

/// <summary>The Server's composition root: storage, Hangfire, security, engine and APIs, per role.</summary>
public static class ProspectorServer
{
    /// <summary>Registers everything this process's role needs.</summary>
    public static WebApplicationBuilder AddProspector(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddOptions<StorageOptions>().BindConfiguration(nameof(StorageOptions)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DispatcherOptions>().BindConfiguration(nameof(DispatcherOptions)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MailboxSyncOptions>().BindConfiguration(nameof(MailboxSyncOptions)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<CrmOptions>().BindConfiguration(nameof(CrmOptions)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ApiOptions>().BindConfiguration(nameof(ApiOptions)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EmailOptions>().BindConfiguration(nameof(EmailOptions)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<HangfireOptions>().BindConfiguration(nameof(HangfireOptions)).ValidateDataAnnotations().ValidateOnStart();

        var storage = configuration.GetSection(nameof(StorageOptions)).Get<StorageOptions>() ?? new StorageOptions();
        var dataDirectory = Path.GetFullPath(storage.DataDirectory, builder.Environment.ContentRootPath);
        if (!storage.UsesPostgres)
        {
            Directory.CreateDirectory(dataDirectory);
        }

        var hangfire = configuration.GetSection(nameof(HangfireOptions)).Get<HangfireOptions>() ?? new HangfireOptions();
        var role = ServerRoles.Read(configuration, storage.UsesPostgres);
        services.AddSingleton(new RoleInfo(role));
        services.TryAddSingleton(TimeProvider.System);

        // Our data.
        services.AddSingleton(_ => storage.UsesPostgres
            ? Database.ForPostgres(storage.PostgresConnectionString!)
            : Database.ForSqliteFile(Path.Combine(dataDirectory, "prospector.db")));
        services.AddProspectorStores();

        // Migrations and the first API key, before any other hosted service (Hangfire, dispatcher) starts.
        services.AddSingleton<StartupTasks>();
        services.AddHostedService(sp => sp.GetRequiredService<StartupTasks>());

        // Secrets at rest: Data Protection with its key ring in our database, shared by every process.
        services.AddDataProtection().SetApplicationName("Prospector");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlRepository = sp.GetRequiredService<DataProtectionKeyStore>()));
        services.AddSingleton<SecretProtector>();
        services.AddSingleton<Prospector.Server.Email.PublicLinks>();

        // Channels and adapters.
        services.AddProspectorEmail();
        services.AddOptions<Prospector.Email.Smtp.SmtpSenderOptions>()
            .Configure<IOptions<EmailOptions>>((smtp, email) => smtp.NoDelay = email.Value.NoDelay);
        services.AddProspectorCrm();

        // The engine.
        services.AddSingleton<Dispatcher>();
        services.AddSingleton<TaskSteps>();
        services.AddSingleton<WebhookStepRunner>();
        services.AddSingleton<MailboxSync>();
        services.AddSingleton<CrmPusher>();
        services.AddTransient<MailboxSyncJob>();
        services.AddTransient<CrmPushJob>();
        services.AddTransient<CrmOutboxJob>();
        services.AddTransient<DispatchJob>();
        services.AddTransient<ImportJob>();

        // Hangfire: our own JobStorage instance in DI (not the process-wide JobStorage.Current), so that several
        // hosts can live in one process (tests) without sharing storage.
        GlobalConfiguration.Configuration.UseLogProvider(HangfireLogging.Instance);
        services.AddSingleton<JobStorage>(sp =>
        {
            // Hangfire's classes bind their static loggers when first touched, which can be right here.
            HangfireLogging.Instance.Use(sp.GetRequiredService<ILoggerFactory>());
            return storage.UsesPostgres
                ? new PostgreSqlStorage(
                    new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(storage.PostgresConnectionString!, new PostgreSqlStorageOptions()),
                    new PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = true, QueuePollInterval = hangfire.QueuePollInterval })
                : new SQLiteStorage(Path.Combine(dataDirectory, "hangfire.db"), new SQLiteStorageOptions { QueuePollInterval = hangfire.QueuePollInterval });
        });
        services.AddHangfire((sp, config) =>
        {
            HangfireLogging.Instance.Use(sp.GetRequiredService<ILoggerFactory>());
            config
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings()
                .UseLogProvider(HangfireLogging.Instance);
        });
        if (role.RunsWorkers())
        {
            // Before the Hangfire server starts, so its recurring scheduler never races the registration for locks.
            services.AddHostedService<RecurringJobRegistration>();
            services.AddHangfireServer((sp, o) =>
            {
                o.WorkerCount = hangfire.WorkerCount;
                o.SchedulePollingInterval = hangfire.SchedulePollingInterval;
                o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}";
            });
            services.AddHostedService<DispatchLoop>();
        }

        // Above Hangfire's own stop timeout, so in-flight jobs can finish on shutdown.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        // API.
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization(ApiPolicies.Add);
        services.AddSingleton<IAuthorizationHandler, OperatorHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        services.AddProspectorApiDocs();
        services.AddProblemDetails();
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<JsonOptions>(o =>
        {
            // Mass assignment and typos are refused, not ignored; missing non-optional members are errors.
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            o.SerializerOptions.RespectRequiredConstructorParameters = true;
            o.SerializerOptions.RespectNullableAnnotations = true;
        });
        var api = configuration.GetSection(nameof(ApiOptions)).Get<ApiOptions>() ?? new ApiOptions();
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = api.MaxRequestBodyBytes);
        return builder;
    }

    /// <summary>Maps the API, the Hangfire dashboard and health, per role.</summary>
    public static WebApplication MapProspector(this WebApplication app)
    {
        var role = app.Services.GetRequiredService<RoleInfo>().Role;
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseMiddleware<RequestSizeLimitMiddleware>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/health", (RoleInfo r) => TypedResults.Ok(new { status = "ok", role = r.Role.ToString().ToLowerInvariant() })).AllowAnonymous();
        if (role.RunsApi())
        {
            // Every /api route: a key, and the method rule (viewers read only); admin routes add RequireAdmin().
            var api = app.MapGroup("/api").RequireAuthorization(ApiPolicies.ByMethod);
            api.MapMailboxesApi().MapSequencesApi().MapProspectsApi().MapEnrollmentsApi().MapCrmApi();
            api.MapWorkspacesApi().MapKeysApi().MapOwnersApi();
            app.MapProspectorApiDocs();
            api.MapImportsApi().MapAudiencesApi();
            api.MapTasksApi();
            api.MapSuppressionsApi();
            api.MapSendsApi();
            app.MapPublicLinksApi();

            // Dashboard: local requests only (Hangfire's default filter) until dashboard auth lands.
            app.UseHangfireDashboard("/hangfire", new DashboardOptions { DashboardTitle = "Prospector jobs" }, app.Services.GetRequiredService<JobStorage>());
        }

        return app;
    }
}

/// <summary>This process's role, for endpoints and services that depend on it.</summary>
public sealed record RoleInfo(ServerRole Role);

/// <summary>
/// Registers the recurring jobs under stable ids once the storage is migrated. Each registration takes a Hangfire lock;
/// a process killed while holding one (kill -9, OOM) leaves it held until the storage's DistributedLockTimeout (10 min
/// on PostgreSQL). Then the registration is retried in the background instead of failing the host: a worker must still
/// start and dispatch while a recurring job cannot be updated yet (found by the R1 kill soak, docs/reliability.md).
/// </summary>
internal sealed class RecurringJobRegistration(
    IRecurringJobManager recurring, IOptions<MailboxSyncOptions> sync, IOptions<CrmOptions> crm, TimeProvider clock, ILogger<RecurringJobRegistration> logger)
    : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _retrying = Task.CompletedTask;
    private int _disposed;

    /// <summary>The pause between background attempts.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Completes once every recurring job is registered (or the host stops first).</summary>
    public Task Registered => _retrying;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!TryRegister())
        {
            _retrying = RetryAsync(_stopping.Token);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // A host may be stopped after its services were disposed (a test host torn down twice): nothing left to stop then.
        if (Volatile.Read(ref _disposed) == 0)
        {
            await _stopping.CancelAsync();
        }

        await _retrying.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stopping.Cancel();
            _stopping.Dispose();
        }
    }

    private bool TryRegister()
    {
        try
        {
            recurring.AddOrUpdate<MailboxSyncJob>(MailboxSyncJob.RecurringId, j => j.RunAsync(CancellationToken.None), sync.Value.Cron);
            recurring.AddOrUpdate<CrmOutboxJob>(CrmOutboxJob.RecurringId, j => j.RunAsync(CancellationToken.None), crm.Value.OutboxCron);
            recurring.AddOrUpdate<DispatchJob>(DispatchJob.RecurringId, j => j.RunAsync(CancellationToken.None), Cron.Minutely());
            return true;
        }
        catch (Exception ex) when (ex is Hangfire.Storage.DistributedLockTimeoutException or PostgreSqlDistributedLockException)
        {
            logger.LogWarning("Recurring jobs not registered: a Hangfire lock is held ({Reason}); retrying every {RetryDelay}", ex.Message, RetryDelay);
            return false;
        }
    }

    private async Task RetryAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(RetryDelay, clock, ct);
                // An attempt blocks on the lock (Hangfire's API is synchronous): off the caller's thread.
                if (await Task.Run(TryRegister, ct))
                {
                    logger.LogInformation("Recurring jobs registered after a retry");
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }
}
