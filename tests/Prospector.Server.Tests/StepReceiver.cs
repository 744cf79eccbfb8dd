using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Prospector.Server.Tests;

/// <summary>A request a webhook step made: headers (lower-case names) and body.</summary>
internal sealed record StepRequest(IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";
}

/// <summary>A real Kestrel endpoint on 127.0.0.1 that records webhook-step requests and answers with scripted status codes (then 200).</summary>
internal sealed class StepReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _statuses = new();
    private readonly ConcurrentQueue<StepRequest> _requests = new();

    private StepReceiver(IEnumerable<int> statuses)
    {
        foreach (var s in statuses)
        {
            _statuses.Enqueue(s);
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            _requests.Enqueue(new StepRequest(
                context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal), body));
            context.Response.StatusCode = _statuses.TryDequeue(out var status) ? status : 200;
        });
    }

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyList<StepRequest> Requests => [.. _requests];

    public static async Task<StepReceiver> StartAsync(params int[] statuses)
    {
        var receiver = new StepReceiver(statuses);
        await receiver._app.StartAsync();
        receiver.BaseUrl = new Uri(receiver._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
