using Microsoft.OpenApi;
using Prospector.Server.Security;
using Scalar.AspNetCore;

namespace Prospector.Server.Hosting;

/// <summary>
/// The OpenAPI document (<c>/openapi/v1.json</c>) and the Scalar reference page (<c>/docs</c>), both served by this process
/// with no key: they describe the API and hold no data. The page loads Scalar's script from this server (the copy
/// bundled in Scalar.AspNetCore), with the CDN fonts, telemetry and request proxy turned off.
/// </summary>
public static class ApiDocs
{
    private const string Bearer = "bearer";
    private const string HeaderKey = "apiKey";

    /// <summary>Registers the document generator.</summary>
    public static IServiceCollection AddProspectorApiDocs(this IServiceCollection services)
        => services.AddOpenApi("v1", o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo { Title = "Prospector API", Version = "v1", Description = "Every /api route takes a workspace API key." };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http, Scheme = "bearer", Description = $"Authorization: Bearer {ApiKeys.Prefix}…",
                };
                document.Components.SecuritySchemes[HeaderKey] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "X-Api-Key", Description = "The same key in the X-Api-Key header.",
                };
                return Task.CompletedTask;
            });
            o.AddOperationTransformer((operation, context, _) =>
            {
                if (context.Description.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true)
                {
                    var document = context.Document;
                    operation.Security =
                    [
                        new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, document)] = [] },
                        new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(HeaderKey, document)] = [] },
                    ];
                }

                return Task.CompletedTask;
            });
        });

    /// <summary>Maps the document and the reference page, both anonymous.</summary>
    public static WebApplication MapProspectorApiDocs(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference("/docs", o =>
        {
            o.WithTitle("Prospector API")
                .WithOpenApiRoutePattern("/openapi/{documentName}.json")
                .DisableDefaultFonts()
                .DisableTelemetry();
            o.ProxyUrl = null;
        }).AllowAnonymous();
        return app;
    }
}
