using System.Text.RegularExpressions;
using MimeKit;

namespace Prospector.Core.Inbound;

/// <summary>
/// Finds the text a person actually wrote in a reply: quoted lines, the attribution line above them
/// ("On … wrote:" and localized forms), forwarded/original-message blocks, Outlook header blocks, and everything
/// from a "-- " signature delimiter or a "Sent from my iPhone" line on are removed.
/// </summary>
internal static partial class ReplyTextExtractor
{
    const int MaxHeaderLines = 5;
    const int MaxHeaderChars = 400;

    public static string Extract(MimeMessage message) =>
        VisibleText(message.TextBody ?? (message.HtmlBody is { } html ? HtmlText.ToPlainText(html) : ""));

    public static string VisibleText(string text)
    {
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        var attributions = FindAttributions(lines);
        var kept = new List<string>();

        for (var i = 0; i < lines.Length;)
        {
            if (attributions.TryGetValue(i, out var end))
            {
                // An attribution above a ">" block only introduces that block: the person may go on writing
                // below it. Without ">" markers, everything after the attribution is the quoted message.
                var next = NextNonBlank(lines, end + 1);
                if (next == lines.Length || !IsQuoted(lines[next]))
                    break;
                i = next;
            }
            else if (IsQuoted(lines[i]))
            {
                i = SkipQuotedBlock(lines, i);
            }
            else if (StartsQuotedTail(lines, i))
            {
                DropHeaderLikeLines(kept);
                break;
            }
            else
            {
                kept.Add(lines[i].TrimEnd());
                i++;
            }
        }

        TrimTrailingNoise(kept);
        return string.Join('\n', kept.SkipWhile(string.IsNullOrWhiteSpace));
    }

    /// <summary>
    /// Attribution lines, keyed by first line, valued by last line. A header can wrap over several lines
    /// (long names and addresses), so for each line we look back at most <see cref="MaxHeaderLines"/> lines and
    /// keep the shortest window that reads as an attribution.
    /// </summary>
    static Dictionary<int, int> FindAttributions(string[] lines)
    {
        var found = new Dictionary<int, int>();
        for (var end = 0; end < lines.Length; end++)
        {
            var line = lines[end];
            if (string.IsNullOrWhiteSpace(line) || line.Length > MaxHeaderChars || (IsQuoted(line) && !QuotedClosing().IsMatch(line)))
                continue;

            var next = NextNonBlank(lines, end + 1);
            var followedByQuote = next < lines.Length && IsQuoted(lines[next]);
            // Cheap test first: every attribution ends with a colon or its verb, or sits right above a ">" block.
            if (!followedByQuote && !EndsWithColon(line) && !VerbAtEnd().IsMatch(line))
                continue;

            for (var start = end; start > end - MaxHeaderLines && start >= 0; start--)
            {
                if (start < end && IsQuoted(lines[start]))
                    break;
                if (!CanStartHeader(lines[start]))
                    continue;

                var window = string.Join(' ', lines[start..(end + 1)].Select(l => l.Trim()));
                if (window.Length > MaxHeaderChars)
                    break;
                if (IsAttribution(window, end - start + 1, followedByQuote))
                {
                    found.TryAdd(start, end);
                    break;
                }
            }
        }
        return found;
    }

    static bool IsAttribution(string window, int lineCount, bool followedByQuote)
    {
        var text = window.Trim();
        var hasDigit = text.Any(char.IsDigit);
        var hasAddress = Address().IsMatch(text);
        var endsWithColon = EndsWithColon(text);

        // "On <date>, <name> <address> wrote:" and its translations; the verb alone ("Something wrote:") is not enough.
        // "Am <date> um 10:55 schrieb <name>:", where the verb sits in the middle.
        // "2014-03-20 8:48 GMT+01:00 Name <address>:", the date-only form Gmail uses in several languages.
        // Any dated line with an address or a colon right above a ">" block.
        return (VerbAtEnd().IsMatch(text) && (hasAddress || TimeOfDay().IsMatch(text) || (hasDigit && OnPrefix().IsMatch(text))))
            || (Verb().IsMatch(text) && endsWithColon && TimeOfDay().IsMatch(text))
            || (lineCount <= 3 && endsWithColon && hasDigit && hasAddress)
            || (followedByQuote && lineCount <= 2 && hasDigit && (endsWithColon || hasAddress));
    }

    static bool EndsWithColon(string line)
    {
        var trimmed = line.TrimEnd();
        return trimmed.EndsWith(':') || trimmed.EndsWith('：');
    }

    // A wrapped header never starts with the address or bracket that a client pushed onto the next line.
    static bool CanStartHeader(string line) =>
        !string.IsNullOrWhiteSpace(line) && !WrappedContinuation().IsMatch(line);

    static bool StartsQuotedTail(string[] lines, int i)
    {
        var line = lines[i];
        if (SignatureDelimiter().IsMatch(line) || UnderscoreRule().IsMatch(line) || DashedTitle().IsMatch(line)
            || ForwardedIntro().IsMatch(line) || IsMobileSignature(line))
            return true;

        if (!FromOrDateField().IsMatch(line))
            return false;
        for (var j = i + 1; j < Math.Min(lines.Length, i + 5); j++)
        {
            if (AnyHeaderField().IsMatch(lines[j]))
                return true;
        }
        return false;
    }

