using System.Text.RegularExpressions;
using Prospector.Core.Inbound;
using Xunit.Abstractions;

namespace Prospector.Core.Tests.Inbound;

/// <summary>
/// Runs the classifier over sisimai's public bounce set (Fixtures/bounces-sisimai, BSD-2-Clause) and checks
/// the rates against floors set just below what was measured, so that a regression fails.
/// Sisimai's answers follow its own vocabulary, not RFC 3464: its hardbounce flag is true only for a few
/// reasons (unknown user or host, moved), so "5.7.1 blocked" is soft there but permanent here; and where a bounce
/// has no status it invents X.0.9xx codes, which no MTA sends. Both comparisons are therefore reported twice.
/// </summary>
public class SisimaiBounceCorpusTests(ITestOutputHelper output)
{
    sealed record Expectation(string File, bool IsHard, IReadOnlySet<string> Statuses);

    [Fact]
    public void Classify_FindsBouncesWithSisimaiStatus_WhenRunOverCorpus()
    {
        var expectations = LoadExpectations();
        var detected = 0;
        var hardAgrees = 0;
        var hardOnlyHere = 0;
        var hardByStatusClass = 0;
        var statusCases = 0;
        var statusAgrees = 0;
        var standardStatusCases = 0;
        var standardStatusAgrees = 0;

        foreach (var expected in expectations)
        {
            var result = InboundClassifier.Classify(Mail.Load(Mail.FixturePath("bounces-sisimai", expected.File)));
            var name = Path.GetFileName(expected.File);
            if (result.Kind != InboundKind.Bounce || result.Bounce is not { } bounce)
            {
                output.WriteLine($"not a bounce: {name} -> {result.Kind} ({result.Reason})");
                continue;
            }

            detected++;
            if (bounce.IsHard == expected.IsHard)
                hardAgrees++;
            else if (bounce.IsHard && expected.Statuses.Any(s => s.StartsWith('5')))
                hardOnlyHere++;
            if (bounce.IsHard == expected.Statuses.Any(s => s.StartsWith('5')))
                hardByStatusClass++;
            else
                output.WriteLine($"hard={bounce.IsHard} but status class says otherwise: {name} {string.Join(',', expected.Statuses)} ({result.Reason})");

            if (expected.Statuses.Count == 0)
                continue;
            var agrees = bounce.Status is not null && expected.Statuses.Contains(bounce.Status);
            statusCases++;
            statusAgrees += agrees ? 1 : 0;
            if (expected.Statuses.Any(IsStandardStatus))
            {
                standardStatusCases++;
                standardStatusAgrees += agrees ? 1 : 0;
            }
            if (!agrees)
                output.WriteLine($"status {bounce.Status ?? "none"} != {string.Join(',', expected.Statuses)}: {name} ({result.Reason})");
        }

        var detection = Rate(detected, expectations.Count);
        var hard = Rate(hardAgrees, detected);
        var hardClass = Rate(hardByStatusClass, detected);
        var status = Rate(statusAgrees, statusCases);
        var standardStatus = Rate(standardStatusAgrees, standardStatusCases);
        output.WriteLine($"bounce detection {detected}/{expectations.Count} = {detection:P1}");
        output.WriteLine($"IsHard agrees with sisimai hardbounce {hardAgrees}/{detected} = {hard:P1} "
            + $"({hardOnlyHere} of the rest are 5.x.x failures that sisimai calls soft)");
        output.WriteLine($"IsHard agrees with sisimai status class (5.x.x) {hardByStatusClass}/{detected} = {hardClass:P1}");
        output.WriteLine($"status agrees {statusAgrees}/{statusCases} = {status:P1}");
        output.WriteLine($"status agrees where sisimai has a real RFC 3463 code {standardStatusAgrees}/{standardStatusCases} = {standardStatus:P1}");

        Assert.True(detection >= 0.983, $"bounce detection {detection:P1}");
        Assert.True(hard >= 0.454, $"hard agreement {hard:P1}");
        Assert.True(hardClass >= 0.972, $"hard vs status class {hardClass:P1}");
        Assert.True(status >= 0.737, $"status agreement {status:P1}");
        Assert.True(standardStatus >= 0.948, $"status agreement on real codes {standardStatus:P1}");
    }

    [Theory]
    [InlineData("is-not-bounce-01.eml")]
    [InlineData("is-not-bounce-02.eml")]
    public void Classify_IsNotBounce_WhenCorpusSaysNotABounce(string file)
    {
        var result = InboundClassifier.Classify(Mail.Load(Mail.FixturePath("bounces-sisimai", "set-of-emails", "maildir", "not", file)));

        Assert.NotEqual(InboundKind.Bounce, result.Kind);
    }

    [Theory]
    [InlineData("rfc3834-01.eml")]
    [InlineData("rfc3834-02.eml")]
    [InlineData("rfc3834-03.eml")]
    [InlineData("rfc3834-04.eml")]
    [InlineData("rfc3834-05.eml")]
    public void Classify_ReturnsAutoReply_WhenCorpusSaysVacation(string file)
    {
        var result = InboundClassifier.Classify(Mail.Load(Mail.FixturePath("bounces-sisimai", "set-of-emails", "maildir", "bsd", file)));

        Assert.Equal(InboundKind.AutoReply, result.Kind);
    }

    // Rows with a hard-bounce flag or a status; files with several recipients are judged as a whole.
    static List<Expectation> LoadExpectations() =>
        File.ReadLines(Mail.FixturePath("bounces-sisimai", "expected.tsv"))
            .Skip(1)
            .Select(line => line.Split('\t'))
            .Where(c => c[5] == "true" || c[2].Length > 0)
            .GroupBy(c => c[0])
            .Select(g => new Expectation(g.Key, g.Any(c => c[5] == "true"), g.Select(c => c[2]).Where(s => s.Length > 0).ToHashSet()))
            .ToList();

    // Sisimai's own X.0.9xx codes stand for a reason, not for anything an MTA said.
    static bool IsStandardStatus(string status) => !Regex.IsMatch(status, @"^\d\.0\.9\d\d$");

    static double Rate(int count, int total) => total == 0 ? 0 : (double)count / total;
}
