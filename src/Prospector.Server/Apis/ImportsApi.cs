using System.Text.Json;
using Hangfire;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Prospector.Core;
using Prospector.Core.Prospects;
using Prospector.Server.Hosting;
using Prospector.Server.Jobs;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>An import and its progress.</summary>
public sealed record ImportResponse(
    Guid Id, string State, string Format, Guid? AudienceId, Guid? OwnerId, long Bytes, int? RowsTotal, int RowsDone, int RowsCreated,
    int RowsUpdated, int RowsFailed, string? Error, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt)
{
    internal static ImportResponse From(ImportRow i) => new(
        i.Id, i.State, i.Format, i.AudienceId, i.OwnerId, i.Bytes, i.RowsTotal, i.RowsDone, i.RowsCreated, i.RowsUpdated, i.RowsFailed, i.Error,
        i.CreatedAt, i.StartedAt, i.FinishedAt);
}

/// <summary>A row that was not imported. Rows are numbered as in the file (CSV: the header is row 1).</summary>
public sealed record ImportRowError(int Row, string Field, string Message);

/// <summary>A page of row errors; pass <see cref="NextCursor"/> as <c>after</c> for the next page.</summary>
public sealed record ImportErrorsPage(IReadOnlyList<ImportRowError> Items, int? NextCursor);

/// <summary>Streamed prospect imports (CSV, JSON array, NDJSON) run as Hangfire jobs.</summary>
public static class ImportsApi
{
    private const int ChunkBytes = 1024 * 1024;
    private static readonly string[] Options = ["audienceId", "audienceName", "ownerId", "delimiter"];

