using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using CsvHelper;

namespace Prospector.Core.Prospects;

/// <summary>The body formats an import accepts.</summary>
public enum ImportFormat
{
    /// <summary>text/csv: a header line, then one prospect per record.</summary>
    Csv,
    /// <summary>application/json: an array of prospect objects.</summary>
    Json,
    /// <summary>application/x-ndjson: one prospect object per line.</summary>
    Ndjson,
}

/// <summary>How to read an import: the CSV delimiter (null: detect) and explicit column mapping (standard field → header).</summary>
public sealed record ImportReadOptions(char? Delimiter, IReadOnlyDictionary<string, string> Map)
{
    /// <summary>Yield the same records without their values (a cheaper first pass that only counts).</summary>
    public bool CountOnly { get; init; }

    /// <summary>Detect the delimiter, map columns by name and alias.</summary>
    public static readonly ImportReadOptions Default = new(null, new Dictionary<string, string>());
}

/// <summary>One data record: its row number in the file and its values, or why the record itself is unreadable.</summary>
public sealed record ImportRecord(int Row, RawProspect? Prospect, string? Error);

/// <summary>The file as a whole cannot be imported (no header, no email or LinkedIn column, not JSON).</summary>
public sealed class ImportFileException(string message) : Exception(message);

/// <summary>
/// Streams prospects out of an upload, one record at a time (memory does not grow with the file). CSV through
/// CsvHelper (RFC 4180 quoting, delimiter detected from the header line among , ; tab |), JSON arrays and NDJSON through
/// System.Text.Json. UTF-8 with or without BOM. Row numbers are the file's: in CSV the header is row 1; in JSON the
/// first item is row 1; in NDJSON the line number.
/// </summary>
public static class ProspectImportReader
{
    /// <summary>Delimiters that detection chooses from.</summary>
    public static readonly IReadOnlyList<char> Delimiters = [',', ';', '\t', '|'];

    /// <summary>Cells that a spreadsheet would run as a formula; an export prefixes them with <c>'</c>.</summary>
    public static readonly IReadOnlyList<char> FormulaStarts = ['=', '+', '-', '@', '\t', '\r'];

    /// <summary>Reads every record of <paramref name="stream"/>.</summary>
    /// <exception cref="ImportFileException">The file cannot be imported at all (raised when reading reaches the problem).</exception>
    public static IAsyncEnumerable<ImportRecord> ReadAsync(Stream stream, ImportFormat format, ImportReadOptions options, CancellationToken ct = default)
        => format switch
        {
            ImportFormat.Csv => ReadCsvAsync(stream, options, ct),
            ImportFormat.Json => ReadJsonAsync(stream, options, ct),
            _ => ReadNdjsonAsync(stream, options, ct),
        };

