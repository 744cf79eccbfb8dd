using Microsoft.AspNetCore.DataProtection;

namespace Prospector.Server.Security;

/// <summary>Encrypts mailbox passwords and CRM secrets at rest with ASP.NET Core Data Protection (key ring in our database).</summary>
public sealed class SecretProtector(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Prospector.Secrets.v1");

    /// <summary>Ciphertext for storage; null stays null.</summary>
    public string? Protect(string? secret) => secret is null ? null : _protector.Protect(secret);

    /// <summary>The secret back, for the moment it is used.</summary>
    public string? Unprotect(string? protectedSecret) => protectedSecret is null ? null : _protector.Unprotect(protectedSecret);
}
