using System.Text;

namespace Prospector.Core.Prospects;

/// <summary>One CSV data row that could not be imported. Row 1 is the header, so the first data row is row 2.</summary>
public sealed record CsvRowError(int Row, string Field, string Message);

/// <summary>
/// Reads prospects from CSV (RFC 4180 quoting, comma or semicolon detected from the header, UTF-8 with or without
/// BOM). Standard columns are matched loosely ("First Name", "first_name", "firstname"); every other column becomes a
/// custom field. Bad rows are reported and skipped; good rows are returned.
/// </summary>
public static class CsvProspectReader
{
    /// <summary>Maximum data rows per synchronous import.</summary>
    public const int MaxRows = 50_000;

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["email"] = "email", ["emailaddress"] = "email", ["mail"] = "email",
        ["firstname"] = "first_name", ["givenname"] = "first_name",
        ["lastname"] = "last_name", ["surname"] = "last_name", ["familyname"] = "last_name",
        ["company"] = "company", ["companyname"] = "company", ["organization"] = "company",
        ["companydomain"] = "company_domain", ["domain"] = "company_domain", ["website"] = "company_domain",
        ["timezone"] = "time_zone", ["tz"] = "time_zone",
    };

    /// <summary>Parses the whole text. Structural problems (no header, no email column) come back as row-1 errors.</summary>
    public static (IReadOnlyList<(int Row, ProspectInput Prospect)> Prospects, IReadOnlyList<CsvRowError> Errors) Read(TextReader reader)
    {
        var prospects = new List<(int, ProspectInput)>();
        var errors = new List<CsvRowError>();
        var records = ReadRecords(reader).GetEnumerator();
        if (!records.MoveNext())
        {
            errors.Add(new(1, "header", "the file is empty"));
            return (prospects, errors);
        }

        var header = records.Current.Fields;
        var columns = header.Select(h => MapColumn(h.Trim().TrimStart('\uFEFF'))).ToArray();
        if (!columns.Contains("email"))
        {
            errors.Add(new(1, "header", "no email column"));
            return (prospects, errors);
        }

        var duplicate = columns.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            errors.Add(new(1, "header", $"column '{duplicate.Key}' appears twice"));
            return (prospects, errors);
        }

        while (records.MoveNext())
        {
            var (row, fields, error) = records.Current;
            if (error is not null)
            {
                errors.Add(new(row, "row", error));
                continue;
            }

            if (fields.All(string.IsNullOrWhiteSpace))
            {
                continue;
            }

            if (prospects.Count + errors.Count >= MaxRows)
            {
                errors.Add(new(row, "row", $"more than {MaxRows} rows; split the file"));
                break;
            }

            if (fields.Count != columns.Length)
            {
                errors.Add(new(row, "row", $"has {fields.Count} fields, the header has {columns.Length}"));
                continue;
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            var custom = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < columns.Length; i++)
            {
                if (ProspectValidation.StandardFields.Contains(columns[i]))
                {
                    values[columns[i]] = fields[i];
                }
                else if (!string.IsNullOrWhiteSpace(fields[i]))
                {
                    custom[columns[i]] = fields[i];
                }
            }

            var (prospect, problems) = ProspectValidation.Validate(
                "", Get("email"), Get("first_name"), Get("last_name"), Get("company"), Get("company_domain"), Get("time_zone"), custom);
            if (prospect is null)
            {
                errors.AddRange(problems.Select(p => new CsvRowError(row, p.Path, p.Message)));
            }
            else
            {
                prospects.Add((row, prospect));
            }

            string? Get(string name) => values.TryGetValue(name, out var v) ? v : null;
        }

        return (prospects, errors);
    }

    private static string MapColumn(string header)
    {
        var key = new string(header.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant();
        return Aliases.TryGetValue(key, out var standard) ? standard
            : header.Replace(' ', '_').Replace('-', '_');
    }

    private static IEnumerable<(int Row, IReadOnlyList<string> Fields, string? Error)> ReadRecords(TextReader reader)
    {
        char? delimiter = null;
        var row = 0;
        var fields = new List<string>();
        var field = new StringBuilder();
        var inQuotes = false;
        var quotedField = false;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            if (!inQuotes)
            {
                row++;
                delimiter ??= line.Count(c => c == ';') > line.Count(c => c == ',') ? ';' : ',';
            }
            else
            {
                field.Append('\n');
            }

            for (var i = 0; i < line.Length; i++)
            {
                var ch = line[i];
                if (inQuotes)
                {
                    if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"')
                    {
                        field.Append('"');
                        i++;
                    }
                    else if (ch == '"')
                    {
                        inQuotes = false;
                    }
                    else
                    {
                        field.Append(ch);
                    }
                }
                else if (ch == '"' && field.Length == 0 && !quotedField)
                {
                    inQuotes = true;
                    quotedField = true;
                }
                else if (ch == delimiter)
                {
                    fields.Add(field.ToString());
                    field.Clear();
                    quotedField = false;
                }
                else
                {
                    field.Append(ch);
                }
            }

            if (inQuotes)
            {
                continue;
            }

            fields.Add(field.ToString());
            yield return (row, fields.ToArray(), null);
            fields.Clear();
            field.Clear();
            quotedField = false;
        }

        if (inQuotes)
        {
            yield return (row, [], "unterminated quoted field");
        }
    }
}
