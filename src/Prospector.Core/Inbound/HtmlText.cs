using System.Text;
using MimeKit.Text;

namespace Prospector.Core.Inbound;

/// <summary>
/// Turns an HTML mail body into plain text for quote stripping: tags dropped, entities decoded, block
/// elements and &lt;br&gt; become line breaks, &lt;blockquote&gt; content is prefixed with "&gt; " (as a
/// plain-text client would quote it) and &lt;hr&gt; becomes the underscore rule Outlook puts above a quote.
/// </summary>
internal static class HtmlText
{
    const string Rule = "________________________________";

    static readonly HashSet<HtmlTagId> BlockTags =
    [
        HtmlTagId.P, HtmlTagId.Div, HtmlTagId.TR, HtmlTagId.LI, HtmlTagId.UL, HtmlTagId.OL, HtmlTagId.Table,
        HtmlTagId.H1, HtmlTagId.H2, HtmlTagId.H3, HtmlTagId.H4, HtmlTagId.H5, HtmlTagId.H6, HtmlTagId.Pre,
        HtmlTagId.Body, HtmlTagId.Html,
    ];

    static readonly HashSet<HtmlTagId> HiddenTags = [HtmlTagId.Head, HtmlTagId.Style, HtmlTagId.Script, HtmlTagId.Title];

    public static string ToPlainText(string html)
    {
        var writer = new LineWriter();
        var tokenizer = new HtmlTokenizer(new StringReader(html));
        var hidden = 0;
        var pre = 0;

        while (tokenizer.ReadNextToken(out var token))
        {
            if (token is HtmlDataToken data)
            {
                if (hidden == 0)
                    writer.Append(data.Data, pre > 0);
                continue;
            }

            if (token is not HtmlTagToken tag)
                continue;

            var delta = tag.IsEndTag ? -1 : tag.IsEmptyElement ? 0 : 1;
            if (HiddenTags.Contains(tag.Id))
                hidden = Math.Max(0, hidden + delta);
            else if (tag.Id == HtmlTagId.Pre)
                pre = Math.Max(0, pre + delta);

            if (tag.Id == HtmlTagId.Br && !tag.IsEndTag)
                writer.LineBreak();
            else if (tag.Id == HtmlTagId.HR && !tag.IsEndTag)
                writer.Line(Rule);
            else if (tag.Id == HtmlTagId.BlockQuote)
                writer.Quote(delta);
            else if (BlockTags.Contains(tag.Id))
                writer.EndParagraph();
        }

        return writer.ToString();
    }

    sealed class LineWriter
    {
        readonly StringBuilder _text = new();
        readonly StringBuilder _line = new();
        int _depth;

        public void Append(string data, bool preformatted)
        {
            if (preformatted)
            {
                var lines = data.ReplaceLineEndings("\n").Split('\n');
                for (var i = 0; i < lines.Length; i++)
                {
                    if (i > 0)
                        LineBreak();
                    _line.Append(lines[i]);
                }
                return;
            }

            foreach (var c in data)
            {
                if (char.IsWhiteSpace(c))
                {
                    if (_line.Length > 0 && _line[^1] != ' ')
                        _line.Append(' ');
                }
                else
                {
                    _line.Append(c);
                }
            }
        }

        public void LineBreak()
        {
            _text.Append(string.Concat(Enumerable.Repeat("> ", _depth)))
                .Append(_line.ToString().TrimEnd())
                .Append('\n');
            _line.Clear();
        }

        public void EndParagraph()
        {
            if (_line.Length > 0)
                LineBreak();
        }

        public void Line(string text)
        {
            EndParagraph();
            _line.Append(text);
            LineBreak();
        }

        public void Quote(int delta)
        {
            EndParagraph();
            _depth = Math.Max(0, _depth + delta);
        }

        public override string ToString()
        {
            EndParagraph();
            return _text.ToString();
        }
    }
}
