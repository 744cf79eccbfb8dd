using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Prospects;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>One prospect in a JSON import.</summary>
public sealed record ProspectRequest(
    string Email, string? FirstName = null, string? LastName = null, string? Company = null, string? CompanyDomain = null, string? TimeZone = null,
    Dictionary<string, string>? CustomFields = null);

/// <summary>A JSON import: all prospects valid, or nothing imported.</summary>
public sealed record ImportProspectsRequest(ProspectRequest[] Prospects);

/// <summary>A CSV row that was not imported.</summary>
public sealed record RowError(int Row, string Field, string Message);

/// <summary>What an import did. <see cref="Ids"/> follows the input order of the imported rows.</summary>
public sealed record ImportResponse(int Created, int Updated, IReadOnlyList<Guid> Ids, IReadOnlyList<RowError> Errors);

/// <summary>A prospect.</summary>
public sealed record ProspectResponse(
    Guid Id, string Email, string? FirstName, string? LastName, string? Company, string? CompanyDomain, string? TimeZone,
    IReadOnlyDictionary<string, string> CustomFields, DateTimeOffset CreatedAt)
{
    internal static ProspectResponse From(ProspectRow p) => new(
        p.Id, p.Email, p.FirstName, p.LastName, p.Company, p.CompanyDomain, p.TimeZone,
        System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(p.CustomFields) ?? [], p.CreatedAt);
}

/// <summary>Importing and reading prospects.</summary>
public static class ProspectsApi
{
    private const int MaxJsonProspects = 10_000;

    /// <summary>Maps /api/prospects.</summary>
    public static RouteGroupBuilder MapProspectsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/prospects").WithTags("Prospects");
        group.MapPost("/", ImportJsonAsync);
        group.MapPost("/import", ImportCsvAsync).Accepts<string>("text/csv");
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        return api;
    }

    private static async Task<Results<Ok<ImportResponse>, ValidationProblem>> ImportJsonAsync(
        ImportProspectsRequest request, HttpContext http, ProspectStore store, TimeProvider clock, CancellationToken ct)
    {
        if (request.Prospects.Length is 0 or > MaxJsonProspects)
        {
            return Problems.Validation([new ValidationError("prospects", $"give 1 to {MaxJsonProspects} prospects")]);
        }

        var errors = new List<ValidationError>();
        var valid = new List<ProspectInput>();
        for (var i = 0; i < request.Prospects.Length; i++)
        {
            var p = request.Prospects[i];
            var (prospect, problems) = ProspectValidation.Validate(
                $"prospects[{i}].", p.Email, p.FirstName, p.LastName, p.Company, p.CompanyDomain, p.TimeZone, p.CustomFields);
            errors.AddRange(problems.Select(e => e with { Path = CamelCase(e.Path) }));
            if (prospect is not null)
            {
                valid.Add(prospect);
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var result = await store.UpsertAsync(http.User.GetWorkspaceId(), valid, clock.GetUtcNow(), ct);
        return TypedResults.Ok(new ImportResponse(result.Created, result.Updated, result.Ids, []));
    }

    private static async Task<Results<Ok<ImportResponse>, ValidationProblem>> ImportCsvAsync(
        HttpContext http, ProspectStore store, TimeProvider clock, CancellationToken ct)
    {
        using var reader = new StreamReader(http.Request.Body, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
        // The reader is synchronous over the buffered text; Kestrel's body size limit bounds the buffer.
        var text = await reader.ReadToEndAsync(ct);
        var (prospects, rowErrors) = CsvProspectReader.Read(new StringReader(text));
        var errors = rowErrors.Select(e => new RowError(e.Row, e.Field, e.Message)).ToArray();
        if (prospects.Count == 0)
        {
            return Problems.Validation(errors.Select(e => new ValidationError($"row {e.Row}: {e.Field}", e.Message)), "no row could be imported");
        }

        var result = await store.UpsertAsync(http.User.GetWorkspaceId(), prospects.Select(p => p.Prospect).ToArray(), clock.GetUtcNow(), ct);
        return TypedResults.Ok(new ImportResponse(result.Created, result.Updated, result.Ids, errors));
    }

    private static async Task<Ok<Page<ProspectResponse>>> ListAsync(
        HttpContext http, ProspectStore store, CancellationToken ct, string? email = null, Guid? after = null, int limit = 100)
    {
        limit = Math.Clamp(limit, 1, 1000);
        var rows = await store.ListAsync(http.User.GetWorkspaceId(), email, after, limit, ct);
        return TypedResults.Ok(new Page<ProspectResponse>(rows.Select(ProspectResponse.From).ToArray(), rows.Count == limit ? rows[^1].Id : null));
    }

    private static async Task<Results<Ok<ProspectResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, ProspectStore store, CancellationToken ct)
        => await store.GetAsync(http.User.GetWorkspaceId(), id, ct) is { } p ? TypedResults.Ok(ProspectResponse.From(p)) : Problems.NotFound("prospect");

    // Validation speaks the CSV column names (first_name); the JSON API speaks camelCase (firstName).
    private static string CamelCase(string path) => path
        .Replace("first_name", "firstName", StringComparison.Ordinal).Replace("last_name", "lastName", StringComparison.Ordinal)
        .Replace("company_domain", "companyDomain", StringComparison.Ordinal).Replace("time_zone", "timeZone", StringComparison.Ordinal)
        .Replace(".custom", ".customFields", StringComparison.Ordinal);
}