    static int SkipQuotedBlock(string[] lines, int i)
    {
        while (i < lines.Length && IsQuoted(lines[i]))
            i++;
        return NextNonBlank(lines, i);
    }

    // Lines such as "Message du : 12/12/2016" directly above an Outlook header block belong to it.
    static void DropHeaderLikeLines(List<string> kept)
    {
        while (kept.Count > 0 && HeaderLike().IsMatch(kept[^1]))
            kept.RemoveAt(kept.Count - 1);
    }

    static void TrimTrailingNoise(List<string> kept)
    {
        while (kept.Count > 0 && SeparatorOnly().IsMatch(kept[^1]))
            kept.RemoveAt(kept.Count - 1);
    }

    static int NextNonBlank(string[] lines, int from)
    {
        while (from < lines.Length && string.IsNullOrWhiteSpace(lines[from]))
            from++;
        return from;
    }

    static bool IsQuoted(string line) => line.TrimStart().StartsWith('>');

    // "Sent from my iPhone": mobile clients put it between the reply and the quoted message.
    static bool IsMobileSignature(string line) =>
        SentFrom().IsMatch(line) && line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length <= 8;

    const string Verbs =
        "wrote|writes|sent|schrieb|a écrit|a ecrit|escribió|escribio|ha escrit|escreveu|ha scritto|scrisse|skrev|schreef|"
        + "geschreven|napisał|napisal|pisze|написал|написала|написав|írta|kirjoitti|yazdı|đã viết|写道|寫道|작성|のメッセージ";

    [GeneratedRegex(@"(?:^|[\s>])(?:" + Verbs + @")\s*[:：]?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex VerbAtEnd();

    [GeneratedRegex(@"(?:^|\s)(?:" + Verbs + @")(?:\s|[:：]|$)", RegexOptions.IgnoreCase)]
    private static partial Regex Verb();

    [GeneratedRegex(@"^[\s*-]*On\s")]
    private static partial Regex OnPrefix();

    [GeneratedRegex(@"\b\d{1,2}:\d{2}\b")]
    private static partial Regex TimeOfDay();

    [GeneratedRegex(@"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")]
    private static partial Regex Address();

    [GeneratedRegex(@"^\s*(?:<|\(|mailto:|[\w.+'-]+@[\w-]+\.)", RegexOptions.IgnoreCase)]
    private static partial Regex WrappedContinuation();

    // Gmail sometimes wraps "<address\n>" so that the closing line starts with ">": "> wrote:" or ">:".
    [GeneratedRegex(@"^\s*>\s*\p{L}*\s*[:：]\s*$")]
    private static partial Regex QuotedClosing();

    [GeneratedRegex(@"^--\s*$")]
    private static partial Regex SignatureDelimiter();

    [GeneratedRegex(@"^\s*_{2,}\s*$")]
    private static partial Regex UnderscoreRule();

    // "-----Original Message-----", "---------- Forwarded message ----------", "---- John wrote ----".
    [GeneratedRegex(@"^\s*-{2,}\s*\p{L}.*-{2,}\s*$")]
    private static partial Regex DashedTitle();

    [GeneratedRegex(@"^\s*Begin forwarded message:", RegexOptions.IgnoreCase)]
    private static partial Regex ForwardedIntro();

    const string FromOrDateNames =
        "From|De|Von|Van|Da|Fra|Från|Od|От|Feladó|Lähettäjä|Kimden|Date|Sent|Envoyé|Envoyé le|Gesendet|Datum|Enviado|"
        + "Enviada|Inviato|Sendt|Skickat|Verzonden|Wysłano|Отправлено|Fecha|Data|Dato|发件人|发送时间|寄件者|差出人|送信日時";

    const string OtherFieldNames =
        "To|Cc|Subject|À|A|An|Aan|Para|Til|Till|Do|Кому|Per|Objet|Betreff|Onderwerp|Asunto|Oggetto|Emne|Ämne|Temat|"
        + "Assunto|Тема|Copie à|Reply-To|收件人|抄送|主题|收件者|主旨|宛先|件名";

    [GeneratedRegex(@"^\s*\*?(?:" + FromOrDateNames + @")\s*\*?\s*[:：]", RegexOptions.IgnoreCase)]
    private static partial Regex FromOrDateField();

    [GeneratedRegex(@"^\s*\*?(?:" + FromOrDateNames + "|" + OtherFieldNames + @")\s*\*?\s*[:：]", RegexOptions.IgnoreCase)]
    private static partial Regex AnyHeaderField();

    [GeneratedRegex(@"^\s*\p{L}[\p{L} ]{0,20}\s*:\s+\S")]
    private static partial Regex HeaderLike();

    [GeneratedRegex(@"^[\s=_*~-]*$")]
    private static partial Regex SeparatorOnly();

    [GeneratedRegex(@"^\s*(?:Sent from|Sent with|Sent via|Get Outlook for|Envoyé de|Envoyé depuis|Envoyé à partir de|"
        + @"Gesendet von|Von meinem|Enviado desde|Enviado de|Inviato da|Verzonden met|Skickat från|Sendt fra)\b", RegexOptions.IgnoreCase)]
    private static partial Regex SentFrom();
}
