using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit.Text;
using Prospector.Core.Templates;

namespace Prospector.Core.Email;

/// <summary>What the footer of every email carries (CAN-SPAM: a valid postal address and a working opt-out).</summary>
/// <param name="Enabled">False: no footer at all (the List-Unsubscribe header is still sent).</param>
/// <param name="PostalAddress">The workspace's postal address (several lines allowed), or null.</param>
/// <param name="Text">
/// The opt-out wording; <c>{unsubscribe}</c> in it becomes the link (a URL in the text part, an anchor in HTML). Null:
/// the default wording. Without an unsubscribe URL the wording asks for a reply instead.
/// </param>
public sealed record FooterSettings(bool Enabled = true, string? PostalAddress = null, string? Text = null);

/// <summary>Everything that shapes one outgoing body besides the rendered template.</summary>
/// <param name="Signature">The mailbox's signature (plain text, or HTML when it looks like HTML); null for none.</param>
/// <param name="AppendSignature">False when the template placed <c>{{ sender.signature }}</c> itself.</param>
/// <param name="Footer">The footer settings of the workspace.</param>
/// <param name="UnsubscribeUrl">The one-click URL (RFC 8058), or null when no public base URL is configured.</param>
/// <param name="UnsubscribeMailto">The address that takes unsubscribe mails (the sending mailbox), or null.</param>
/// <param name="OpenPixelUrl">The open pixel (tracking on), or null.</param>
/// <param name="ClickUrl">Rewrites a link target into its tracked redirect (tracking on), or null.</param>
public sealed record ComposeOptions(
    string? Signature,
    bool AppendSignature,
    FooterSettings Footer,
    string? UnsubscribeUrl,
    string? UnsubscribeMailto,
    string? OpenPixelUrl = null,
    Func<string, string?>? ClickUrl = null);

