using System.Data.Common;
using System.Net;
using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core.Email;
using Prospector.Server.Email;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>
/// The links recipients reach from our emails, outside <c>/api</c> and without a key: the signed token is the only
/// authority. <c>/u/{token}</c> is the RFC 8058 one-click unsubscribe (GET shows a confirmation page and changes nothing,
/// since link scanners fetch GETs; POST unsubscribes), <c>/t/o/{token}</c> the open pixel, <c>/t/c/{token}?u=</c> the click
/// redirect (the token's MAC covers the target, so it is no open redirect). No cookies, no redirect on /u, no prospect data.
/// </summary>
public static class PublicLinksApi
{
    /// <summary>Longer tokens are refused before any work (ours are 43 characters).</summary>
    public const int MaxTokenLength = 64;

    /// <summary>Longer click targets are refused.</summary>
    public const int MaxUrlLength = 2000;

    // A 1×1 transparent GIF89a: a two-colour palette, a graphic control extension marking index 0 transparent, one pixel.
    private static readonly byte[] Pixel =
    [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
        0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02,
        0x44, 0x01, 0x00, 0x3B,
    ];

    /// <summary>Maps the public link endpoints (anonymous, not in the API document).</summary>
    public static WebApplication MapPublicLinksApi(this WebApplication app)
    {
        app.MapGet("/u/{token}", ConfirmAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/u/{token}", UnsubscribeAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapMethods("/t/o/{token}", [HttpMethods.Get, HttpMethods.Head], OpenAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapMethods("/t/c/{token}", [HttpMethods.Get, HttpMethods.Head], ClickAsync).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static async Task<ContentHttpResult> ConfirmAsync(string token, HttpContext http, PublicLinks links, TrackingStore store, CancellationToken ct)
    {
        var send = await ReadAsync(LinkPurpose.Unsubscribe, token, links, store, ct);
        if (send is null)
        {
            return Page(http, StatusCodes.Status404NotFound, "Link not found", "<p>This unsubscribe link is not valid. Nothing was changed.</p>");
        }

        // No action attribute: the form posts back to this very URL (with its token).
        var hint = Mask(send.Email);
        return Page(http, StatusCodes.Status200OK, "Unsubscribe",
            $"""
            <p>Stop receiving these emails{(hint is null ? "" : " at <strong>" + WebUtility.HtmlEncode(hint) + "</strong>")}?</p>
            <form method="post"><button type="submit">Unsubscribe</button></form>
            """);
    }

    private static async Task<ContentHttpResult> UnsubscribeAsync(
        string token, HttpContext http, PublicLinks links, TrackingStore store, TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        // RFC 8058 clients post "List-Unsubscribe=One-Click"; any body (or none) is accepted and never read: the token decides.
        var id = await ReadTokenAsync(LinkPurpose.Unsubscribe, token, links, ct);
        var outcome = id is { } sendId ? await store.UnsubscribeAsync(sendId, clock.GetUtcNow(), ct) : null;
        if (outcome is not { Found: true })
        {
            return Page(http, StatusCodes.Status404NotFound, "Link not found", "<p>This unsubscribe link is not valid. Nothing was changed.</p>");
        }

        loggers.CreateLogger(typeof(PublicLinksApi).FullName!).LogInformation(
            "One-click unsubscribe through send {SendId}: newly suppressed {Suppressed}, {Stopped} enrollments stopped", id, outcome.Suppressed, outcome.Stopped.Count);
        return Page(http, StatusCodes.Status200OK, "Unsubscribed", "<p>You are unsubscribed. You will not receive these emails any more.</p>");
    }

    private static async Task<FileContentHttpResult> OpenAsync(
        string token, HttpContext http, PublicLinks links, TrackingStore store, TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        // Always the pixel, whatever the token: a broken image in the recipient's mail says nothing useful to anyone.
        NoStore(http);
        await RecordAsync(LinkPurpose.Open, token, null, http, links, store, clock, loggers, ct);
        return TypedResults.File(Pixel, "image/gif");
    }

    private static async Task<Results<RedirectHttpResult, ContentHttpResult>> ClickAsync(
        string token, HttpContext http, PublicLinks links, TrackingStore store, TimeProvider clock, ILoggerFactory loggers, CancellationToken ct, string? u = null)
    {
        if (u is null || u.Length > MaxUrlLength || token.Length > MaxTokenLength || Target(u) is not { } target
            || await ReadTokenAsync(LinkPurpose.Click, token, links, ct, u) is null)
        {
            return Page(http, StatusCodes.Status400BadRequest, "Link not valid", "<p>This link is not valid.</p>");
        }

        NoStore(http);
        http.Response.Headers["Referrer-Policy"] = "no-referrer";
        await RecordAsync(LinkPurpose.Click, token, u, http, links, store, clock, loggers, ct);
        return TypedResults.Redirect(target);
    }

    // Records an open or click of a valid token's send; an invalid token or unknown send records nothing. A database
    // failure is logged and swallowed: the recipient still gets the pixel or the redirect.
    private static async Task RecordAsync(
        LinkPurpose purpose, string token, string? url, HttpContext http, PublicLinks links, TrackingStore store, TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        try
        {
            var send = await ReadAsync(purpose, token, links, store, ct, url);
            if (send is null)
            {
                return;
            }

            var now = clock.GetUtcNow();
            var kind = purpose == LinkPurpose.Open ? TrackingHitKind.Open : TrackingHitKind.Click;
            var verdict = MachineFetchDetector.Classify(
                http.Request.Headers.UserAgent.ToString(), kind, send.SentAt is { } sent ? now - sent : null, HttpMethods.IsHead(http.Request.Method));
            await store.RecordHitAsync(send, kind == TrackingHitKind.Open ? TrackingStore.OpenKind : TrackingStore.ClickKind, url, verdict.Machine, verdict.Reason, now, ct);
        }
        catch (DbException ex)
        {
            loggers.CreateLogger(typeof(PublicLinksApi).FullName!).LogWarning(ex, "Tracking hit not recorded ({Purpose})", purpose);
        }
    }

    private static async Task<TrackedSend?> ReadAsync(LinkPurpose purpose, string token, PublicLinks links, TrackingStore store, CancellationToken ct, string? url = null)
        => await ReadTokenAsync(purpose, token, links, ct, url) is { } id ? await store.FindSendAsync(id, ct) : null;

    private static async Task<Guid?> ReadTokenAsync(LinkPurpose purpose, string token, PublicLinks links, CancellationToken ct, string? url = null)
    {
        if (token.Length > MaxTokenLength)
        {
            return null;
        }

        var signer = await links.SignerAsync(ct);
        return signer.TryRead(purpose, token, out var id, url) ? id : null;
    }

    // Only absolute http(s) URLs without control characters; the Location is the URL itself (non-ASCII escaped).
    private static string? Target(string url)
    {
        if (url.Any(char.IsControl) || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return null;
        }

        return url.All(char.IsAscii) ? url : uri.AbsoluteUri;
    }

    private static string? Mask(string? email)
    {
        var at = email?.LastIndexOf('@') ?? -1;
        return at <= 0 ? null : $"{email![0]}***{email[at..]}";
    }

    private static void NoStore(HttpContext http) => http.Response.Headers.CacheControl = "no-store, private";

    private static ContentHttpResult Page(HttpContext http, int status, string title, string body)
    {
        var headers = http.Response.Headers;
        NoStore(http);
        headers["X-Robots-Tag"] = "noindex, nofollow";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
        var html =
            $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex, nofollow"><title>{{title}}</title>
            <style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.5rem 1.25rem}</style>
            </head><body><h1>{{title}}</h1>
            {{body}}
            </body></html>
            """;
        return TypedResults.Content(html, "text/html; charset=utf-8", statusCode: status);
    }
}
