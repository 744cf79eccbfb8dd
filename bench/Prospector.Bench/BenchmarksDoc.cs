namespace Prospector.Bench;

/// <summary>
/// docs/benchmarks.md (and docs/reliability.md): each benchmark owns the text between <c>&lt;!-- Bn:begin --&gt;</c> and
/// <c>&lt;!-- Bn:end --&gt;</c>.
/// </summary>
public static class BenchmarksDoc
{
    /// <summary>Replaces (or appends) the section of <paramref name="id"/>, leaving the rest of the file as it was. Returns the path.</summary>
    public static string WriteSection(string id, string markdown, string document = "benchmarks.md")
    {
        var root = Repository.Find() ?? throw new InvalidOperationException("run from inside the repository (Prospector.sln not found)");
        var path = Path.Combine(root, "docs", document);
        var (begin, end) = ($"<!-- {id}:begin -->", $"<!-- {id}:end -->");
        var text = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n";
        var section = $"{begin}\n{markdown.TrimEnd()}\n{end}";
        var i = text.IndexOf(begin, StringComparison.Ordinal);
        var j = i < 0 ? -1 : text.IndexOf(end, i, StringComparison.Ordinal);
        text = i >= 0 && j > i
            ? string.Concat(text.AsSpan(0, i), section, text.AsSpan(j + end.Length))
            : text.TrimEnd() + "\n\n" + section + "\n";
        File.WriteAllText(path, text);
        return path;
    }
}