    /// <summary>The candidate delimiter that occurs most often outside quotes in the header line (comma on a tie or none).</summary>
    public static char DetectDelimiter(string headerLine)
    {
        var counts = new int[Delimiters.Count];
        var quoted = false;
        foreach (var c in headerLine)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted)
            {
                for (var i = 0; i < Delimiters.Count; i++)
                {
                    if (c == Delimiters[i])
                    {
                        counts[i]++;
                    }
                }
            }
        }

        var best = 0;
        for (var i = 1; i < counts.Length; i++)
        {
            if (counts[i] > counts[best])
            {
                best = i;
            }
        }

        return Delimiters[best];
    }

    /// <summary>Undoes the export's formula escaping: <c>'=1+1</c> reads back as <c>=1+1</c>; other values are unchanged.</summary>
    public static string Unescape(string cell)
        => cell.Length > 1 && cell[0] == '\'' && FormulaStarts.Contains(cell[1]) ? cell[1..] : cell;

    /// <summary>Prefixes a cell that a spreadsheet would run as a formula with <c>'</c> (OWASP CSV injection).</summary>
    public static string Escape(string cell)
        => cell.Length > 0 && FormulaStarts.Contains(cell[0]) ? "'" + cell : cell;

    private static async IAsyncEnumerable<ImportRecord> ReadCsvAsync(Stream stream, ImportReadOptions options, [EnumeratorCancellation] CancellationToken ct)
    {
        using var text = new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024, leaveOpen: true);
        var headerLine = await text.ReadLineAsync(ct);
        if (string.IsNullOrWhiteSpace(headerLine))
        {
            throw new ImportFileException("the file is empty or has no header line");
        }

        var delimiter = options.Delimiter ?? DetectDelimiter(headerLine);
        var readerOptions = new CsvReaderOptions
        {
            Separator = delimiter,
            HasHeader = false,
            Mode = CsvMode.Rfc4180,
            SkipEmptyLines = true,
            TrackLineNumbers = true,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
            MissingField = CsvMissingFieldHandling.ReturnEmpty,
            MalformedData = CsvMalformedDataHandling.Skip,
        };

        string[] headers;
        await using (var headerReader = CsvReader.Create(new StringReader(headerLine), readerOptions, leaveOpen: false))
        {
            headers = await headerReader.ReadAsync(ct) ? headerReader.Current.ToArray() : [];
        }

        var columns = PlanColumns(headers.Select(h => h.Trim().TrimStart('\uFEFF')).ToArray(), options.Map);

        // Malformed records are skipped by the reader and reported here, in file order, before the next good record.
        var malformed = new Queue<ImportRecord>();
        var dataOptions = readerOptions with
        {
            OnMalformedRecord = m => malformed.Enqueue(new ImportRecord((int)m.LineNumber + 1, null, Describe(m.Reason))),
        };
        await using var reader = CsvReader.Create(text, dataOptions, leaveOpen: true);
        while (true)
        {
            var more = await reader.ReadAsync(ct);
            while (malformed.TryDequeue(out var error))
            {
                yield return error;
            }

            if (!more)
            {
                break;
            }

            var row = (int)reader.LineNumber + 1; // the header line was read before this reader started
            var count = reader.FieldCount;
            if (options.CountOnly)
            {
                if (count > columns.Length || !IsBlank(reader, count))
                {
                    yield return new ImportRecord(row, null, null);
                }

                continue;
            }

            var prospect = new RawProspect();
            var blank = true;
            for (var i = 0; i < count && i < columns.Length; i++)
            {
                var value = Unescape(reader.GetString(i));
                blank &= string.IsNullOrWhiteSpace(value);
                var (field, custom) = columns[i];
                if (field is not null)
                {
                    prospect[field] = value;
                }
                else if (custom is not null && !string.IsNullOrWhiteSpace(value))
                {
                    prospect.Custom[custom] = value;
                }
            }

            if (blank && count <= columns.Length)
            {
                continue;
            }

            yield return count != columns.Length
                ? new ImportRecord(row, null, $"has {count} fields, the header has {columns.Length}")
                : new ImportRecord(row, prospect, null);
        }
    }

    private static bool IsBlank(CsvReader reader, int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (!reader.IsEmpty(i) && !string.IsNullOrWhiteSpace(reader.GetString(i)))
            {
                return false;
            }
        }

        return true;
    }

    private static string Describe(CsvMalformedReason reason) => reason switch
    {
        CsvMalformedReason.UnterminatedQuote => "unterminated quoted field",
        CsvMalformedReason.StrayQuote or CsvMalformedReason.TextAfterClosingQuote => "malformed quoting",
        CsvMalformedReason.FieldCountMismatch => "wrong number of fields",
        _ => "malformed record",
    };

    private static async IAsyncEnumerable<ImportRecord> ReadJsonAsync(Stream stream, ImportReadOptions options, [EnumeratorCancellation] CancellationToken ct)
    {
        var row = 0;
        var items = JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(stream, topLevelValues: false, cancellationToken: ct).GetAsyncEnumerator(ct);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await items.MoveNextAsync();
                }
                catch (JsonException ex)
                {
                    throw new ImportFileException($"invalid JSON after item {row}: {ex.Message.Split(" Path:", 2)[0]}");
                }

                if (!more)
                {
                    break;
                }

                row++;
                yield return FromJson(row, items.Current, options.Map);
            }
        }
        finally
        {
            await items.DisposeAsync();
        }
    }

    private static async IAsyncEnumerable<ImportRecord> ReadNdjsonAsync(Stream stream, ImportReadOptions options, [EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024, leaveOpen: true);
        var row = 0;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            row++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonElement item;
            try
            {
                using var doc = JsonDocument.Parse(line);
                item = doc.RootElement.Clone();
            }
            catch (JsonException)
            {
                item = default;
            }

            yield return item.ValueKind == JsonValueKind.Undefined ? new ImportRecord(row, null, "is not valid JSON") : FromJson(row, item, options.Map);
        }
    }

    private static ImportRecord FromJson(int row, JsonElement item, IReadOnlyDictionary<string, string> map)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return new ImportRecord(row, null, "is not a JSON object");
        }

        var prospect = new RawProspect();
        foreach (var property in item.EnumerateObject())
        {
            if (property.NameEquals("customFields") || property.NameEquals("custom_fields"))
            {
                if (property.Value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                if (property.Value.ValueKind != JsonValueKind.Object)
                {
                    return new ImportRecord(row, null, "customFields must be an object");
                }

                foreach (var custom in property.Value.EnumerateObject())
                {
                    if (Text(custom.Value) is not { } text)
                    {
                        return new ImportRecord(row, null, $"customFields.{custom.Name} must be a text, number or boolean");
                    }

                    prospect.Custom[custom.Name] = text;
                }

                continue;
            }

            var value = property.Value.ValueKind == JsonValueKind.Null ? "" : Text(property.Value);
            if (value is null)
            {
                return new ImportRecord(row, null, $"{property.Name} must be a text, number or boolean");
            }

            var mapped = map.FirstOrDefault(m => string.Equals(m.Value, property.Name, StringComparison.OrdinalIgnoreCase)).Key;
            if ((mapped ?? ProspectFields.Resolve(property.Name)) is { } field)
            {
                prospect[field] = value;
            }
            else if (ProspectFields.CustomName(property.Name) is { } custom && value.Length > 0)
            {
                prospect.Custom[custom] = value;
            }
        }

        return new ImportRecord(row, prospect, null);
    }

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => null,
    };

    // Per column: the standard field it fills, or the custom field name, or neither (an empty header is ignored).
    private static (string? Field, string? Custom)[] PlanColumns(string[] headers, IReadOnlyDictionary<string, string> map)
    {
        var plan = new (string? Field, string? Custom)[headers.Length];
        foreach (var (field, header) in map)
        {
            var index = Array.FindIndex(headers, h => string.Equals(h, header.Trim(), StringComparison.OrdinalIgnoreCase));
            if (index < 0)
            {
                throw new ImportFileException($"the mapped column '{header}' (for {field}) is not in the header");
            }

            plan[index] = (field, null);
        }

        var mappedFields = map.Keys.ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < headers.Length; i++)
        {
            if (plan[i].Field is not null)
            {
                continue;
            }

            var field = ProspectFields.Resolve(headers[i]);
            plan[i] = field is not null && !mappedFields.Contains(field) ? (field, null) : (null, ProspectFields.CustomName(headers[i]));
        }

        var duplicate = plan.Where(p => p.Field is not null || p.Custom is not null)
            .GroupBy(p => p.Field is not null ? "field " + p.Field : "custom field " + p.Custom, StringComparer.Ordinal)
            .FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ImportFileException($"two columns mean the {duplicate.Key}; map one of them explicitly");
        }

        if (!plan.Any(p => p.Field is "email" or "linkedin_url"))
        {
            throw new ImportFileException("no email or linkedin_url column (map one with map.email=<header>)");
        }

        return plan;
    }
}
