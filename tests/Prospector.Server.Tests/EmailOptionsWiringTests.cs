using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Prospector.Email.Smtp;
using Prospector.Storage;

namespace Prospector.Server.Tests;

/// <summary>EmailOptions:NoDelay (server configuration) reaches the SMTP sender's own options.</summary>
public sealed class EmailOptionsWiringTests
{
    [Theory]
    [InlineData(null, true)]
    [InlineData("false", false)]
    [InlineData("true", true)]
    public async Task SmtpSenderOptions_FollowEmailOptionsNoDelay_WhenConfigured(string? configured, bool expected)
    {
        var settings = configured is null ? null : new Dictionary<string, string?> { ["EmailOptions:NoDelay"] = configured };
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Sqlite, settings);

        Assert.Equal(expected, app.Services.GetRequiredService<IOptions<SmtpSenderOptions>>().Value.NoDelay);
    }
}
