using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Prospector.EndToEnd.Tests;

/// <summary>A real HTTP server on loopback standing in for the CRM: records every request it gets.</summary>
public sealed class CrmReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CrmReceiver(WebApplication app) => _app = app;

    /// <summary>Requests received: headers of interest and the raw body.</summary>
    public ConcurrentQueue<(string? Id, string? Timestamp, string? Signature, string Body)> Requests { get; } = new();

    /// <summary>Where to POST.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Starts the receiver on a free port.</summary>
    public static async Task<CrmReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new CrmReceiver(app);
        app.MapPost("/hooks/leads", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync();
            receiver.Requests.Enqueue((request.Headers["webhook-id"], request.Headers["webhook-timestamp"], request.Headers["webhook-signature"], body));
            return Results.Ok(new { id = "crm-" + Guid.NewGuid().ToString("N")[..8] });
        });
        await app.StartAsync();
        receiver.Url = new Uri(app.Urls.First() + "/hooks/leads");
        return receiver;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
