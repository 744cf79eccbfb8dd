using Prospector.Core.Email;

namespace Prospector.Core.Tests.Email;

public sealed class MessageComposerTests
{
    private static readonly FooterSettings NoFooter = new(Enabled: false);

    private static ComposeOptions Options(
        string? signature = null, bool appendSignature = true, FooterSettings? footer = null, string? unsubscribeUrl = null,
        string? mailto = null, string? pixel = null, Func<string, string?>? click = null)
        => new(signature, appendSignature, footer ?? NoFooter, unsubscribeUrl, mailto, pixel, click);

    [Fact]
    public void Compose_TextTemplate_GetsAnEncodedHtmlTwinWithParagraphsBreaksAndLinks()
    {
        var composed = MessageComposer.Compose("Hi <Jane> & co,\nline two\n\nSee https://acme.test/a?b=1&c=2.", Options());

        Assert.Equal("Hi <Jane> & co,\nline two\n\nSee https://acme.test/a?b=1&c=2.\n", composed.TextBody);
        Assert.Contains("<p style=\"margin:0 0 1em 0\">Hi &lt;Jane&gt; &amp; co,<br>\nline two</p>", composed.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://acme.test/a?b=1&amp;c=2\">https://acme.test/a?b=1&amp;c=2</a>.</p>", composed.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_HtmlTemplate_KeepsTheMarkupAndDerivesTextWithLinkTargets()
    {
        var composed = MessageComposer.Compose(
            "<p>Hello <b>Jane</b>,</p><p>Our <a href=\"https://acme.test/case\">case study</a>.<br>Thanks</p><ul><li>one</li><li>two</li></ul>",
            Options());

        Assert.StartsWith("<div dir=\"auto\"><p>Hello <b>Jane</b>,</p>", composed.HtmlBody, StringComparison.Ordinal);
        Assert.Equal("Hello Jane,\n\nOur case study <https://acme.test/case>.\nThanks\n\n- one\n- two\n", composed.TextBody);
    }

    [Theory]
    [InlineData("Plain text, a < b and c > d", false)]
    [InlineData("Use <p> tags", true)]
    [InlineData("<div>x</div>", true)]
    [InlineData("Line<br/>break", true)]
    [InlineData("Email me <jane@acme.test>", false)]
    public void LooksLikeHtml_RecognisesCommonTagsOnly(string text, bool expected)
        => Assert.Equal(expected, MessageComposer.LooksLikeHtml(text));

    [Fact]
    public void Compose_AppendsTheSignatureBehindTheStandardDelimiter_InBothParts()
    {
        var composed = MessageComposer.Compose("Hi Jane", Options(signature: "Bob Martin\nAcme & Co"));

        Assert.Equal("Hi Jane\n\n-- \nBob Martin\nAcme & Co\n", composed.TextBody);
        Assert.Contains("<div class=\"signature\"><p style=\"margin:0 0 1em 0\">Bob Martin<br>\nAcme &amp; Co</p></div>", composed.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_LeavesTheSignatureOut_WhenTheTemplatePlacedItItself()
    {
        var composed = MessageComposer.Compose("Hi Jane\nBob Martin", Options(signature: "Bob Martin", appendSignature: false));

        Assert.DoesNotContain("-- ", composed.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("signature", composed.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_HtmlSignature_IsUsedAsHtmlAndFlattenedForText()
    {
        var composed = MessageComposer.Compose("Hi", Options(signature: "<b>Bob</b><br>CEO"));

        Assert.EndsWith("-- \nBob\nCEO\n", composed.TextBody, StringComparison.Ordinal);
        Assert.Contains("<div class=\"signature\"><b>Bob</b><br>CEO</div>", composed.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_Footer_CarriesThePostalAddressAndTheOneClickLink()
    {
        var url = "https://links.acme.test/u/TOKEN";
        var composed = MessageComposer.Compose("Hi", Options(footer: new FooterSettings(true, "Acme SAS\n1 rue de la Paix, 75002 Paris"), unsubscribeUrl: url));

        Assert.EndsWith("Hi\n\nAcme SAS\n1 rue de la Paix, 75002 Paris\nDon't want to hear from me again? Unsubscribe: https://links.acme.test/u/TOKEN\n", composed.TextBody, StringComparison.Ordinal);
        Assert.Contains("Acme SAS<br>\n1 rue de la Paix, 75002 Paris<br>Don&#39;t want to hear from me again? Unsubscribe: <a href=\"https://links.acme.test/u/TOKEN\">unsubscribe</a>", composed.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_CustomFooterText_PlacesTheLinkWhereAsked_OrAppendsIt()
    {
        var url = "https://l.test/u/T";
        var placed = MessageComposer.Compose("Hi", Options(footer: new FooterSettings(true, null, "Click {unsubscribe} to opt out."), unsubscribeUrl: url));
        var appended = MessageComposer.Compose("Hi", Options(footer: new FooterSettings(true, null, "No more emails?"), unsubscribeUrl: url));

        Assert.EndsWith("Click https://l.test/u/T to opt out.\n", placed.TextBody, StringComparison.Ordinal);
        Assert.Contains("Click <a href=\"https://l.test/u/T\">unsubscribe</a> to opt out.", placed.HtmlBody, StringComparison.Ordinal);
        Assert.EndsWith("No more emails? https://l.test/u/T\n", appended.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_FooterWithoutPublicUrl_AsksForAReply()
    {
        var composed = MessageComposer.Compose("Hi", Options(footer: new FooterSettings(true, "Acme, 1 Main St")));

        Assert.EndsWith("Acme, 1 Main St\nDon't want to hear from me again? Unsubscribe: reply with \"unsubscribe\"\n", composed.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("<a ", composed.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_DisabledFooter_AddsNothing()
    {
        var composed = MessageComposer.Compose("Hi", Options(footer: new FooterSettings(false, "Acme, 1 Main St"), unsubscribeUrl: "https://l.test/u/T"));

        Assert.Equal("Hi\n", composed.TextBody);
        Assert.DoesNotContain("Acme", composed.HtmlBody, StringComparison.Ordinal);
        Assert.Equal("<https://l.test/u/T>", composed.Headers["List-Unsubscribe"]);
    }

    [Fact]
    public void ListHeaders_FollowRfc8058_OnlyWithAnHttpsTarget()
    {
        var both = MessageComposer.ListHeaders("https://l.test/u/T", "bob@acme.test");
        var mailtoOnly = MessageComposer.ListHeaders(null, "bob@acme.test");

        Assert.Equal("<https://l.test/u/T>, <mailto:bob@acme.test?subject=unsubscribe>", both["List-Unsubscribe"]);
        Assert.Equal("List-Unsubscribe=One-Click", both["List-Unsubscribe-Post"]);
        Assert.Equal("<mailto:bob@acme.test?subject=unsubscribe>", mailtoOnly["List-Unsubscribe"]);
        Assert.False(mailtoOnly.ContainsKey("List-Unsubscribe-Post"));
        Assert.Empty(MessageComposer.ListHeaders(null, null));
    }

    [Fact]
    public void Compose_Tracking_RewritesHttpLinksOfTheHtmlPartOnly_AndAddsThePixelLast()
    {
        var targets = new List<string>();
        var composed = MessageComposer.Compose(
            "<p>See <a href=\"https://acme.test/x?a=1&amp;b=2\">this</a>, <a href='mailto:bob@acme.test'>mail</a> or <a href=\"tel:+331\">call</a>.</p>",
            Options(footer: new FooterSettings(true, null), unsubscribeUrl: "https://l.test/u/T", pixel: "https://l.test/t/o/P",
                click: t => { targets.Add(t); return "https://l.test/t/c/C?u=" + Uri.EscapeDataString(t); }));

        Assert.Equal(["https://acme.test/x?a=1&b=2"], targets);
        Assert.Contains("href=\"https://l.test/t/c/C?u=https%3A%2F%2Facme.test%2Fx%3Fa%3D1%26b%3D2\"", composed.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("href='mailto:bob@acme.test'", composed.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://l.test/u/T\">unsubscribe</a>", composed.HtmlBody, StringComparison.Ordinal);
        Assert.EndsWith("<img src=\"https://l.test/t/o/P\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;width:1px;height:1px;border:0\"></div>", composed.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("this <https://acme.test/x?a=1&b=2>", composed.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_TextTemplate_TracksItsAutoLinkedUrls()
    {
        var composed = MessageComposer.Compose("Book here: https://cal.test/bob", Options(click: t => "https://l.test/t/c/X?u=" + Uri.EscapeDataString(t)));

        Assert.Contains("<a href=\"https://l.test/t/c/X?u=https%3A%2F%2Fcal.test%2Fbob\">https://cal.test/bob</a>", composed.HtmlBody, StringComparison.Ordinal);
        Assert.Equal("Book here: https://cal.test/bob\n", composed.TextBody);
    }
}
