using System.Net;
using System.Net.Http.Json;
using Prospector.Storage;

namespace Prospector.Server.Tests;

/// <summary>
/// Documented-optional members (nullable, "omit it to …") must be omittable even though the server sets
/// RespectRequiredConstructorParameters = true (which makes every constructor parameter without a default required).
/// </summary>
public class OptionalMembersTests
{
    [Fact]
    public async Task PutCrmConnection_GeneratesSecret_WhenSecretOmitted()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var put = await app.Client().PutAsJsonAsync("/api/crm/connection", new { kind = "webhook", url = "https://crm.example.com/h" })
            .ExpectAsync(HttpStatusCode.OK);
        Assert.StartsWith("whsec_", put.GetProperty("generatedSecret").GetString());
    }

    [Fact]
    public async Task CreateMailbox_Returns201_WhenImapAndOptionalSmtpFieldsOmitted()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        await app.Client().PostAsJsonAsync("/api/mailboxes", new { name = "Sales", fromAddress = "s@example.com", smtp = new { host = "smtp.example.com", port = 587 } })
            .ExpectAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task ImportProspects_Returns200_WhenOnlyEmailGiven()
    {
        await using var app = await ProspectorApp.StartAsync(SqlDialect.Postgres);
        var result = await app.Client().PostAsJsonAsync("/api/prospects", new { prospects = new[] { new { email = "ann@acme.example" } } })
            .ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, result.GetProperty("created").GetInt32());
    }
}
