using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Prospector.Core.Templates;

/// <summary>
/// Spintax on a template's source: <c>{Hi|Hello|Hey}</c> picks one option, groups nest
/// (<c>{Hi|{Hello|Hey} there}</c>). Liquid's <c>{{ … }}</c> and <c>{% … %}</c> are copied untouched (so a nested
/// group cannot start with two braces: write <c>{ {a|b} c|d}</c>). A brace pair without <c>|</c> is plain text.
/// Resolution happens before Liquid parsing, so prospect data is never spun. The option is chosen by a SHA-256 of
/// the spin key and the group's position in the source: the same key gives the same text in every process.
/// </summary>
public sealed class Spintax
{
    private const int MaxDepth = 16;

    private readonly IReadOnlyList<Node> nodes;

    private Spintax(IReadOnlyList<Node> nodes, bool hasGroups)
    {
        this.nodes = nodes;
        HasGroups = hasGroups;
    }

    /// <summary>True when the source has at least one group with options.</summary>
    public bool HasGroups { get; }

    /// <summary>Parses spintax in <paramref name="source"/>; false with a message when braces do not balance.</summary>
    public static bool TryParse(string source, out Spintax? spintax, out string? error)
    {
        ArgumentNullException.ThrowIfNull(source);
        var reader = new Reader(source);
        var sequence = reader.ParseSequence(0, inGroup: false, out var stop);
        if (reader.Error is not null)
        {
            spintax = null;
            error = reader.Error;
            return false;
        }

        if (stop != Stop.End)
        {
            // A '|' or '}' at top level is handled inside ParseSequence; reaching here means end of input.
            throw new InvalidOperationException("spintax reader stopped early");
        }

        spintax = new Spintax(sequence, reader.HasGroups);
        error = null;
        return true;
    }

    /// <summary>
    /// The text with one option chosen per group: by <paramref name="spinKey"/>, or the first option when it is null.
    /// </summary>
    public string Resolve(string? spinKey)
    {
        var builder = new StringBuilder();
        Write(builder, nodes, spinKey, flatten: false);
        return builder.ToString();
    }

    /// <summary>Every option of every group concatenated (used to check syntax and find variables in all options).</summary>
    public string Flatten()
    {
        var builder = new StringBuilder();
        Write(builder, nodes, null, flatten: true);
        return builder.ToString();
    }

    /// <summary>The option index chosen for a group at <paramref name="offset"/> among <paramref name="count"/> options.</summary>
    internal static int Choose(string? spinKey, int offset, int count)
    {
        if (spinKey is null || count <= 1)
        {
            return 0;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(spinKey, "\u001f", offset.ToString(System.Globalization.CultureInfo.InvariantCulture))), hash);
        return (int)(BinaryPrimitives.ReadUInt64LittleEndian(hash) % (ulong)count);
    }

    private static void Write(StringBuilder builder, IReadOnlyList<Node> sequence, string? spinKey, bool flatten)
    {
        foreach (var node in sequence)
        {
            switch (node)
            {
                case TextNode text:
                    builder.Append(text.Text);
                    break;
                case GroupNode { Options.Count: 1 } literal:
                    builder.Append('{');
                    Write(builder, literal.Options[0], spinKey, flatten);
                    builder.Append('}');
                    break;
                case GroupNode group when flatten:
                    foreach (var option in group.Options)
                    {
                        Write(builder, option, spinKey, flatten);
                    }

                    break;
                case GroupNode group:
                    Write(builder, group.Options[Choose(spinKey, group.Offset, group.Options.Count)], spinKey, flatten);
                    break;
            }
        }
    }

    private abstract record Node;

    private sealed record TextNode(string Text) : Node;

    private sealed record GroupNode(int Offset, IReadOnlyList<IReadOnlyList<Node>> Options) : Node;

    private enum Stop
    {
        End,
        Bar,
        Close,
    }

    private sealed class Reader(string source)
    {
        private int position;

        public string? Error { get; private set; }

        public bool HasGroups { get; private set; }

        public List<Node> ParseSequence(int depth, bool inGroup, out Stop stop)
        {
            var result = new List<Node>();
            var text = new StringBuilder();
            while (position < source.Length && Error is null)
            {
                var c = source[position];
                if (c == '{' && position + 1 < source.Length && source[position + 1] is '{' or '%')
                {
                    var close = source[position + 1] == '{' ? "}}" : "%}";
                    var end = source.IndexOf(close, position + 2, StringComparison.Ordinal);
                    var stopAt = end < 0 ? source.Length : end + 2;
                    text.Append(source, position, stopAt - position);
                    position = stopAt;
                    continue;
                }

                if (c == '{')
                {
                    Flush(result, text);
                    var group = ParseGroup(depth + 1);
                    if (group is not null)
                    {
                        result.Add(group);
                    }

                    continue;
                }

                if (c == '|' && inGroup)
                {
                    position++;
                    Flush(result, text);
                    stop = Stop.Bar;
                    return result;
                }

                if (c == '}')
                {
                    if (inGroup)
                    {
                        position++;
                        Flush(result, text);
                        stop = Stop.Close;
                        return result;
                    }

                    Error = $"spintax: '}}' at position {position + 1} has no matching '{{'";
                    break;
                }

                text.Append(c);
                position++;
            }

            Flush(result, text);
            stop = Stop.End;
            return result;
        }

        private GroupNode? ParseGroup(int depth)
        {
            var offset = position;
            if (depth > MaxDepth)
            {
                Error = $"spintax: groups nest deeper than {MaxDepth} levels at position {offset + 1}";
                return null;
            }

            position++;
            var options = new List<IReadOnlyList<Node>>();
            while (true)
            {
                var option = ParseSequence(depth, inGroup: true, out var stop);
                if (Error is not null)
                {
                    return null;
                }

                options.Add(option);
                if (stop == Stop.Close)
                {
                    break;
                }

                if (stop == Stop.End)
                {
                    Error = $"spintax: '{{' at position {offset + 1} is never closed";
                    return null;
                }
            }

            HasGroups |= options.Count > 1;
            return new GroupNode(offset, options);
        }

        private static void Flush(List<Node> result, StringBuilder text)
        {
            if (text.Length > 0)
            {
                result.Add(new TextNode(text.ToString()));
                text.Clear();
            }
        }
    }
}
