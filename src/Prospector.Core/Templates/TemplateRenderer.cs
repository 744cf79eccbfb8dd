using System.Collections.Concurrent;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Fluid;
using Fluid.Values;

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

    /// <summary>
    /// JSON (webhook payloads): values are escaped for a JSON string (write <c>"{{ first_name }}"</c> in quotes);
    /// no spintax, since JSON's own braces and bars are not options.
    /// </summary>
    Json,
}

/// <summary>Rendering options. <see cref="SpinKey"/> (e.g. "prospect-id:step-id") makes spintax choices deterministic.</summary>
public sealed record RenderOptions(TemplateFormat Format = TemplateFormat.Text, string? SpinKey = null);

/// <summary>
/// Renders Liquid templates (Fluid) in a sandbox: bounded steps, recursion, source and output size, no file system,
/// no includes. Spintax (<see cref="Spintax"/>) is resolved on the source first. Variables: see
/// <see cref="TemplateVariables.Known"/> — flat prospect fields (<c>first_name</c>, <c>company</c>, …),
/// <c>sender_name</c>, the objects <c>prospect</c>, <c>company</c> (<c>{{ company }}</c> alone is its name),
/// <c>owner</c>, <c>sender</c>, and <c>custom.&lt;field&gt;</c>. Absent values are empty, so <c>default</c> applies.
/// </summary>
public static class TemplateRenderer
{
    /// <summary>Longest template source accepted.</summary>
    public const int MaxSourceLength = 100_000;

    /// <summary>Longest rendered text (and longest string a filter or capture may build).</summary>
    public const int MaxOutputLength = 200_000;

    /// <summary>Most nested blocks (<c>if</c>, <c>for</c>, …) in one template.</summary>
    public const int MaxNesting = 50;

    /// <summary>Longest single tag (<c>{{ … }}</c> or <c>{% … %}</c>).</summary>
    public const int MaxTagLength = 1_000;

    private const int MaxCachedTemplates = 2_000;