    /// <summary>Maps /api/imports.</summary>
    public static RouteGroupBuilder MapImportsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/imports").WithTags("Imports");
        group.MapPost("/", CreateAsync)
            .Accepts<string>("text/csv", "application/json", "application/x-ndjson")
            .WithMetadata(new BodySizeLimit(((IEndpointRouteBuilder)api).ServiceProvider.GetRequiredService<IOptions<ApiOptions>>().Value.MaxImportBodyBytes))
            .WithDescription("The raw body is the file. Query: audienceId or audienceName, ownerId, delimiter, map.<field>=<header>.");
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapGet("/{id:guid}/errors", ErrorsAsync);
        return api;
    }

    private static async Task<Results<Accepted<ImportResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpContext http, ImportStore imports, AudienceStore audiences, ProspectStore prospects, IBackgroundJobClient jobs,
        IOptions<ApiOptions> apiOptions, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        var limit = apiOptions.Value.MaxImportBodyBytes;
        if (http.Request.ContentLength > limit)
        {
            return TooLarge(limit);
        }

        var mediaType = http.Request.ContentType?.Split(';', 2)[0].Trim().ToLowerInvariant();
        ImportFormat? format = mediaType switch
        {
            "text/csv" => ImportFormat.Csv,
            "application/json" => ImportFormat.Json,
            "application/x-ndjson" or "application/ndjson" => ImportFormat.Ndjson,
            _ => null,
        };
        if (format is null)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported Media Type",
                detail: "send text/csv, application/json (an array of prospects) or application/x-ndjson");
        }

        var (options, audienceId, audienceName, ownerId, errors) = ReadQuery(http.Request.Query);
        if (audienceId is { } a && await audiences.GetAsync(workspaceId, a, ct) is null)
        {
            errors.Add(new("audienceId", "not found"));
        }

        if (ownerId is { } o && !await prospects.IsActiveOwnerAsync(workspaceId, o, ct))
        {
            errors.Add(new("ownerId", "is not an active owner of this workspace"));
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        // This route alone may exceed the server-wide body limit; it counts bytes itself as they stream in.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        var now = clock.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        await imports.CreateAsync(new ImportRow
        {
            Id = id, WorkspaceId = workspaceId, AudienceId = audienceId, OwnerId = ownerId, Format = format.Value.ToString().ToLowerInvariant(),
            Options = JsonSerializer.Serialize(options), CreatedAt = now,
        }, ct);

        long total;
        try
        {
            total = await CopyBodyAsync(http.Request.Body, imports, id, limit, ct);
        }
        catch
        {
            await imports.DiscardAsync(id, CancellationToken.None);
            throw;
        }

        if (total > limit)
        {
            await imports.DiscardAsync(id, CancellationToken.None);
            return TooLarge(limit);
        }

        if (total == 0)
        {
            await imports.DiscardAsync(id, CancellationToken.None);
            return Problems.Validation([new ValidationError("body", "is empty; send the file as the request body")]);
        }

        var row = await imports.QueueAsync(workspaceId, id, total, audienceName, clock.GetUtcNow(), ct);
        jobs.Enqueue<ImportJob>(j => j.RunAsync(id, CancellationToken.None));
        return TypedResults.Accepted($"/api/imports/{id}", ImportResponse.From(row));
    }

    // Streams the body into ~1 MB chunk rows; stops counting past the limit (the caller discards the import).
    private static async Task<long> CopyBodyAsync(Stream body, ImportStore imports, Guid id, long limit, CancellationToken ct)
    {
        var buffer = new byte[ChunkBytes];
        long total = 0;
        var seq = 0;
        while (true)
        {
            var filled = 0;
            int read;
            while (filled < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(filled), ct)) > 0)
            {
                filled += read;
            }

            if (filled == 0)
            {
                return total;
            }

            total += filled;
            if (total > limit)
            {
                return total;
            }

            await imports.AppendChunkAsync(id, seq++, filled == buffer.Length ? buffer : buffer[..filled], ct);
            if (filled < buffer.Length)
            {
                return total;
            }
        }
    }

    private static (ImportOptionsDocument Options, Guid? AudienceId, string? AudienceName, Guid? OwnerId, List<ValidationError> Errors) ReadQuery(IQueryCollection query)
    {
        var errors = new List<ValidationError>();
        Guid? audienceId = null, ownerId = null;
        string? audienceName = null;
        char? delimiter = null;
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, values) in query)
        {
            var value = values.ToString();
            if (key.StartsWith("map.", StringComparison.Ordinal))
            {
                var field = ProspectFields.Resolve(key[4..]);
                if (field is null || key[4..].Length == 0)
                {
                    errors.Add(new(key, $"unknown field; map one of {string.Join(", ", ProspectFields.Standard)}"));
                }
                else if (string.IsNullOrWhiteSpace(value))
                {
                    errors.Add(new(key, "give the column header"));
                }
                else
                {
                    map[field] = value.Trim();
                }

                continue;
            }

            switch (key)
            {
                case "audienceId":
                    if (Guid.TryParse(value, out var a))
                    {
                        audienceId = a;
                    }
                    else
                    {
                        errors.Add(new(key, "is not an id"));
                    }

                    break;
                case "audienceName":
                    audienceName = value.Trim();
                    if (audienceName.Length is 0 or > 200 || audienceName.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
                    {
                        errors.Add(new(key, "1 to 200 characters on one line"));
                    }

                    break;
                case "ownerId":
                    if (Guid.TryParse(value, out var o))
                    {
                        ownerId = o;
                    }
                    else
                    {
                        errors.Add(new(key, "is not an id"));
                    }

                    break;
                case "delimiter":
                    delimiter = value switch
                    {
                        "," or ";" or "|" => value[0],
                        "\t" or "tab" or "\\t" => '\t',
                        _ => null,
                    };
                    if (delimiter is null)
                    {
                        errors.Add(new(key, "one of , ; | tab"));
                    }

                    break;
                default:
                    errors.Add(new(key, $"unknown option; use {string.Join(", ", Options)} or map.<field>"));
                    break;
            }
        }

        if (audienceId is not null && audienceName is not null)
        {
            errors.Add(new("audienceName", "give audienceId or audienceName, not both"));
        }

        return (new ImportOptionsDocument(delimiter, map), audienceId, audienceName, ownerId, errors);
    }

    private static ProblemHttpResult TooLarge(long limit) => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload Too Large", detail: $"an import is at most {limit} bytes");

    private static async Task<Ok<Page<ImportResponse>>> ListAsync(HttpContext http, ImportStore imports, CancellationToken ct, Guid? after = null, int limit = 100)
    {
        limit = Math.Clamp(limit, 1, 1000);
        var rows = await imports.ListAsync(http.User.GetWorkspaceId(), after, limit, ct);
        return TypedResults.Ok(new Page<ImportResponse>(rows.Select(ImportResponse.From).ToArray(), rows.Count == limit ? rows[^1].Id : null));
    }

    private static async Task<Results<Ok<ImportResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, ImportStore imports, CancellationToken ct)
        => await imports.GetAsync(http.User.GetWorkspaceId(), id, ct) is { } i ? TypedResults.Ok(ImportResponse.From(i)) : Problems.NotFound("import");

    private static async Task<Results<Ok<ImportErrorsPage>, ProblemHttpResult>> ErrorsAsync(
        Guid id, HttpContext http, ImportStore imports, CancellationToken ct, int after = 0, int limit = 100)
    {
        if (await imports.GetAsync(http.User.GetWorkspaceId(), id, ct) is null)
        {
            return Problems.NotFound("import");
        }

        // A page ends on a row boundary, so that the row cursor never skips the rest of a row's errors.
        limit = Math.Clamp(limit, 100, 1000);
        var rows = await imports.ErrorsAsync(id, after, limit, ct);
        var items = rows.Select(e => new ImportRowError(e.RowNumber, e.Field, e.Message)).ToList();
        int? next = null;
        if (rows.Count == limit)
        {
            var last = items[^1].Row;
            if (items.Any(e => e.Row != last))
            {
                items.RemoveAll(e => e.Row == last);
            }

            next = items[^1].Row;
        }

        return TypedResults.Ok(new ImportErrorsPage(items, next));
    }
}
