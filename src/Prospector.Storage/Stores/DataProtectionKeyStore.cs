using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Prospector.Storage.Stores;

/// <summary>
/// Keeps the ASP.NET Core Data Protection key ring in our database, so every process on one PostgreSQL (or the
/// single embedded node) decrypts the same mailbox and CRM secrets. The keys themselves are not encrypted at rest
/// here; protect the database (or configure a key-encryption certificate) in production.
/// </summary>
public sealed class DataProtectionKeyStore(Database db) : IXmlRepository
{
    /// <inheritdoc />
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var c = db.OpenAsync().GetAwaiter().GetResult();
        return c.Query<string>("select xml from data_protection_keys order by created_at, name").Select(x => XElement.Parse(x)).ToList();
    }

    /// <inheritdoc />
    public void StoreElement(XElement element, string friendlyName)
    {
        using var c = db.OpenAsync().GetAwaiter().GetResult();
        c.Execute(
            "insert into data_protection_keys (name, xml, created_at) values (@friendlyName, @xml, @now) on conflict (name) do nothing",
            new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting), now = DateTimeOffset.UtcNow });
    }
}
