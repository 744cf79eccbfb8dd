using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Prospects;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>A suppression to add: exactly one of <see cref="Email"/> (one address) or <see cref="Domain"/> (every address at it).</summary>
public sealed record AddSuppressionRequest(string? Email = null, string? Domain = null);

/// <summary>
/// A suppression list entry. Only the SHA-256 <see cref="Hash"/> is stored (of the normalised address, or of '@' and the
/// domain), never the clear text. <see cref="Reason"/>: manual, unsubscribe_link, unsubscribe (reply), hard_bounce.
/// </summary>
public sealed record SuppressionResponse(string Hash, string Kind, string Reason, DateTimeOffset CreatedAt)
{
    internal static SuppressionResponse From(SuppressionRow r) => new(r.AddressHash, r.Kind, r.Reason, r.CreatedAt);
}

/// <summary>Whether an address (by its own entry or its domain's) or a domain is suppressed, with the entries that say so.</summary>
public sealed record SuppressionCheckResponse(bool Suppressed, IReadOnlyList<SuppressionResponse> Entries);

/// <summary>A page of entries in hash order; pass <see cref="NextCursor"/> as <c>after</c> for the next page.</summary>
public sealed record SuppressionPage(IReadOnlyList<SuppressionResponse> Items, string? NextCursor);

/// <summary>
/// The workspace suppression list. Reads for every role; adding and removing need sdr or admin (the group's method rule).
/// Removing an entry that records the recipient's own objection (unsubscribe_link, unsubscribe) or a hard bounce needs an
/// admin key: an SDR gets 409. An objection to direct marketing is absolute (GDPR art. 21(3)); lifting it is a deliberate,
/// accountable act (e.g. the recipient asked to be contacted again), not a routine list edit.
/// </summary>
public static partial class SuppressionsApi
{
    /// <summary>Maps /api/suppressions.</summary>
    public static RouteGroupBuilder MapSuppressionsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/suppressions").WithTags("Suppressions");
        group.MapPost("/", AddAsync);
        group.MapGet("/", GetAsync);
        group.MapDelete("/", RemoveAsync);
        return api;
    }

    private static async Task<Results<Created<SuppressionResponse>, Ok<SuppressionResponse>, ValidationProblem>> AddAsync(
        AddSuppressionRequest request, HttpContext http, SuppressionStore store, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<ValidationError>();
        var key = Key(request.Email, request.Domain, errors);
        if (key is not { } k)
        {
            return Problems.Validation(errors);
        }

        var (row, created) = await store.AddKeyAsync(http.User.GetWorkspaceId(), k.Hash, k.Kind, SuppressionStore.ManualReason, clock.GetUtcNow(), ct);
        var response = SuppressionResponse.From(row);
        // No Location: the only address of an entry is its clear email or domain, which belongs in no URL we hand out.
        return created ? TypedResults.Created((string?)null, response) : TypedResults.Ok(response);
    }

    // With email or domain: is it suppressed (an address also by its domain's entry)? Without: the list, keyset paged.
    private static async Task<Results<Ok<SuppressionCheckResponse>, Ok<SuppressionPage>, ValidationProblem>> GetAsync(
        HttpContext http, SuppressionStore store, CancellationToken ct, string? email = null, string? domain = null, string? after = null, int limit = 100)
    {
        var errors = new List<ValidationError>();
        var workspaceId = http.User.GetWorkspaceId();
        if (email is null && domain is null)
        {
            if (after is not null && !HashPattern().IsMatch(after))
            {
                return Problems.Validation([new("after", "must be the nextCursor of a previous page (64 hex characters)")]);
            }

            limit = Math.Clamp(limit, 1, 1000);
            var rows = await store.ListAsync(workspaceId, after, limit, ct);
            return TypedResults.Ok(new SuppressionPage(rows.Select(SuppressionResponse.From).ToArray(), rows.Count == limit ? rows[^1].AddressHash : null));
        }

        if (Key(email, domain, errors) is not { } k)
        {
            return Problems.Validation(errors);
        }

        string[] hashes = k.Kind == SuppressionKeys.AddressKind ? [k.Hash, SuppressionKeys.ForDomainOf(email!)] : [k.Hash];
        var found = await store.FindAsync(workspaceId, hashes, ct);
        return TypedResults.Ok(new SuppressionCheckResponse(found.Count > 0, found.Select(SuppressionResponse.From).ToArray()));
    }

    private static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> RemoveAsync(
        HttpContext http, SuppressionStore store, CancellationToken ct, string? email = null, string? domain = null)
    {
        var errors = new List<ValidationError>();
        if (Key(email, domain, errors) is not { } k)
        {
            return Problems.Validation(errors);
        }

        return await store.RemoveAsync(http.User.GetWorkspaceId(), k.Hash, http.User.GetRole() == ApiRoles.Admin, ct) switch
        {
            SuppressionRemoval.Removed => TypedResults.NoContent(),
            SuppressionRemoval.NotFound => Problems.NotFound("suppression"),
            _ => Problems.Conflict("this entry records the recipient's objection or a hard bounce; only an admin key may remove it"),
        };
    }

    // Exactly one of email or domain, valid; the key (hash and kind) of the entry it names.
    private static (string Hash, string Kind)? Key(string? email, string? domain, List<ValidationError> errors)
    {
        var hasEmail = !string.IsNullOrWhiteSpace(email);
        var hasDomain = !string.IsNullOrWhiteSpace(domain);
        if (hasEmail && hasDomain)
        {
            errors.Add(new("email", "give either email or domain, not both"));
            errors.Add(new("domain", "give either email or domain, not both"));
            return null;
        }

        if (!hasEmail && !hasDomain)
        {
            errors.Add(new(email is null && domain is not null ? "domain" : "email", "give an email address or a domain"));
            return null;
        }

        if (hasEmail)
        {
            if (!EmailAddress.IsValid(email!.Trim()))
            {
                errors.Add(new("email", "is not a valid email address"));
                return null;
            }

            return (SuppressionKeys.ForAddress(email), SuppressionKeys.AddressKind);
        }

        if (!SuppressionKeys.IsValidDomain(domain))
        {
            errors.Add(new("domain", "is not a valid domain (e.g. acme.com, no '@')"));
            return null;
        }

        return (SuppressionKeys.ForDomain(domain!), SuppressionKeys.DomainKind);
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex HashPattern();
}
