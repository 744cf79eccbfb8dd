using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Prospector.Server.Hosting;

namespace Prospector.Server.Security;

/// <summary>A route's own body size limit (e.g. file imports), read by <see cref="RequestSizeLimitMiddleware"/>.</summary>
public sealed class BodySizeLimit(long maxBytes) : Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata
{
    /// <inheritdoc />
    public long? MaxRequestBodySize => maxBytes;
}

/// <summary>
/// Refuses bodies over the route's <see cref="BodySizeLimit"/>, else <see cref="ApiOptions.MaxRequestBodyBytes"/>, with a 413 ProblemDetails before anything reads them.
/// A declared Content-Length is checked here; bodies of unknown length are cut by the server's own limit, which is set
/// to the same value (Kestrel reports it as a 413 through <c>BadRequestExceptionHandler</c>).
/// </summary>
public sealed class RequestSizeLimitMiddleware(RequestDelegate next, IOptions<ApiOptions> options, IProblemDetailsService problems)
{
    /// <summary>Runs the check.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        // Runs after routing, so a route that declares its own limit (imports) is known here.
        var limit = context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata>()?.MaxRequestBodySize
            ?? options.Value.MaxRequestBodyBytes;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        if (context.Request.ContentLength > limit)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            context.Response.Headers.Connection = "close";
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = StatusCodes.Status413PayloadTooLarge, Title = "Payload Too Large", Detail = $"the request body is larger than {limit} bytes" },
            });
            return;
        }

        await next(context);
    }
}