/// <summary>The two alternative bodies and the list headers of one email.</summary>
public sealed record ComposedEmail(string TextBody, string HtmlBody, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// Builds both parts of a multipart/alternative email from ONE rendered template: a plain-text template gets an HTML
/// twin (encoded, paragraphs, links made clickable); an HTML template gets a plain-text twin (links kept as
/// "text &lt;url&gt;"). Then the signature, the footer (postal address, opt-out), the RFC 8058 List-Unsubscribe
/// headers and, when asked, the open pixel and tracked links (HTML part only; the text part keeps the real URLs).
/// Pure: no clock, no I/O.
/// </summary>
public static partial class MessageComposer
{
    /// <summary>The footer's default opt-out wording.</summary>
    public const string DefaultFooterText = "Don't want to hear from me again? Unsubscribe: {unsubscribe}";

    private const string UnsubscribeToken = "{unsubscribe}";

    /// <summary>True when a template or signature is HTML rather than plain text (it contains common HTML tags).</summary>
    public static bool LooksLikeHtml(string? text) => text is not null && HtmlTag().IsMatch(text);

    /// <summary>How a body template renders: HTML (data values encoded) when it is HTML, else plain text.</summary>
    public static TemplateFormat BodyFormat(string template) => LooksLikeHtml(template) ? TemplateFormat.Html : TemplateFormat.Text;

    /// <summary>True when the template places the signature itself (<c>{{ sender.signature }}</c>): then it is not appended.</summary>
    public static bool PlacesSignature(string template) => template.Contains("sender.signature", StringComparison.Ordinal);

    /// <summary>Composes the bodies and headers of one email from the rendered template <paramref name="body"/>.</summary>
    public static ComposedEmail Compose(string body, ComposeOptions options)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(options);

        string text, html;
        if (LooksLikeHtml(body))
        {
            html = body.Trim();
            text = ToText(html);
        }
        else
        {
            text = Normalize(body);
            html = ToHtml(text);
        }

        if (options.AppendSignature && !string.IsNullOrWhiteSpace(options.Signature))
        {
            var (signatureText, signatureHtml) = LooksLikeHtml(options.Signature)
                ? (ToText(options.Signature), options.Signature.Trim())
                : (Normalize(options.Signature), ToHtml(Normalize(options.Signature)));

            // RFC 3676's "-- " delimiter: mail clients (and reply parsers) know what follows is a signature.
            text += "\n\n-- \n" + signatureText;
            html += "<div class=\"signature\">" + signatureHtml + "</div>";
        }

        if (options.ClickUrl is { } click)
        {
            html = TrackLinks(html, click);
        }

        if (options.Footer.Enabled)
        {
            var (footerText, footerHtml) = Footer(options.Footer, options.UnsubscribeUrl);
            if (footerText.Length > 0)
            {
                text += "\n\n" + footerText;
                html += "<div class=\"footer\" style=\"margin-top:24px;font-size:12px;color:#777777\">" + footerHtml + "</div>";
            }
        }

        if (options.OpenPixelUrl is { } pixel)
        {
            html += $"<img src=\"{WebUtility.HtmlEncode(pixel)}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;width:1px;height:1px;border:0\">";
        }

        return new ComposedEmail(text.TrimEnd() + "\n", $"<div dir=\"auto\">{html}</div>", ListHeaders(options.UnsubscribeUrl, options.UnsubscribeMailto));
    }

    /// <summary>
    /// RFC 2369 / RFC 8058 headers: <c>List-Unsubscribe</c> with the one-click URL and a mailto, and
    /// <c>List-Unsubscribe-Post: List-Unsubscribe=One-Click</c> when there is a URL to POST to.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ListHeaders(string? unsubscribeUrl, string? unsubscribeMailto)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var targets = new List<string>();
        if (unsubscribeUrl is not null)
        {
            targets.Add($"<{unsubscribeUrl}>");
        }

        if (unsubscribeMailto is not null)
        {
            targets.Add($"<mailto:{unsubscribeMailto}?subject=unsubscribe>");
        }

        if (targets.Count > 0)
        {
            headers["List-Unsubscribe"] = string.Join(", ", targets);
        }

        if (unsubscribeUrl is not null)
        {
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
        }

        return headers;
    }

    private static (string Text, string Html) Footer(FooterSettings footer, string? unsubscribeUrl)
    {
        var wording = string.IsNullOrWhiteSpace(footer.Text) ? DefaultFooterText : Normalize(footer.Text);
        string textLine, htmlLine;
        if (unsubscribeUrl is not null)
        {
            if (!wording.Contains(UnsubscribeToken, StringComparison.Ordinal))
            {
                wording += " " + UnsubscribeToken;
            }

            textLine = wording.Replace(UnsubscribeToken, unsubscribeUrl, StringComparison.Ordinal);
            var parts = wording.Split(UnsubscribeToken);
            var anchor = $"<a href=\"{WebUtility.HtmlEncode(unsubscribeUrl)}\">unsubscribe</a>";
            htmlLine = string.Join(anchor, parts.Select(p => LineBreaks(WebUtility.HtmlEncode(p))));
        }
        else
        {
            // No public endpoint configured: the opt-out is a reply (the mailbox sync recognises it).
            textLine = wording.Contains(UnsubscribeToken, StringComparison.Ordinal)
                ? wording.Replace(UnsubscribeToken, "reply with \"unsubscribe\"", StringComparison.Ordinal)
                : wording;
            htmlLine = LineBreaks(WebUtility.HtmlEncode(textLine));
        }

        var postal = string.IsNullOrWhiteSpace(footer.PostalAddress) ? null : Normalize(footer.PostalAddress);
        var text = postal is null ? textLine : postal + "\n" + textLine;
        var html = postal is null ? htmlLine : LineBreaks(WebUtility.HtmlEncode(postal)) + "<br>" + htmlLine;
        return (text, html);
    }

    // Only http(s) anchors are tracked; mailto:, tel: and the unsubscribe link (added after this runs) are left alone.
    private static string TrackLinks(string html, Func<string, string?> click)
        => Href().Replace(html, m =>
        {
            var target = WebUtility.HtmlDecode(m.Groups["url"].Value);
            return click(target) is { } tracked ? $"href=\"{WebUtility.HtmlEncode(tracked)}\"" : m.Value;
        });

    /// <summary>Plain text to HTML: encoded, blank lines become paragraphs, line breaks stay, URLs become links.</summary>
    internal static string ToHtml(string text)
    {
        var html = new StringBuilder();
        foreach (var paragraph in Paragraphs().Split(text.Trim()))
        {
            if (paragraph.Length == 0)
            {
                continue;
            }

            html.Append("<p style=\"margin:0 0 1em 0\">");
            var last = 0;
            foreach (Match url in BareUrl().Matches(paragraph))
            {
                html.Append(LineBreaks(WebUtility.HtmlEncode(paragraph[last..url.Index])));
                var encoded = WebUtility.HtmlEncode(url.Value);
                html.Append("<a href=\"").Append(encoded).Append("\">").Append(encoded).Append("</a>");
                last = url.Index + url.Length;
            }

            html.Append(LineBreaks(WebUtility.HtmlEncode(paragraph[last..]))).Append("</p>");
        }

        return html.ToString();
    }

    /// <summary>HTML to plain text: block elements and &lt;br&gt; break lines, links keep their target ("text &lt;url&gt;").</summary>
    internal static string ToText(string html)
    {
        var text = new StringBuilder();
        var tokenizer = new HtmlTokenizer(new StringReader(html));
        var hidden = 0;
        string? href = null;
        var anchorStart = 0;
        while (tokenizer.ReadNextToken(out var token))
        {
            switch (token)
            {
                case HtmlDataToken data when hidden == 0:
                    text.Append(Whitespace().Replace(data.Data, " "));
                    break;
                case HtmlTagToken tag when tag.Id is HtmlTagId.Style or HtmlTagId.Script or HtmlTagId.Head or HtmlTagId.Title:
                    hidden = Math.Max(0, hidden + (tag.IsEndTag ? -1 : tag.IsEmptyElement ? 0 : 1));
                    break;
                case HtmlTagToken { Id: HtmlTagId.Br, IsEndTag: false }:
                    TrimLineEnd(text);
                    text.Append('\n');
                    break;
                case HtmlTagToken { Id: HtmlTagId.A } tag when !tag.IsEndTag:
                    href = tag.Attributes.FirstOrDefault(a => a.Id == HtmlAttributeId.Href)?.Value;
                    anchorStart = text.Length;
                    break;
                case HtmlTagToken { Id: HtmlTagId.A, IsEndTag: true }:
                    var label = text.ToString(anchorStart, text.Length - anchorStart).Trim();
                    if (href is not null && (href.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || href.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
                        && !string.Equals(label, href, StringComparison.Ordinal))
                    {
                        text.Append(" <").Append(href).Append('>');
                    }

                    href = null;
                    break;
                case HtmlTagToken tag when tag.Id is HtmlTagId.P or HtmlTagId.Div or HtmlTagId.LI or HtmlTagId.TR or HtmlTagId.UL or HtmlTagId.OL
                    or HtmlTagId.Table or HtmlTagId.H1 or HtmlTagId.H2 or HtmlTagId.H3 or HtmlTagId.H4 or HtmlTagId.H5 or HtmlTagId.H6:
                    TrimLineEnd(text);
                    var blank = tag.Id is HtmlTagId.P or HtmlTagId.H1 or HtmlTagId.H2 or HtmlTagId.H3 && tag.IsEndTag;
                    EndLine(text, blank ? 2 : 1);
                    if (tag.Id == HtmlTagId.LI && !tag.IsEndTag)
                    {
                        text.Append("- ");
                    }

                    break;
            }
        }

        var lines = text.ToString().Split('\n').Select(l => l.Trim());
        return ExtraBlankLines().Replace(string.Join('\n', lines), "\n\n").Trim();
    }

    private static void TrimLineEnd(StringBuilder text)
    {
        while (text.Length > 0 && text[^1] == ' ')
        {
            text.Length--;
        }
    }

    // Ends the current line so that at least `newlines` line breaks close it (none at the very start).
    private static void EndLine(StringBuilder text, int newlines)
    {
        if (text.Length == 0)
        {
            return;
        }

        var have = 0;
        for (var i = text.Length - 1; i >= 0 && text[i] == '\n'; i--)
        {
            have++;
        }

        text.Append('\n', Math.Max(0, newlines - have));
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Trim();

    private static string LineBreaks(string encoded) => encoded.Replace("\n", "<br>\n", StringComparison.Ordinal);

    [GeneratedRegex(@"</?(?:p|br|div|a|b|strong|i|em|u|ul|ol|li|table|tr|td|span|h[1-6]|img|blockquote|font|hr|html|body)\b[^<>]*>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HtmlTag();

    [GeneratedRegex(@"\bhref\s*=\s*(?<q>[""'])(?<url>https?://[^""'<>\s]+)\k<q>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Href();

    // A URL in plain text, without trailing punctuation that usually ends the sentence around it.
    [GeneratedRegex(@"https?://[^\s<>""]+?(?=[.,;:!?)\]]*(?:\s|$))", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BareUrl();

    [GeneratedRegex(@"\n[ \t]*\n\s*")]
    private static partial Regex Paragraphs();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"\n{3,}")]
    private static partial Regex ExtraBlankLines();
}
