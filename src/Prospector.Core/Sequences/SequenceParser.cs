using System.Globalization;
using System.Text.Json;
using Prospector.Core.Templates;

namespace Prospector.Core.Sequences;

/// <summary>
/// Reads a sequence's steps from JSON and reports every problem at once, each with its path
/// (<c>steps[2].body</c>). Unknown properties are errors (no silent mass assignment). Besides each step's own
/// fields it checks the flow: branch targets, unreachable steps, loops without a wait, and that no email without a
/// subject can come before an email with one.
/// </summary>
public static class SequenceParser
{
    private const int MaxSteps = 100;
    private const int MaxSubjectLength = 998;
    private const int MaxBodyLength = 100_000;
    private const int MaxLinkedInMessageLength = 8_000;
    private const int MaxTaskTextLength = 20_000;
    private const int MaxTitleLength = 200;
    private const int MaxUrlLength = 2_048;
    private const int MaxConditionValueLength = 500;
    private const int MaxWaitUnits = 3650;

    private static readonly Dictionary<string, string[]> AllowedProperties = new(StringComparer.Ordinal)
    {
        [StepTypes.Email] = ["id", "type", "subject", "body"],
        [StepTypes.Wait] = ["id", "type", "days", "hours", "minutes", "seconds", "business_days"],
        [StepTypes.LinkedInVisit] = ["id", "type", "instructions"],
        [StepTypes.LinkedInInvite] = ["id", "type", "note"],
        [StepTypes.LinkedInMessage] = ["id", "type", "body"],
        [StepTypes.Call] = ["id", "type", "script"],
        [StepTypes.ManualTask] = ["id", "type", "title", "instructions"],
        [StepTypes.Webhook] = ["id", "type", "url", "payload"],
        [StepTypes.Branch] = ["id", "type", "if", "then", "else"],
    };

    private static readonly string[] ConditionProperties = ["field", "operator", "value"];

    private static readonly Dictionary<string, BranchEvent> Events = new(StringComparer.Ordinal)
    {
        ["replied"] = BranchEvent.Replied,
        ["opened"] = BranchEvent.Opened,
        ["clicked"] = BranchEvent.Clicked,
        ["linkedin_connected"] = BranchEvent.LinkedInConnected,
        ["email_found"] = BranchEvent.EmailFound,
    };

    private static readonly Dictionary<string, FieldOperator> Operators = new(StringComparer.Ordinal)
    {
        ["equals"] = FieldOperator.Equals,
        ["not_equals"] = FieldOperator.NotEquals,
        ["contains"] = FieldOperator.Contains,
        ["exists"] = FieldOperator.Exists,
        ["missing"] = FieldOperator.Missing,
    };

    /// <summary>
    /// Parses <paramref name="steps"/> (a JSON array). Returns the definition, or null with the errors.
    /// With a <paramref name="scope"/>, templates may only read custom fields the workspace knows, unless they give a default.
    /// </summary>
    public static (SequenceDefinition? Definition, IReadOnlyList<ValidationError> Errors) Parse(JsonElement steps, string path = "steps", TemplateScope? scope = null)
        => Parse(steps, path, new Checks(scope, Variables: true));

    private static (SequenceDefinition? Definition, IReadOnlyList<ValidationError> Errors) Parse(JsonElement steps, string path, Checks checks)
    {
        var errors = new List<ValidationError>();
        if (steps.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new(path, "must be an array of steps"));
            return (null, errors);
        }

        var count = steps.GetArrayLength();
        if (count == 0)
        {
            errors.Add(new(path, "a sequence needs at least one step"));
            return (null, errors);
        }

        if (count > MaxSteps)
        {
            errors.Add(new(path, $"at most {MaxSteps} steps"));
            return (null, errors);
        }