    private static readonly FluidParser Parser = new();
    private static readonly ConcurrentDictionary<string, IFluidTemplate> Cache = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Spintax> SpinCache = new(StringComparer.Ordinal);
    private static readonly TemplateOptions Options = CreateOptions();
    private static readonly RenderOptions DefaultRenderOptions = new();
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);
    private static readonly JavaScriptEncoder Json = JavaScriptEncoder.Create(UnicodeRanges.All);

    /// <summary>True when <paramref name="source"/> is a valid text or HTML template (spintax and Liquid); otherwise the message.</summary>
    public static bool TryParse(string source, out string? error) => TryParse(source, TemplateFormat.Text, out error);

    /// <summary>True when <paramref name="source"/> is valid for <paramref name="format"/>; otherwise the message.</summary>
    public static bool TryParse(string source, TemplateFormat format, out string? error)
    {
        ArgumentNullException.ThrowIfNull(source);
        error = Check(source, format, out _);
        return error is null;
    }

    /// <summary>
    /// The variables <paramref name="source"/> reads (in every spintax option), with whether each read has a
    /// <c>default</c> filter. Locals made by assign, capture and for are left out. Throws <see cref="TemplateException"/>
    /// when the template does not parse.
    /// </summary>
    public static IReadOnlyList<TemplateVariable> Variables(string source, TemplateFormat format = TemplateFormat.Text)
    {
        ArgumentNullException.ThrowIfNull(source);
        var error = Check(source, format, out var template);
        return error is null ? TemplateVariables.Collect(template!) : throw new TemplateException($"template error: {error}");
    }

    /// <summary>Renders <paramref name="source"/> against <paramref name="model"/>. Throws <see cref="TemplateException"/> when it cannot.</summary>
    public static string Render(string source, TemplateModel model, RenderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(model);
        options ??= DefaultRenderOptions;
        if (source.Length > MaxSourceLength)
        {
            throw new TemplateException($"template is longer than {MaxSourceLength} characters");
        }

        var liquid = source;
        if (options.Format != TemplateFormat.Json)
        {
            var spintax = SpinCache.TryGetValue(source, out var cachedSpin) ? cachedSpin : ParseSpintax(source);
            if (spintax.HasGroups)
            {
                liquid = spintax.Resolve(options.SpinKey);
            }
        }

        var template = Cache.TryGetValue(liquid, out var cached) ? cached : ParseAndCache(liquid);
        var context = CreateContext(model);
        TextEncoder encoder = options.Format switch
        {
            TemplateFormat.Html => Html,
            TemplateFormat.Json => Json,
            _ => NullEncoder.Default,
        };

        using var writer = new BoundedWriter(MaxOutputLength);
        try
        {
            var rendering = template.RenderAsync(writer, encoder, context);
            if (!rendering.IsCompletedSuccessfully)
            {
                // Nothing in our model is asynchronous; this only surfaces exceptions.
                rendering.AsTask().GetAwaiter().GetResult();
            }
        }
        catch (InvalidOperationException ex)
        {
            // Fluid signals exhausted sandbox limits (MaxSteps, MaxRecursion) this way.
            throw new TemplateException($"template could not be rendered: {ex.Message}", ex);
        }

        return writer.ToString();
    }

    private static string? Check(string source, TemplateFormat format, out IFluidTemplate? template)
    {
        template = null;
        if (source.Length > MaxSourceLength)
        {
            return $"template is longer than {MaxSourceLength} characters";
        }

        var liquid = source;
        if (format != TemplateFormat.Json)
        {
            if (!Spintax.TryParse(source, out var spintax, out var spinError))
            {
                return spinError;
            }

            liquid = spintax!.Flatten();
        }

        return StructureError(liquid) ?? (Parser.TryParse(liquid, out template, out var error) ? null : error ?? "invalid template");
    }

    // Fluid's parser and renderer recurse once per nested block and per filter or operator in a tag, so deep
    // nesting or a huge tag would overflow the stack (which kills the process): refuse them before parsing.
    private static string? StructureError(string liquid)
    {
        var depth = 0;
        var index = 0;
        while ((index = liquid.IndexOf('{', index)) >= 0 && index + 1 < liquid.Length)
        {
            var opener = liquid[index + 1];
            if (opener is not ('{' or '%'))
            {
                index++;
                continue;
            }

            var end = liquid.IndexOf(opener == '{' ? "}}" : "%}", index + 2, StringComparison.Ordinal);
            end = end < 0 ? liquid.Length : end + 2;
            if (end - index > MaxTagLength)
            {
                return $"a tag is longer than {MaxTagLength} characters at position {index + 1}";
            }

            if (opener == '%')
            {
                var tag = liquid.AsSpan(index + 2, end - index - 2).TrimStart("- \t\r\n");
                var length = 0;
                while (length < tag.Length && char.IsAsciiLetter(tag[length]))
                {
                    length++;
                }

                var name = tag[..length];
                if (name is "include" or "render" or "layout" or "section")
                {
                    return $"'{name}' is not allowed: templates cannot load other files";
                }

                if (name.StartsWith("end", StringComparison.Ordinal))
                {
                    depth--;
                }
                else if (name is "if" or "unless" or "for" or "case" or "capture" or "tablerow" or "comment" or "raw" or "ifchanged"
                    && ++depth > MaxNesting)
                {
                    return $"blocks nest deeper than {MaxNesting} levels";
                }
            }

            index = end;
        }

        return null;
    }

    /// <summary>How many parsed templates are cached (bounded by clearing when full).</summary>
    internal static int CachedCount => Cache.Count;

    private static Spintax ParseSpintax(string source)
    {
        if (!Spintax.TryParse(source, out var spintax, out var error))
        {
            throw new TemplateException($"template error: {error}");
        }

        if (SpinCache.Count >= MaxCachedTemplates)
        {
            SpinCache.Clear();
        }

        SpinCache[source] = spintax!;
        return spintax!;
    }

    private static IFluidTemplate ParseAndCache(string liquid)
    {
        if (StructureError(liquid) is { } structure)
        {
            throw new TemplateException($"template error: {structure}");
        }

        if (!Parser.TryParse(liquid, out var template, out var error))
        {
            throw new TemplateException($"template error: {error}");
        }

        if (Cache.Count >= MaxCachedTemplates)
        {
            Cache.Clear();
        }

        Cache[liquid] = template;
        return template;
    }

    private static TemplateContext CreateContext(TemplateModel model)
    {
        var context = new TemplateContext(Options);
        context.SetValue("first_name", model.FirstName ?? string.Empty);
        context.SetValue("last_name", model.LastName ?? string.Empty);
        context.SetValue("email", model.Email ?? string.Empty);
        context.SetValue("title", model.Title ?? string.Empty);
        context.SetValue("linkedin_url", model.LinkedInUrl ?? string.Empty);
        context.SetValue("phone", model.Phone ?? string.Empty);
        context.SetValue("country", model.Country ?? string.Empty);
        context.SetValue("company", new CompanyValue(model.Company ?? string.Empty, model.CompanyDomain ?? string.Empty));
        context.SetValue("company_domain", model.CompanyDomain ?? string.Empty);
        context.SetValue("sender_name", model.SenderName);
        context.SetValue("custom", model.Custom.ToDictionary(kv => kv.Key, kv => (object)kv.Value, StringComparer.Ordinal));
        context.SetValue("prospect", Object(
            ("first_name", model.FirstName),
            ("last_name", model.LastName),
            ("email", model.Email),
            ("title", model.Title),
            ("linkedin_url", model.LinkedInUrl),
            ("phone", model.Phone),
            ("country", model.Country),
            ("company", model.Company)));
        var ownerFirstName = model.OwnerName?.Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        context.SetValue("owner", Object(("name", model.OwnerName), ("first_name", ownerFirstName), ("email", model.OwnerEmail)));
        context.SetValue("sender", Object(("name", model.SenderName), ("email", model.SenderEmail), ("signature", model.Signature)));
        return context;
    }

    private static Dictionary<string, object> Object(params (string Name, string? Value)[] members)
        => members.ToDictionary(m => m.Name, m => (object)(m.Value ?? string.Empty), StringComparer.Ordinal);

    private static TemplateOptions CreateOptions()
    {
        var options = new TemplateOptions
        {
            MaxSteps = 10_000,
            MaxRecursion = 10,
        };
        options.MemberAccessStrategy.IgnoreCasing = false;

        // Strings built by filters (append, replace, …) or captures count against the output limit, so a loop
        // that doubles a string fails fast instead of exhausting memory.
        foreach (var (name, filter) in options.Filters.ToList())
        {
            options.Filters.AddFilter(name, (input, arguments, context) => Bounded(filter(input, arguments, context)));
        }

        options.Captured = (_, value, _) => ValueTask.FromResult(CheckLength(value));
        return options;
    }

    private static ValueTask<FluidValue> Bounded(ValueTask<FluidValue> result)
    {
        return result.IsCompletedSuccessfully ? ValueTask.FromResult(CheckLength(result.Result)) : Awaited(result);

        static async ValueTask<FluidValue> Awaited(ValueTask<FluidValue> pending) => CheckLength(await pending.ConfigureAwait(false));
    }

    private static FluidValue CheckLength(FluidValue value)
        => value is StringValue && value.ToStringValue().Length > MaxOutputLength
            ? throw new TemplateException($"a value built by the template is longer than {MaxOutputLength} characters")
            : value;

    /// <summary><c>company</c>: prints as the company's name, with <c>.name</c> and <c>.domain</c> members.</summary>
    private sealed class CompanyValue(string name, string domain) : FluidValue
    {
        private readonly StringValue value = new(name);

        public override FluidValues Type => FluidValues.String;

        public override bool Equals(FluidValue other) => value.Equals(other);

        public override bool ToBooleanValue() => value.ToBooleanValue();

        public override decimal ToNumberValue() => value.ToNumberValue();

        public override string ToStringValue() => name;

        public override object ToObjectValue() => name;

        public override bool Contains(FluidValue value1) => value.Contains(value1);

        public override bool Equals(object? obj) => obj is FluidValue other && Equals(other);

        public override int GetHashCode() => name.GetHashCode(StringComparison.Ordinal);

        [Obsolete("Fluid's synchronous WriteTo; rendering uses WriteToAsync.")]
        public override void WriteTo(TextWriter writer, TextEncoder encoder, System.Globalization.CultureInfo cultureInfo)
            => writer.Write(encoder.Encode(name));

        public override ValueTask WriteToAsync(TextWriter writer, TextEncoder encoder, System.Globalization.CultureInfo cultureInfo)
            => value.WriteToAsync(writer, encoder, cultureInfo);

        public override ValueTask<FluidValue> GetValueAsync(string name1, TemplateContext context) => name1 switch
        {
            "name" => ValueTask.FromResult<FluidValue>(value),
            "domain" => ValueTask.FromResult<FluidValue>(new StringValue(domain)),
            _ => value.GetValueAsync(name1, context),
        };
    }

    /// <summary>A string writer that refuses to grow past a limit.</summary>
    private sealed class BoundedWriter(int limit) : StringWriter(System.Globalization.CultureInfo.InvariantCulture)
    {
        public override void Write(char value)
        {
            base.Write(value);
            Check();
        }

        public override void Write(string? value)
        {
            base.Write(value);
            Check();
        }

        public override void Write(char[] buffer, int index, int count)
        {
            base.Write(buffer, index, count);
            Check();
        }

        public override void Write(ReadOnlySpan<char> buffer)
        {
            base.Write(buffer);
            Check();
        }

        private void Check()
        {
            if (GetStringBuilder().Length > limit)
            {
                throw new TemplateException($"rendered text is longer than {limit} characters");
            }
        }
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
