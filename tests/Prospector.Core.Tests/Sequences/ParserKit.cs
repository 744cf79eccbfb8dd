using System.Text.Json;
using Prospector.Core.Sequences;
using Prospector.Core.Templates;

namespace Prospector.Core.Tests.Sequences;

internal static class ParserKit
{
    public const string Intro = """{ "id": "intro", "type": "email", "subject": "Hi", "body": "Hello" }""";

    public static (SequenceDefinition? Definition, IReadOnlyList<ValidationError> Errors) Parse(string json, TemplateScope? scope = null)
    {
        using var document = JsonDocument.Parse(json);
        return SequenceParser.Parse(document.RootElement.Clone(), "steps", scope);
    }

    /// <summary>Parses an intro email followed by <paramref name="steps"/> (comma-separated JSON objects).</summary>
    public static (SequenceDefinition? Definition, IReadOnlyList<ValidationError> Errors) AfterIntro(string steps, TemplateScope? scope = null)
        => Parse($"[ {Intro}, {steps} ]", scope);

    public static SequenceDefinition Valid(string json)
    {
        var (definition, errors) = Parse(json);
        Assert.Empty(errors);
        return Assert.IsType<SequenceDefinition>(definition);
    }

    public static ValidationError SingleError(IReadOnlyList<ValidationError> errors, string path)
    {
        var error = Assert.Single(errors);
        Assert.Equal(path, error.Path);
        return error;
    }

    public static void AssertError(IReadOnlyList<ValidationError> errors, string path, string messagePart)
        => Assert.True(
            errors.Any(e => e.Path == path && e.Message.Contains(messagePart, StringComparison.Ordinal)),
            $"expected an error at {path} containing \"{messagePart}\"; got: {string.Join(" | ", errors.Select(e => $"{e.Path}: {e.Message}"))}");
}
