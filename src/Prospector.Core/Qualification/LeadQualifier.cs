using Prospector.Core.Inbound;

namespace Prospector.Core.Qualification;

/// <summary>What the qualifier knows about a responder.</summary>
/// <param name="Kind">How the inbound message was classified.</param>
/// <param name="ReplyText">The visible reply text (quotes removed).</param>
/// <param name="Email">The prospect's address (for the free-mail check only).</param>
/// <param name="CompanyDomain">The prospect's company domain, if known.</param>
/// <param name="Title">The prospect's job title, if known.</param>
public sealed record QualificationInput(InboundKind Kind, string? ReplyText, string Email, string? CompanyDomain, string? Title);

/// <summary>One rule that fired, with the points it gave (negative for a penalty).</summary>
public sealed record QualificationReason(string Rule, int Points, string Explanation);

/// <summary>The decision and every rule that contributed to it.</summary>
public sealed record QualificationResult(int Score, bool Qualified, int Threshold, IReadOnlyList<QualificationReason> Reasons);

/// <summary>
/// First, deliberately simple rule set: intent from the reply text (positive, meeting request, negative) plus fit
/// (a company domain that is not free mail, a senior title). Every point is explained.
/// </summary>
public static class LeadQualifier
{
    /// <summary>Score at or above which a lead is pushed to the CRM.</summary>
    public const int DefaultThreshold = 60;

    private static readonly string[] Positive =
    [
        "interested", "sounds good", "sounds great", "tell me more", "let's talk", "lets talk", "keen", "curious",
        "love to", "happy to", "makes sense", "intéressé", "interessiert", "interesado",
    ];

    private static readonly string[] Meeting =
    [
        "call", "meeting", "meet", "demo", "schedule", "calendar", "book a", "next week", "tomorrow", "available",
        "pricing", "quote", "appel", "rendez-vous", "termin",
    ];

    private static readonly string[] Negative =
    [
        "not interested", "no thanks", "no thank you", "not a fit", "wrong person", "not the right person",
        "don't contact", "do not contact", "stop emailing", "remove me", "unsubscribe", "pas intéressé", "kein interesse",
    ];

    private static readonly string[] SeniorTitles =
    [
        "ceo", "cto", "cfo", "coo", "cmo", "cro", "chief", "founder", "owner", "president", "vp", "vice president",
        "head", "director", "directeur", "partner",
    ];

    private static readonly HashSet<string> FreeMailDomains = new(StringComparer.OrdinalIgnoreCase)
    {
        "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "aol.com", "icloud.com",
        "gmx.com", "gmx.de", "web.de", "orange.fr", "free.fr", "laposte.net", "proton.me", "protonmail.com",
    };

    /// <summary>Scores one responder.</summary>
    public static QualificationResult Evaluate(QualificationInput input, int threshold = DefaultThreshold)
    {
        var reasons = new List<QualificationReason>();
        if (input.Kind != InboundKind.HumanReply)
        {
            reasons.Add(new("not_a_reply", 0, $"message classified as {input.Kind}, only human replies qualify"));
            return new QualificationResult(0, false, threshold, reasons);
        }

        reasons.Add(new("replied", 40, "the prospect replied"));
        var text = (input.ReplyText ?? string.Empty).ToLowerInvariant();

        var negative = FirstMatch(text, Negative);
        if (negative is not null)
        {
            reasons.Add(new("negative_intent", -60, $"reply says \"{negative}\""));
        }
        else
        {
            if (FirstMatch(text, Positive) is { } positive)
            {
                reasons.Add(new("positive_intent", 30, $"reply says \"{positive}\""));
            }

            if (FirstMatch(text, Meeting) is { } meeting)
            {
                reasons.Add(new("meeting_intent", 20, $"reply mentions \"{meeting}\""));
            }
        }

        var domain = !string.IsNullOrWhiteSpace(input.CompanyDomain) ? input.CompanyDomain : Prospects.EmailAddress.Domain(input.Email);
        if (!FreeMailDomains.Contains(domain))
        {
            reasons.Add(new("business_domain", 10, "company domain is not a free mail provider"));
        }

        if (!string.IsNullOrWhiteSpace(input.Title) && FirstWord(input.Title.ToLowerInvariant(), SeniorTitles) is { } title)
        {
            reasons.Add(new("senior_title", 10, $"title contains \"{title}\""));
        }

        var score = Math.Clamp(reasons.Sum(r => r.Points), 0, 100);
        return new QualificationResult(score, score >= threshold, threshold, reasons);
    }

    // Whole words only: "call" must not fire on "recall".
    private static string? FirstMatch(string text, string[] phrases)
        => phrases.FirstOrDefault(p => System.Text.RegularExpressions.Regex.IsMatch(
            text, $@"(?<!\w){System.Text.RegularExpressions.Regex.Escape(p)}(?!\w)", System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)));

    private static string? FirstWord(string text, string[] words)
    {
        var tokens = text.Split([' ', ',', '/', '-', '&', '.', '(', ')'], StringSplitOptions.RemoveEmptyEntries);
        return words.FirstOrDefault(w => w.Contains(' ', StringComparison.Ordinal)
            ? text.Contains(w, StringComparison.Ordinal)
            : tokens.Contains(w, StringComparer.Ordinal));
    }
}
