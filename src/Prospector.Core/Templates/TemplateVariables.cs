using Fluid;
using Fluid.Ast;

namespace Prospector.Core.Templates;

/// <summary>A variable a template reads (<c>first_name</c>, <c>custom.industry</c>, <c>owner.name</c>).</summary>
/// <param name="Name">The dotted name: a flat variable, or an object and its member.</param>
/// <param name="HasDefault">True when every read of it goes through a <c>default</c> filter.</param>
public sealed record TemplateVariable(string Name, bool HasDefault);

/// <summary>What a workspace knows when templates are checked: the custom field names some prospect has.</summary>
public sealed record TemplateScope(IReadOnlySet<string> CustomFields);

/// <summary>The variables templates can use.</summary>
public static class TemplateVariables
{
    /// <summary>Prefix of custom fields: <c>custom.&lt;field&gt;</c>.</summary>
    public const string CustomPrefix = "custom.";

    /// <summary>Prospect fields by their flat name (the names branch conditions and enrollment facts use, besides <c>custom.*</c>).</summary>
    public static readonly IReadOnlySet<string> ProspectFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "first_name", "last_name", "email", "title", "linkedin_url", "phone", "country", "company", "company_domain",
    };

    /// <summary>Every standard variable name (custom fields come on top, as <c>custom.&lt;field&gt;</c>).</summary>
    public static readonly IReadOnlySet<string> Known = new HashSet<string>(StringComparer.Ordinal)
    {
        "first_name", "last_name", "email", "title", "linkedin_url", "phone", "country", "company", "company_domain",
        "sender_name",
        "prospect.first_name", "prospect.last_name", "prospect.email", "prospect.title", "prospect.linkedin_url",
        "prospect.phone", "prospect.country", "prospect.company",
        "company.name", "company.domain",
        "owner.name", "owner.first_name", "owner.email",
        "sender.name", "sender.email", "sender.signature",
    };

    /// <summary>Objects whose members are variables.</summary>
    internal static readonly IReadOnlySet<string> Objects = new HashSet<string>(StringComparer.Ordinal)
    {
        "prospect", "company", "owner", "sender", "custom",
    };

    // Names Liquid itself provides, never variables of ours.
    private static readonly IReadOnlySet<string> Builtins = new HashSet<string>(StringComparer.Ordinal)
    {
        "forloop", "tablerowloop", "empty", "blank", "nil", "null", "true", "false",
    };

    /// <summary>True for a standard variable or a well-formed <c>custom.&lt;field&gt;</c>.</summary>
    public static bool IsKnown(string name) => Known.Contains(name) || CustomField(name) is not null;

    /// <summary>The field of a <c>custom.&lt;field&gt;</c> name, or null.</summary>
    public static string? CustomField(string name)
        => name.StartsWith(CustomPrefix, StringComparison.Ordinal) && name.Length > CustomPrefix.Length ? name[CustomPrefix.Length..] : null;

    /// <summary>
    /// The prospect field a branch condition names, in its flat form (<c>prospect.title</c> → <c>title</c>,
    /// <c>company.domain</c> → <c>company_domain</c>), or null when it is not a prospect field.
    /// </summary>
    public static string? ProspectField(string name)
    {
        if (CustomField(name) is { } field)
        {
            return field.Contains('.', StringComparison.Ordinal) ? null : name;
        }

        var flat = name switch
        {
            "company.name" => "company",
            "company.domain" => "company_domain",
            _ when name.StartsWith("prospect.", StringComparison.Ordinal) => name["prospect.".Length..],
            _ => name,
        };
        return ProspectFields.Contains(flat) ? flat : null;
    }

    /// <summary>The variables a parsed template reads, locals (assign, capture, for) excluded.</summary>
    internal static IReadOnlyList<TemplateVariable> Collect(IFluidTemplate template)
    {
        var locals = new LocalCollector();
        locals.VisitTemplate(template);
        var reads = new ReadCollector(locals.Names);
        reads.VisitTemplate(template);
        return reads.Variables.Select(kv => new TemplateVariable(kv.Key, kv.Value)).ToList();
    }

    private static string? NameOf(MemberExpression member)
    {
        var parts = new List<string>(2);
        foreach (var segment in member.Segments)
        {
            var part = segment switch
            {
                IdentifierSegment identifier => identifier.Identifier,
                IndexerSegment { Expression: LiteralExpression literal } => literal.Value.ToStringValue(),
                _ => null,
            };
            if (part is null)
            {
                break;
            }

            parts.Add(part);
            if (parts.Count == 2)
            {
                break;
            }
        }

        if (parts.Count == 0)
        {
            return null;
        }

        var root = parts[0];
        if (parts.Count == 1)
        {
            return root;
        }

        var dotted = root + "." + parts[1];
        if (root == "custom" || Known.Contains(dotted))
        {
            return dotted;
        }

        // company.size and first_name.size read the flat variable; prospect.frist_name is an unknown name.
        return Known.Contains(root) ? root : Objects.Contains(root) ? dotted : root;
    }

    private sealed class LocalCollector : AstVisitor
    {
        public HashSet<string> Names { get; } = new(StringComparer.Ordinal);

        protected override Statement VisitAssignStatement(AssignStatement assignStatement)
        {
            Names.Add(assignStatement.Identifier);
            return base.VisitAssignStatement(assignStatement);
        }

        protected override Statement VisitCaptureStatement(CaptureStatement captureStatement)
        {
            Names.Add(captureStatement.Identifier);
            return base.VisitCaptureStatement(captureStatement);
        }

        protected override Statement VisitForStatement(ForStatement forStatement)
        {
            Names.Add(forStatement.Identifier);
            return base.VisitForStatement(forStatement);
        }

        protected override Statement VisitTableRowStatement(TableRowStatement tableRowStatement)
        {
            Names.Add(tableRowStatement.Identifier);
            return base.VisitTableRowStatement(tableRowStatement);
        }

        protected override Statement VisitIncrementStatement(IncrementStatement incrementStatement)
        {
            Names.Add(incrementStatement.Identifier);
            return base.VisitIncrementStatement(incrementStatement);
        }

        protected override Statement VisitDecrementStatement(DecrementStatement decrementStatement)
        {
            Names.Add(decrementStatement.Identifier);
            return base.VisitDecrementStatement(decrementStatement);
        }
    }

    private sealed class ReadCollector(HashSet<string> locals) : AstVisitor
    {
        private int defaulted;

        // Name → true while every read of it has a default.
        public Dictionary<string, bool> Variables { get; } = new(StringComparer.Ordinal);

        protected override Expression VisitFilterExpression(FilterExpression filterExpression)
        {
            if (filterExpression.Name != "default")
            {
                return base.VisitFilterExpression(filterExpression);
            }

            defaulted++;
            Visit(filterExpression.Input);
            defaulted--;
            var outer = defaulted;
            defaulted = 0;
            foreach (var parameter in filterExpression.Parameters)
            {
                Visit(parameter.Expression);
            }

            defaulted = outer;
            return filterExpression;
        }

        protected override Expression VisitMemberExpression(MemberExpression memberExpression)
        {
            var name = NameOf(memberExpression);
            var root = memberExpression.Segments.Count > 0 && memberExpression.Segments[0] is IdentifierSegment id ? id.Identifier : null;
            if (name is not null && root is not null && !locals.Contains(root) && !Builtins.Contains(root))
            {
                var hasDefault = defaulted > 0;
                Variables[name] = Variables.TryGetValue(name, out var before) ? before && hasDefault : hasDefault;
            }

            // Indexer expressions (custom[key]) are reads of their own, without the default.
            var outer = defaulted;
            defaulted = 0;
            var result = base.VisitMemberExpression(memberExpression);
            defaulted = outer;
            return result;
        }
    }
}
