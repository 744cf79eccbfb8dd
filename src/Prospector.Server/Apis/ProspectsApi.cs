using System.Text;
using System.Text.Json;
using CsvHelper;
using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Prospects;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>One prospect in a JSON import: an email or a LinkedIn profile URL (or both) identifies it.</summary>
public sealed record ProspectRequest(
    string? Email = null, string? FirstName = null, string? LastName = null, string? Company = null, string? CompanyDomain = null,
    string? TimeZone = null, Dictionary<string, string>? CustomFields = null, string? LinkedinUrl = null, string? Title = null,
    string? Phone = null, string? Country = null, Guid? OwnerId = null);

/// <summary>A JSON import: all prospects valid, or nothing imported.</summary>
public sealed record ImportProspectsRequest(ProspectRequest[] Prospects);

/// <summary>What a JSON import did. <see cref="Ids"/> follows the input order.</summary>
public sealed record UpsertProspectsResponse(int Created, int Updated, IReadOnlyList<Guid> Ids);

/// <summary>A prospect.</summary>
public sealed record ProspectResponse(
    Guid Id, string? Email, string? LinkedinUrl, string? FirstName, string? LastName, string? Title, string? Phone, string? Company,
    string? CompanyDomain, Guid? CompanyId, string? Country, string? TimeZone, Guid? OwnerId, IReadOnlyDictionary<string, string> CustomFields,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    internal static ProspectResponse From(ProspectRow p) => new(
        p.Id, p.Email, p.LinkedinUrl, p.FirstName, p.LastName, p.Title, p.Phone, p.Company, p.CompanyDomain, p.CompanyId, p.Country, p.TimeZone,
        p.OwnerId, JsonSerializer.Deserialize<Dictionary<string, string>>(p.CustomFields) ?? [], p.CreatedAt, p.UpdatedAt);
}

/// <summary>Upserting, reading and exporting prospects. Files are imported through /api/imports.</summary>
public static class ProspectsApi
{
    private const int MaxJsonProspects = 10_000;
    private const int ExportPageSize = 1000;

    /// <summary>Maps /api/prospects.</summary>
    public static RouteGroupBuilder MapProspectsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/prospects").WithTags("Prospects");
        group.MapPost("/", UpsertJsonAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/export", ExportAsync).Produces(StatusCodes.Status200OK, contentType: "text/csv");
        group.MapGet("/{id:guid}", GetAsync);
        return api;
    }

    private static async Task<Results<Ok<UpsertProspectsResponse>, ValidationProblem>> UpsertJsonAsync(
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
                $"prospects[{i}].", p.Email, p.FirstName, p.LastName, p.Company, p.CompanyDomain, p.TimeZone, p.CustomFields,
                p.LinkedinUrl, p.Title, p.Phone, p.Country, p.OwnerId);
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

        try
        {
            var result = await store.UpsertAsync(http.User.GetWorkspaceId(), valid, clock.GetUtcNow(), ct);
            return TypedResults.Ok(new UpsertProspectsResponse(result.Created, result.Updated, result.Ids));
        }
        catch (ProspectStore.UpsertRejectedException rejected)
        {
            return Problems.Validation(rejected.Errors.Select(e => new ValidationError(CamelCase($"prospects[{e.Index}].{e.Field}"), e.Message)));
        }
    }

    private static async Task<Ok<Page<ProspectResponse>>> ListAsync(
        HttpContext http, ProspectStore store, CancellationToken ct, string? email = null, Guid? audienceId = null, Guid? companyId = null,
        Guid? ownerId = null, Guid? after = null, int limit = 100)
    {
        limit = Math.Clamp(limit, 1, 1000);
        var rows = await store.FindAsync(http.User.GetWorkspaceId(), new ProspectStore.ListFilter(email, audienceId, companyId, ownerId), after, limit, ct);
        return TypedResults.Ok(new Page<ProspectResponse>(rows.Select(ProspectResponse.From).ToArray(), rows.Count == limit ? rows[^1].Id : null));
    }

    private static async Task<Results<Ok<ProspectResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, ProspectStore store, CancellationToken ct)
        => await store.GetAsync(http.User.GetWorkspaceId(), id, ct) is { } p ? TypedResults.Ok(ProspectResponse.From(p)) : Problems.NotFound("prospect");

    /// <summary>
    /// Streams the workspace's prospects (or an audience's) as CSV, one database page at a time: the standard columns,
    /// then one column per registered custom field. Cells a spreadsheet would run as formulas get a leading <c>'</c>.
    /// </summary>
    private static async Task<Results<EmptyHttpResult, ProblemHttpResult>> ExportAsync(
        HttpContext http, ProspectStore store, AudienceStore audiences, CancellationToken ct, Guid? audienceId = null)
    {
        var workspaceId = http.User.GetWorkspaceId();
        if (audienceId is { } a && await audiences.GetAsync(workspaceId, a, ct) is null)
        {
            return Problems.NotFound("audience");
        }

        var custom = await store.CustomFieldNamesAsync(workspaceId, ct);
        var header = ProspectFields.Standard.Concat(custom.Where(c => !ProspectFields.Standard.Contains(c))).ToArray();
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = "attachment; filename=\"prospects.csv\"";
        await using var text = new StreamWriter(http.Response.Body, new UTF8Encoding(false), 64 * 1024, leaveOpen: true);
        await using (var csv = CsvWriter.Create(text, new CsvWriterOptions { Separator = ',', Injection = CsvInjection.None, NewLine = "\r\n" }, leaveOpen: true))
        {
            await csv.WriteRecordAsync(header, ct);
            var filter = new ProspectStore.ListFilter(AudienceId: audienceId);
            Guid? after = null;
            var fields = new string[header.Length];
            while (true)
            {
                var page = await store.FindAsync(workspaceId, filter, after, ExportPageSize, ct);
                foreach (var p in page)
                {
                    var values = JsonSerializer.Deserialize<Dictionary<string, string>>(p.CustomFields) ?? [];
                    string?[] standard =
                        [p.Email, p.LinkedinUrl, p.FirstName, p.LastName, p.Title, p.Phone, p.Company, p.CompanyDomain, p.Country, p.TimeZone, p.OwnerId?.ToString()];
                    for (var i = 0; i < header.Length; i++)
                    {
                        var value = i < standard.Length ? standard[i] : values.GetValueOrDefault(header[i]);
                        fields[i] = ProspectImportReader.Escape(value ?? "");
                    }

                    await csv.WriteRecordAsync(fields, ct);
                }

                await csv.FlushAsync(ct);
                if (page.Count < ExportPageSize)
                {
                    break;
                }

                after = page[^1].Id;
            }
        }

        await text.FlushAsync(ct);
        return TypedResults.Empty;
    }

    // Validation speaks the file column names (first_name); the JSON API speaks camelCase (firstName).
    private static string CamelCase(string path) => path
        .Replace("first_name", "firstName", StringComparison.Ordinal).Replace("last_name", "lastName", StringComparison.Ordinal)
        .Replace("company_domain", "companyDomain", StringComparison.Ordinal).Replace("time_zone", "timeZone", StringComparison.Ordinal)
        .Replace("linkedin_url", "linkedinUrl", StringComparison.Ordinal).Replace("owner_id", "ownerId", StringComparison.Ordinal)
        .Replace(".custom", ".customFields", StringComparison.Ordinal);
}
