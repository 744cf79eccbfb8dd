using Prospector.Core.Scheduling;
using Prospector.Storage;
using Prospector.Storage.Stores;

namespace Prospector.Server.Hosting;

/// <summary>The stores over a <see cref="Database"/> registered in the container, for the server and the simulation alike.</summary>
public static class StoreRegistration
{
    /// <summary>Registers the migrator, every store and the holiday calendar the dispatcher's scheduling reads.</summary>
    public static IServiceCollection AddProspectorStores(this IServiceCollection services)
    {
        services.AddSingleton<Migrator>();
        services.AddSingleton<WorkspaceStore>();
        services.AddSingleton<MailboxStore>();
        services.AddSingleton<SequenceStore>();
        services.AddSingleton<ProspectStore>();
        services.AddSingleton<EnrollmentStore>();
        services.AddSingleton<IHolidayCalendar>(PublicHolidayCalendar.Instance);
        services.AddSingleton<DispatchStore>();
        services.AddSingleton<SuppressionStore>();
        services.AddSingleton<InboundStore>();
        services.AddSingleton<CrmStore>();
        services.AddSingleton<DataProtectionKeyStore>();
        services.AddSingleton<OwnerStore>();
        services.AddSingleton<CompanyStore>();
        services.AddSingleton<AudienceStore>();
        services.AddSingleton<ImportStore>();
        services.AddSingleton<TaskStore>();
        services.AddSingleton<ServerSecretStore>();
        services.AddSingleton<TrackingStore>();
        return services;
    }
}
