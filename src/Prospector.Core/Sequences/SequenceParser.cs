using System.Globalization;
using System.Text.Json;
using Prospector.Core.Templates;

namespace Prospector.Core.Sequences;

/// <summary>
/// Reads a sequence's steps from JSON and reports every problem at once, each with its path.
/// Unknown properties are errors (no silent mass assignment).
/// </summary>
public static class SequenceParser
{
    private const int MaxSteps = 100;
    private const int MaxSubjectLength = 998;
    private const int MaxBodyLength = 100_000;

    private static readonly Dictionary<string, string[]> AllowedProperties = new(StringComparer.Ordinal)
    {
        [StepTypes.Email] = ["id", "type", "subject", "body"],
        [StepTypes.Wait] = ["id", "type", "days", "hours", "minutes", "seconds"],
    };

    /// <summary>Parses <paramref name="steps"/> (a JSON array). Returns the definition, or null with the errors.</summary>
    public static (SequenceDefinition? Definition, IReadOnlyList<ValidationError> Errors) Parse(JsonElement steps, string path = "steps")
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
        }
        else if (count > MaxSteps)
        {
            errors.Add(new(path, $"at most {MaxSteps} steps"));
        }

        var parsed = new List<(int Index, SequenceStep Step)>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var element in steps.EnumerateArray())
        {
            var stepPath = $"{path}[{index}]";
            var step = ParseStep(element, stepPath, index, errors);
            if (step is not null)
            {
                if (!ids.Add(step.Id))
                {
                    errors.Add(new($"{stepPath}.id", $"duplicate step id '{step.Id}'"));
                }

                parsed.Add((index, step));
            }

            index++;
        }

        var emails = parsed.Where(p => p.Step is EmailStep).ToList();
        if (parsed.Count > 0 && emails.Count == 0)
        {
            errors.Add(new(path, "a sequence needs at least one email step"));
        }

        if (emails.Count > 0 && emails[0].Step is EmailStep { Subject: null })
        {
            errors.Add(new($"{path}[{emails[0].Index}].subject", "the first email step needs a subject"));
        }

        return errors.Count == 0 ? (new SequenceDefinition(parsed.Select(p => p.Step).ToList()), errors) : (null, errors);
    }

    private static SequenceStep? ParseStep(JsonElement element, string path, int index, List<ValidationError> errors)
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
            errors.Add(new($"{path}.type", StepTypes.All.Contains(type)
                ? $"step type '{type}' is not supported yet"
                : $"unknown step type '{type}'"));
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

        var id = OptionalString(element, "id", path, errors) ?? $"step-{index + 1}";
        if (id.Length is 0 or > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            errors.Add(new($"{path}.id", "must be 1-64 letters, digits, '-' or '_'"));
        }

        SequenceStep? step = type switch
        {
            StepTypes.Email => ParseEmail(element, path, id, errors),
            _ => ParseWait(element, path, id, errors),
        };
        return errors.Count == before ? step : null;
    }

    private static EmailStep? ParseEmail(JsonElement element, string path, string id, List<ValidationError> errors)
    {
        var subject = OptionalString(element, "subject", path, errors);
        var body = OptionalString(element, "body", path, errors);
        if (string.IsNullOrWhiteSpace(body))
        {
            errors.Add(new($"{path}.body", "is required"));
            return null;
        }

        if (subject is not null)
        {
            if (subject.Length > MaxSubjectLength)
            {
                errors.Add(new($"{path}.subject", $"at most {MaxSubjectLength} characters"));
            }

            if (subject.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            {
                errors.Add(new($"{path}.subject", "must not contain CR, LF or NUL"));
            }

            CheckTemplate(subject, $"{path}.subject", errors);
        }

        if (body.Length > MaxBodyLength)
        {
            errors.Add(new($"{path}.body", $"at most {MaxBodyLength} characters"));
        }

        CheckTemplate(body, $"{path}.body", errors);
        return new EmailStep(id, string.IsNullOrWhiteSpace(subject) ? null : subject, body);
    }

    private static WaitStep? ParseWait(JsonElement element, string path, string id, List<ValidationError> errors)
    {
        var total = TimeSpan.Zero;
        foreach (var (name, unit) in new[] { ("days", TimeSpan.FromDays(1)), ("hours", TimeSpan.FromHours(1)), ("minutes", TimeSpan.FromMinutes(1)), ("seconds", TimeSpan.FromSeconds(1)) })
        {
            if (!element.TryGetProperty(name, out var value))
            {
                continue;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n) || n < 0 || n > 3650)
            {
                errors.Add(new($"{path}.{name}", "must be a whole number from 0 to 3650"));
                continue;
            }

            total += unit * n;
        }

        if (total <= TimeSpan.Zero)
        {
            errors.Add(new(path, "a wait needs a positive duration (days, hours, minutes or seconds)"));
            return null;
        }

        return new WaitStep(id, total);
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

    private static void CheckTemplate(string template, string path, List<ValidationError> errors)
    {
        if (!TemplateRenderer.TryParse(template, out var error))
        {
            errors.Add(new(path, $"template error: {error?.Split('\n')[0]}"));
        }
    }

    /// <summary>Writes a definition back to the JSON shape <see cref="Parse"/> reads.</summary>
    public static string Serialize(SequenceDefinition definition)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartArray();
            foreach (var step in definition.Steps)
            {
                writer.WriteStartObject();
                writer.WriteString("id", step.Id);
                writer.WriteString("type", step.Type);
                switch (step)
                {
                    case EmailStep email:
                        if (email.Subject is not null)
                        {
                            writer.WriteString("subject", email.Subject);
                        }

                        writer.WriteString("body", email.Body);
                        break;
                    case WaitStep wait:
                        WriteNonZero(writer, "days", wait.Duration.Days);
                        WriteNonZero(writer, "hours", wait.Duration.Hours);
                        WriteNonZero(writer, "minutes", wait.Duration.Minutes);
                        WriteNonZero(writer, "seconds", wait.Duration.Seconds);
                        break;
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteNonZero(Utf8JsonWriter writer, string name, int value)
    {
        if (value != 0)
        {
            writer.WriteNumber(name, value);
        }
    }

    /// <summary>Reads a definition stored by <see cref="Serialize"/>.</summary>
    public static SequenceDefinition Deserialize(string json)
    {
        using var document = JsonDocument.Parse(json);
        var (definition, errors) = Parse(document.RootElement);
        return definition ?? throw new InvalidOperationException(
            "stored sequence definition is invalid: " + string.Join("; ", errors.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Path}: {e.Message}"))));
    }
}