        var parsed = new SequenceStep?[count];
        var shapes = new SequenceGraph.Node[count];
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var element in steps.EnumerateArray())
        {
            var stepPath = $"{path}[{index}]";
            shapes[index] = SequenceGraph.Node.From(element, index);
            var step = ParseStep(element, stepPath, index, errors, checks);
            if (shapes[index].Id is { } id && !ids.Add(id))
            {
                errors.Add(new($"{stepPath}.id", $"duplicate step id '{id}'"));
                step = null;
            }

            parsed[index] = step;
            index++;
        }

        SequenceGraph.Check(shapes, path, errors);
        return errors.Count == 0 ? (new SequenceDefinition(parsed.Select(s => s!).ToList()), errors) : (null, errors);
    }

    private static SequenceStep? ParseStep(JsonElement element, string path, int index, List<ValidationError> errors, Checks checks)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new(path, "must be an object"));
            return null;
        }

        var type = element.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : null;
        if (type is null)
        {
            errors.Add(new($"{path}.type", "is required"));
            return null;
        }

        if (!AllowedProperties.TryGetValue(type, out var allowed))
        {
            errors.Add(new($"{path}.type", $"unknown step type '{type}'; use one of {string.Join(", ", StepTypes.All.Order(StringComparer.Ordinal))}"));
            return null;
        }

        var before = errors.Count;
        foreach (var property in element.EnumerateObject())
        {
            if (!allowed.Contains(property.Name, StringComparer.Ordinal))
            {
                errors.Add(new($"{path}.{property.Name}", $"unknown property for a '{type}' step"));
            }
        }

        var id = OptionalString(element, "id", path, errors) ?? DefaultId(index);
        if (id.Length is 0 or > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            errors.Add(new($"{path}.id", "must be 1-64 letters, digits, '-' or '_'"));
        }
        else if (id == StepTargets.End)
        {
            errors.Add(new($"{path}.id", $"'{StepTargets.End}' is reserved for branch targets"));
        }

        var reader = new StepReader(element, path, errors, checks);
        SequenceStep? step = type switch
        {
            StepTypes.Email => ParseEmail(reader, id),
            StepTypes.Wait => ParseWait(reader, id),
            StepTypes.LinkedInVisit => new LinkedInVisitStep(id, reader.Template("instructions", required: false, MaxTaskTextLength)),
            StepTypes.LinkedInInvite => new LinkedInInviteStep(id, reader.Template("note", required: false, LinkedInInviteStep.MaxNoteLength)),
            StepTypes.LinkedInMessage => new LinkedInMessageStep(id, reader.Template("body", required: true, MaxLinkedInMessageLength)!),
            StepTypes.Call => new CallStep(id, reader.Template("script", required: true, MaxTaskTextLength)!),
            StepTypes.ManualTask => ParseManualTask(reader, id),
            StepTypes.Webhook => ParseWebhook(reader, id),
            _ => ParseBranch(reader, id),
        };
        return errors.Count == before ? step : null;
    }

    /// <summary>The id a step gets when it has none: <c>step-1</c>, <c>step-2</c>, … by position.</summary>
    internal static string DefaultId(int index) => string.Create(CultureInfo.InvariantCulture, $"step-{index + 1}");

    private static EmailStep? ParseEmail(StepReader reader, string id)
    {
        var subject = reader.Template("subject", required: false, MaxSubjectLength, singleLine: true);
        var body = reader.Template("body", required: true, MaxBodyLength);
        return body is null ? null : new EmailStep(id, subject, body);
    }

    private static WaitStep? ParseWait(StepReader reader, string id)
    {
        var days = reader.WaitUnits("days");
        var time = TimeSpan.FromHours(reader.WaitUnits("hours"))
            + TimeSpan.FromMinutes(reader.WaitUnits("minutes"))
            + TimeSpan.FromSeconds(reader.WaitUnits("seconds"));
        var businessDays = false;
        if (reader.Element.TryGetProperty("business_days", out var flag) && flag.ValueKind != JsonValueKind.Null)
        {
            if (flag.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                businessDays = flag.GetBoolean();
                if (businessDays && days < 1)
                {
                    reader.Error("business_days", "needs days of at least 1");
                }
            }
            else
            {
                reader.Error("business_days", "must be true or false");
            }
        }

        if (days == 0 && time <= TimeSpan.Zero)
        {
            reader.Errors.Add(new(reader.Path, "a wait needs a positive duration (days, hours, minutes or seconds)"));
            return null;
        }

        return new WaitStep(id, days, time, businessDays);
    }

    private static ManualTaskStep? ParseManualTask(StepReader reader, string id)
    {
        var title = reader.Template("title", required: false, MaxTitleLength, singleLine: true);
        var instructions = reader.Template("instructions", required: true, MaxTaskTextLength);
        return instructions is null ? null : new ManualTaskStep(id, title, instructions);
    }

    private static WebhookStep? ParseWebhook(StepReader reader, string id)
    {
        var text = reader.String("url");
        Uri? url = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            reader.Error("url", "is required");
        }
        else if (text.Length > MaxUrlLength)
        {
            reader.Error("url", $"at most {MaxUrlLength} characters");
        }
        else if (!Uri.TryCreate(text, UriKind.Absolute, out url) || url.Scheme is not ("http" or "https") || string.IsNullOrEmpty(url.Host))
        {
            reader.Error("url", "must be an absolute http or https URL");
            url = null;
        }
        else if (!string.IsNullOrEmpty(url.UserInfo))
        {
            reader.Error("url", "must not contain a user name or password; put secrets in the payload or a header the receiver checks");
            url = null;
        }

        var before = reader.Errors.Count;
        var payload = reader.Template("payload", required: false, MaxBodyLength, format: TemplateFormat.Json);
        if (payload is not null && reader.Errors.Count == before && RenderedJsonError(payload) is { } jsonError)
        {
            reader.Error("payload", jsonError);
        }

        return url is null ? null : new WebhookStep(id, url, payload);
    }

    // A payload must be JSON once rendered: render it against sample values and parse the result.
    private static string? RenderedJsonError(string payload)
    {
        var sample = new TemplateModel("prospect@example.com", "Sample", "Sample", "Sample", "example.com", new Dictionary<string, string>(), "Sample")
        {
            Title = "Sample",
            LinkedInUrl = "https://www.linkedin.com/in/sample",
            Phone = "+1 555 0100",
            Country = "US",
            OwnerName = "Sample Owner",
            OwnerEmail = "owner@example.com",
            SenderEmail = "sender@example.com",
            Signature = "Sample",
        };
        try
        {
            using var _ = JsonDocument.Parse(TemplateRenderer.Render(payload, sample, new RenderOptions(TemplateFormat.Json)));
            return null;
        }
        catch (JsonException ex)
        {
            return $"must be JSON once rendered (put values in quotes: \"{{{{ email }}}}\"): {ex.Message.Split('.')[0]}";
        }
        catch (TemplateException ex)
        {
            return ex.Message;
        }
    }

    private static BranchStep? ParseBranch(StepReader reader, string id)
    {
        var condition = ParseCondition(reader);
        var then = reader.Target("then", required: true);
        var @else = reader.Target("else", required: false);
        return condition is null || then is null ? null : new BranchStep(id, condition, then, @else);
    }

    private static BranchCondition? ParseCondition(StepReader reader)
    {
        var path = $"{reader.Path}.if";
        if (!reader.Element.TryGetProperty("if", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            reader.Errors.Add(new(path, "is required: an event (" + string.Join(", ", Events.Keys) + ") or { \"field\", \"operator\", \"value\" }"));
            return null;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            var name = value.GetString()!;
            if (Events.TryGetValue(name, out var @event))
            {
                return new EventCondition(@event);
            }

            reader.Errors.Add(new(path, $"unknown event '{name}'; use one of {string.Join(", ", Events.Keys)}"));
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            reader.Errors.Add(new(path, "must be an event name or a field condition object"));
            return null;
        }

        var before = reader.Errors.Count;
        foreach (var property in value.EnumerateObject())
        {
            if (!ConditionProperties.Contains(property.Name, StringComparer.Ordinal))
            {
                reader.Errors.Add(new($"{path}.{property.Name}", "unknown property of a field condition"));
            }
        }

        var inner = new StepReader(value, path, reader.Errors, reader.Checks);
        var field = inner.String("field");
        string? canonical = null;
        if (string.IsNullOrWhiteSpace(field))
        {
            inner.Error("field", "is required");
        }
        else if ((canonical = TemplateVariables.ProspectField(field)) is null)
        {
            inner.Error("field", $"unknown field '{field}'; use one of {string.Join(", ", TemplateVariables.ProspectFields)} or custom.<field>");
        }

        var operatorName = inner.String("operator");
        FieldOperator? @operator = null;
        if (string.IsNullOrWhiteSpace(operatorName))
        {
            inner.Error("operator", "is required");
        }
        else if (Operators.TryGetValue(operatorName, out var op))
        {
            @operator = op;
        }
        else
        {
            inner.Error("operator", $"unknown operator '{operatorName}'; use one of {string.Join(", ", Operators.Keys)}");
        }

        var operand = inner.String("value");
        if (@operator is FieldOperator.Exists or FieldOperator.Missing)
        {
            if (operand is not null)
            {
                inner.Error("value", $"is not used with '{operatorName}'");
            }
        }
        else if (@operator is not null && string.IsNullOrEmpty(operand))
        {
            inner.Error("value", $"is required with '{operatorName}'");
        }
        else if (operand is { Length: > MaxConditionValueLength })
        {
            inner.Error("value", $"at most {MaxConditionValueLength} characters");
        }

        return reader.Errors.Count == before ? new FieldCondition(canonical!, @operator!.Value, operand) : null;
    }

    private static string? OptionalString(JsonElement element, string name, string path, List<ValidationError> errors)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(new($"{path}.{name}", "must be a string"));
            return null;
        }

        return value.GetString();
    }

    /// <summary>Writes a definition back to the JSON shape <see cref="Parse(JsonElement, string, TemplateScope?)"/> reads.</summary>
    public static string Serialize(SequenceDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartArray();
            foreach (var step in definition.Steps)
            {
                writer.WriteStartObject();
                writer.WriteString("id", step.Id);
                writer.WriteString("type", step.Type);
                WriteStep(writer, step);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteStep(Utf8JsonWriter writer, SequenceStep step)
    {
        switch (step)
        {
            case EmailStep email:
                WriteOptional(writer, "subject", email.Subject);
                writer.WriteString("body", email.Body);
                break;
            case WaitStep wait:
                WriteNonZero(writer, "days", wait.Days);
                WriteNonZero(writer, "hours", (int)wait.Time.TotalHours);
                WriteNonZero(writer, "minutes", wait.Time.Minutes);
                WriteNonZero(writer, "seconds", wait.Time.Seconds);
                if (wait.BusinessDays)
                {
                    writer.WriteBoolean("business_days", true);
                }

                break;
            case LinkedInVisitStep visit:
                WriteOptional(writer, "instructions", visit.Instructions);
                break;
            case LinkedInInviteStep invite:
                WriteOptional(writer, "note", invite.Note);
                break;
            case LinkedInMessageStep message:
                writer.WriteString("body", message.Body);
                break;
            case CallStep call:
                writer.WriteString("script", call.Script);
                break;
            case ManualTaskStep task:
                WriteOptional(writer, "title", task.Title);
                writer.WriteString("instructions", task.Instructions);
                break;
            case WebhookStep webhook:
                writer.WriteString("url", webhook.Url.OriginalString);
                WriteOptional(writer, "payload", webhook.Payload);
                break;
            case BranchStep branch:
                writer.WritePropertyName("if");
                WriteCondition(writer, branch.Condition);
                writer.WriteString("then", branch.Then);
                WriteOptional(writer, "else", branch.Else);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(step), step.Type, "unknown step type");
        }
    }

    private static void WriteCondition(Utf8JsonWriter writer, BranchCondition condition)
    {
        switch (condition)
        {
            case EventCondition e:
                writer.WriteStringValue(Events.Single(kv => kv.Value == e.Event).Key);
                break;
            case FieldCondition f:
                writer.WriteStartObject();
                writer.WriteString("field", f.Field);
                writer.WriteString("operator", Operators.Single(kv => kv.Value == f.Operator).Key);
                WriteOptional(writer, "value", f.Value);
                writer.WriteEndObject();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(condition), condition, "unknown branch condition");
        }
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static void WriteNonZero(Utf8JsonWriter writer, string name, int value)
    {
        if (value != 0)
        {
            writer.WriteNumber(name, value);
        }
    }

    /// <summary>
    /// Reads a definition stored by <see cref="Serialize"/>. Structure and flow are checked again; template
    /// variables are not (no workspace scope, and a stored sequence keeps working when the variable list changes).
    /// </summary>
    public static SequenceDefinition Deserialize(string json)
    {
        using var document = JsonDocument.Parse(json);
        var (definition, errors) = Parse(document.RootElement, "steps", new Checks(null, Variables: false));
        return definition ?? throw new InvalidOperationException(
            "stored sequence definition is invalid: " + string.Join("; ", errors.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Path}: {e.Message}"))));
    }

    private sealed record Checks(TemplateScope? Scope, bool Variables);

    /// <summary>Reads one object's properties, adding errors at <c>path.name</c>.</summary>
    private sealed record StepReader(JsonElement Element, string Path, List<ValidationError> Errors, Checks Checks)
    {
        public void Error(string name, string message) => Errors.Add(new($"{Path}.{name}", message));

        public string? String(string name) => OptionalString(Element, name, Path, Errors);

        public int WaitUnits(string name)
        {
            if (!Element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return 0;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n) || n is < 0 or > MaxWaitUnits)
            {
                Error(name, $"must be a whole number from 0 to {MaxWaitUnits}");
                return 0;
            }

            return n;
        }

        public string? Target(string name, bool required)
        {
            var before = Errors.Count;
            var target = String(name);
            if (target is null)
            {
                if (required && Errors.Count == before)
                {
                    Error(name, $"is required: a step id or '{StepTargets.End}'");
                }
            }
            else if (target.Length == 0)
            {
                Error(name, $"must be a step id or '{StepTargets.End}'");
                return null;
            }

            return target;
        }

        /// <summary>A template field: required or optional (blank counts as absent), length, spintax and Liquid syntax, variables.</summary>
        public string? Template(string name, bool required, int maxLength, bool singleLine = false, TemplateFormat format = TemplateFormat.Text)
        {
            var present = Errors.Count;
            var source = String(name);
            if (string.IsNullOrWhiteSpace(source))
            {
                if (required && Errors.Count == present)
                {
                    Error(name, "is required");
                }

                return null;
            }

            var before = Errors.Count;
            if (source.Length > maxLength)
            {
                Error(name, $"at most {maxLength} characters");
            }

            if (singleLine && source.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            {
                Error(name, "must not contain CR, LF or NUL");
            }

            if (Errors.Count == before)
            {
                CheckTemplate(name, source, format);
            }

            return source;
        }

        private void CheckTemplate(string name, string source, TemplateFormat format)
        {
            if (!TemplateRenderer.TryParse(source, format, out var error))
            {
                Error(name, $"template error: {error?.Split('\n')[0]}");
                return;
            }

            if (!Checks.Variables)
            {
                return;
            }

            foreach (var variable in TemplateRenderer.Variables(source, format))
            {
                if (!TemplateVariables.IsKnown(variable.Name))
                {
                    Error(name, $"unknown variable '{variable.Name}'");
                }
                else if (Checks.Scope is { } scope && TemplateVariables.CustomField(variable.Name) is { } field
                    && !variable.HasDefault && !scope.CustomFields.Contains(field))
                {
                    Error(name, $"no prospect in this workspace has custom field '{field}'; add a default: {{{{ custom.{field} | default: \"…\" }}}}");
                }
            }
        }
    }
}
