using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Prospector.Core;

namespace Prospector.Server.Apis;

/// <summary>Builds validation problems whose keys are field paths (<c>smtp.host</c>, <c>steps[2].body</c>, <c>prospects[3].email</c>).</summary>
public static class Problems
{
    /// <summary>A 400 ValidationProblem listing every error by path.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ValidationProblem Validation(IEnumerable<ValidationError> errors, string? detail = null)
        => TypedResults.ValidationProblem(
            errors.GroupBy(e => e.Path, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray(), StringComparer.Ordinal),
            detail: detail ?? "the request has invalid fields; nothing was changed");

    /// <summary>A 409: the resource's state does not allow the request.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Conflict(string detail)
        => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: detail);

    /// <summary>A 404 that says the same for "absent" and "another workspace's".</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotFound(string what)
        => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: $"{what} not found");
}

/// <summary>Turns unreadable request bodies (bad JSON, unknown or missing fields, too large) into ProblemDetails naming the field.</summary>
public sealed partial class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    /// <inheritdoc />
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }

        httpContext.Response.StatusCode = bad.StatusCode;
        var errors = bad.InnerException is JsonException json ? Describe(json) : null;
        var details = new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = bad.StatusCode,
            Title = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Payload Too Large" : "Bad Request",
            Detail = errors is null
                ? bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "the request body is too large" : "the request could not be read: " + bad.Message
                : "the request body has invalid fields; nothing was changed",
        };
        if (errors is not null)
        {
            details.Extensions["errors"] = errors;
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = details });
    }

    private static Dictionary<string, string[]> Describe(JsonException json)
    {
        var path = (json.Path ?? "$").TrimStart('$').TrimStart('.');
        var message = json.Message;
        var unknown = UnmappedPattern().Match(message);
        if (unknown.Success)
        {
            return new() { [Join(path, unknown.Groups[1].Value)] = ["unknown field"] };
        }

        var missing = MissingPattern().Match(message);
        if (missing.Success)
        {
            return missing.Groups[1].Value.Split(", ").Select(n => n.Trim('\'')).ToDictionary(n => Join(path, n), _ => new[] { "is required" });
        }

        return new() { [path.Length == 0 ? "body" : path] = [message.Split(" Path:", 2)[0].Split(". ", 2)[0].Replace("System.", "", StringComparison.Ordinal)] };
    }

    // When the bad member is the last one read, Path already ends with it.
    private static string Join(string path, string name)
        => path.Length == 0 ? name : path == name || path.EndsWith("." + name, StringComparison.Ordinal) ? path : $"{path}.{name}";

    [GeneratedRegex("The JSON property '([^']+)' could not be mapped")]
    private static partial Regex UnmappedPattern();

    [GeneratedRegex("missing required properties including: (.+?)\\.?$", RegexOptions.Multiline)]
    private static partial Regex MissingPattern();
}
