using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Prospector.Crm.Tests;

/// <summary>One request as the receiver saw it: headers (lower-case names), raw body, arrival on the Stopwatch clock.</summary>
internal sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, long ArrivedAt)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";
}

/// <summary>
/// A real HTTP endpoint on 127.0.0.1 (Kestrel, dynamic port) that records each request and answers from a script,
/// one scripted reply per request; when the script is empty it answers 200 with an empty JSON object.
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _script = new();
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();

    private WebhookReceiver()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        await receiver._app.StartAsync();
        var address = receiver._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.BaseUrl = new Uri(address);
        return receiver;
    }

    public Uri Url(string path = "/hooks/crm") => new(BaseUrl, path);

    public void Reply(int status, string? body = null, string? retryAfter = null, string? location = null)
        => _script.Enqueue(async context =>
        {
            context.Response.StatusCode = status;
            if (retryAfter is not null)
            {
                context.Response.Headers.RetryAfter = retryAfter;
            }

            if (location is not null)
            {
                context.Response.Headers.Location = location;
            }

            if (body is not null)
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(body);
            }
        });

    /// <summary>Holds the request open (until the client gives up) before answering 200.</summary>
    public void Stall(TimeSpan delay)
        => _script.Enqueue(async context =>
        {
            try
            {
                await Task.Delay(delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            context.Response.StatusCode = 200;
        });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var arrivedAt = Stopwatch.GetTimestamp();
        using var body = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The client gave up while sending (a timed-out attempt): it still counts as an attempt that arrived.
        }

        var headers = context.Request.Headers.ToDictionary(
            h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
        _requests.Enqueue(new ReceivedRequest(context.Request.Method, context.Request.Path, headers, body.ToArray(), arrivedAt));

        if (_script.TryDequeue(out var reply))
        {
            await reply(context);
        }
        else
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{}");
        }
    }
}
