using System.Text.Json;
using System.Text.RegularExpressions;
using MimeKit;
using Prospector.Core.Inbound;
using Xunit.Abstractions;

namespace Prospector.Core.Tests.Inbound;

/// <summary>
/// Checks <see cref="InboundClassification.ReplyText"/> against the answers of two public reply corpora
/// (Fixtures/replies-talon, Apache-2.0; Fixtures/replies-email-reply-parser, MIT). The corpora disagree with
/// each other in places, so the tests assert floors just below the measured accuracy, not 100 %.
/// </summary>
public class ReplyTextCorpusTests(ITestOutputHelper output)
{
    [Fact]
    public void Classify_ExtractsReplyText_WhenRunOverEmailReplyParserCorpus()
    {
        var rows = File.ReadLines(Mail.FixturePath("replies-email-reply-parser", "expected.tsv")).Skip(1).Select(l => l.Split('\t')).ToList();
        var passed = new Dictionary<string, int>();
        var total = new Dictionary<string, int>();
        var misclassified = new List<string>();

        foreach (var row in rows)
        {
            var (fixture, expected, compare) = (row[0], JsonSerializer.Deserialize<string>(row[1])!, row[2]);
            var body = File.ReadAllText(Mail.FixturePath("replies-email-reply-parser", "fixtures", fixture));
            var result = InboundClassifier.Classify(Mail.Reply(body));
            if (result.Kind != InboundKind.HumanReply)
                misclassified.Add($"{fixture}: {result.Kind}");
            var actual = Mail.Normalize(result.ReplyText);
            var ok = compare switch
            {
                "exact" => actual == Mail.Normalize(expected),
                "startswith" => actual.StartsWith(Mail.Normalize(expected), StringComparison.Ordinal),
                _ => Regex.IsMatch(actual, expected),
            };

            total[compare] = total.GetValueOrDefault(compare) + 1;
            passed[compare] = passed.GetValueOrDefault(compare) + (ok ? 1 : 0);
            if (!ok)
                output.WriteLine($"{compare} miss {fixture}: {JsonSerializer.Serialize(actual)}");
        }

        foreach (var compare in total.Keys)
            output.WriteLine($"{compare}: {passed[compare]}/{total[compare]} = {Rate(passed[compare], total[compare]):P1}");
        var accuracy = Rate(passed.Values.Sum(), rows.Count);
        output.WriteLine($"all: {passed.Values.Sum()}/{rows.Count} = {accuracy:P1}");

        Assert.Empty(misclassified);
        Assert.True(accuracy >= 0.973, $"email-reply-parser accuracy {accuracy:P1}");
    }

    [Fact]
    public void Classify_ExtractsReplyText_WhenRunOverTalonCorpus()
    {
        var cases = TalonCases().ToList();
        var passed = 0;
        foreach (var (name, message, expected, ignoreWhitespace) in cases)
        {
            var actual = Mail.Normalize(InboundClassifier.Classify(message).ReplyText);
            var ok = ignoreWhitespace ? Squash(actual) == Squash(expected) : actual == Mail.Normalize(expected);
            passed += ok ? 1 : 0;
            if (!ok)
                output.WriteLine($"miss {name}: {JsonSerializer.Serialize(actual)}");
        }

        var accuracy = Rate(passed, cases.Count);
        output.WriteLine($"talon: {passed}/{cases.Count} = {accuracy:P1}");

        Assert.True(accuracy >= 0.912, $"talon accuracy {accuracy:P1}");
    }

    // Standard replies (.eml, exact), HTML replies (whitespace ignored, as talon compares them) and the
    // inline plain-text cases of talon's text_quotations_test.py. The signature rows need talon's
    // sender-aware signature model and are out of scope.
    static IEnumerable<(string Name, MimeMessage Message, string Expected, bool IgnoreWhitespace)> TalonCases()
    {
        foreach (var row in File.ReadLines(Mail.FixturePath("replies-talon", "expected.tsv")).Skip(1).Select(l => l.Split('\t')))
        {
            var (file, expected) = (row[0], row[2].Replace("\\n", "\n", StringComparison.Ordinal));
            var path = Mail.FixturePath(["replies-talon", .. file.Split('/')]);
            if (file.EndsWith(".eml", StringComparison.Ordinal))
                yield return (file, AsReply(Mail.Load(path)), expected, false);
            else if (file.EndsWith(".html", StringComparison.Ordinal))
                yield return (file, Mail.Reply(File.ReadAllText(path), "html"), expected, true);
        }

        var line = 0;
        foreach (var json in File.ReadLines(Mail.FixturePath("replies-talon", "inline_cases", "text_quotations_cases.jsonl")))
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            yield return ($"inline {++line} {root.GetProperty("test").GetString()}", Mail.Reply(root.GetProperty("input").GetString()!),
                root.GetProperty("expected_reply").GetString()!, false);
        }
    }

    // The corpus messages lost their threading headers; without one they would be classified Other (no ReplyText).
    static MimeMessage AsReply(MimeMessage message)
    {
        message.InReplyTo ??= "original@talon.test";
        return message;
    }

    static string Squash(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c)));

    static double Rate(int count, int total) => total == 0 ? 0 : (double)count / total;
}
