namespace Prospector.Storage.Stores;

/// <summary>Tracking hits (opens, clicks) and one-click unsubscribes arriving on the public link endpoints.</summary>
public sealed class TrackingStore(Database db)
{
    // Contract placeholder for issue 5: implemented by the tracking/unsubscribe work.
    internal Database Db => db;
}
