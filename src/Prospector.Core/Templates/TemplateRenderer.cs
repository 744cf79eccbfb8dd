using System.Collections.Concurrent;
using Fluid;

namespace Prospector.Core.Templates;

/// <summary>
/// The values a template can use: prospect fields, custom fields under <c>custom.*</c>, the company, the owner (rep)
/// and the sender mailbox. <see cref="ProspectId"/> seeds spintax so that re-rendering gives the same text.
/// </summary>
public sealed record TemplateModel(
    string? Email,
    string? FirstName,
    string? LastName,
    string? Company,
    string? CompanyDomain,
    IReadOnlyDictionary<string, string> Custom,
    string SenderName)
{
    /// <summary>The prospect's id (spintax seed together with the step id).</summary>
    public Guid ProspectId { get; init; }

    /// <summary>Job title.</summary>
    public string? Title { get; init; }

    /// <summary>LinkedIn profile URL.</summary>
    public string? LinkedInUrl { get; init; }

    /// <summary>Phone number.</summary>
    public string? Phone { get; init; }

    /// <summary>ISO 3166 country code.</summary>
    public string? Country { get; init; }

    /// <summary>The owning rep's name.</summary>
    public string? OwnerName { get; init; }

    /// <summary>The owning rep's email.</summary>
    public string? OwnerEmail { get; init; }

    /// <summary>The sending mailbox's address.</summary>
    public string? SenderEmail { get; init; }

    /// <summary>The sending mailbox's signature.</summary>
    public string? Signature { get; init; }
}

/// <summary>How rendered values are written: as plain text, or HTML-encoded for an HTML body.</summary>
public enum TemplateFormat
{
    /// <summary>Plain text (subjects, text bodies, task instructions).</summary>
    Text,

    /// <summary>HTML: every value that comes from data is HTML-encoded; the template's own markup is kept.</summary>
    Html,
}

/// <summary>Rendering options. <see cref="SpinKey"/> (e.g. "prospect-id:step-id") makes spintax choices deterministic.</summary>
public sealed record RenderOptions(TemplateFormat Format = TemplateFormat.Text, string? SpinKey = null);

/// <summary>
/// Renders Liquid templates (Fluid) in a sandbox: bounded steps, recursion and output, no file system, no includes.
/// Variables: first_name, last_name, email, company, company_domain, custom.&lt;field&gt;, sender_name.
/// </summary>
public static class TemplateRenderer
{
    private const int MaxCachedTemplates = 2_000;
    private const int MaxOutputLength = 200_000;

    private static readonly FluidParser Parser = new();
    private static readonly ConcurrentDictionary<string, IFluidTemplate> Cache = new(StringComparer.Ordinal);
    private static readonly TemplateOptions Options = CreateOptions();

    /// <summary>True when <paramref name="source"/> is valid Liquid; otherwise the parser's message.</summary>
    public static bool TryParse(string source, out string? error)
    {
        if (Parser.TryParse(source, out _, out var message))
        {
            error = null;
            return true;
        }

        error = message;
        return false;
    }

    /// <summary>Renders <paramref name="source"/> against <paramref name="model"/>. Throws <see cref="TemplateException"/> when it cannot.</summary>
    public static string Render(string source, TemplateModel model, RenderOptions? options = null)
    {
        var template = Cache.TryGetValue(source, out var cached) ? cached : ParseAndCache(source);
        var context = new TemplateContext(Options);
        context.SetValue("first_name", model.FirstName ?? string.Empty);
        context.SetValue("last_name", model.LastName ?? string.Empty);
        context.SetValue("email", model.Email ?? string.Empty);
        context.SetValue("company", model.Company ?? string.Empty);
        context.SetValue("company_domain", model.CompanyDomain ?? string.Empty);
        context.SetValue("sender_name", model.SenderName);
        context.SetValue("custom", model.Custom.ToDictionary(kv => kv.Key, kv => (object)kv.Value, StringComparer.Ordinal));

        string output;
        try
        {
            output = template.Render(context);
        }
        catch (InvalidOperationException ex)
        {
            // Fluid signals exhausted sandbox limits (MaxSteps, MaxRecursion) this way.
            throw new TemplateException($"template could not be rendered: {ex.Message}", ex);
        }

        return output.Length <= MaxOutputLength ? output : throw new TemplateException($"rendered text is longer than {MaxOutputLength} characters");
    }

    private static IFluidTemplate ParseAndCache(string source)
    {
        if (!Parser.TryParse(source, out var template, out var error))
        {
            throw new TemplateException($"template error: {error}");
        }

        if (Cache.Count >= MaxCachedTemplates)
        {
            Cache.Clear();
        }

        Cache[source] = template;
        return template;
    }

    private static TemplateOptions CreateOptions()
    {
        var options = new TemplateOptions
        {
            MaxSteps = 10_000,
            MaxRecursion = 10,
        };
        options.MemberAccessStrategy.IgnoreCasing = false;
        return options;
    }
}

/// <summary>A template that cannot be parsed or rendered within the sandbox limits.</summary>
public sealed class TemplateException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TemplateException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public TemplateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TemplateException()
    {
    }
}
