using Prospector.Core;

namespace Prospector.Server.Apis;

/// <summary>Shared checks of text fields.</summary>
internal static class Fields
{
    /// <summary>
    /// A single-line text: required or not, at most <paramref name="max"/> characters, and no CR, LF or NUL (so it is safe
    /// in a mail header or a log line).
    /// </summary>
    public static void Text(string? value, string path, int max, bool required, List<ValidationError> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                errors.Add(new(path, "is required"));
            }
        }
        else if (value.Length > max)
        {
            errors.Add(new(path, $"at most {max} characters"));
        }
        else if (HasLineBreakOrNul(value))
        {
            errors.Add(new(path, "must not contain CR, LF or NUL"));
        }
    }

    /// <summary>True when the value contains CR, LF or NUL.</summary>
    public static bool HasLineBreakOrNul(string value) => value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0;
}
