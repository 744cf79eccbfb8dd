namespace Prospector.Core;

/// <summary>One problem with some input, located by a JSON-style path (<c>steps[2].body</c>) or a CSV row.</summary>
public sealed record ValidationError(string Path, string Message);
