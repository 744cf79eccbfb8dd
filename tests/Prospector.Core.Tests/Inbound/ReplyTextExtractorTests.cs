using Prospector.Core.Inbound;

namespace Prospector.Core.Tests.Inbound;

public class ReplyTextExtractorTests
{
    [Theory]
    [InlineData("Sounds good.\n\nOn Tue, Mar 4, 2025 at 9:12 AM Sam Seller <sdr@example.test> wrote:\n> Would a call help?")]
    [InlineData("Sounds good.\n\nOn Tue, Mar 4, 2025 at 9:12 AM Sam Seller <\nsdr@example.test> wrote:\n\n> Would a call help?")]
    [InlineData("Sounds good.\n\nLe mar. 4 mars 2025 à 09:12, Sam Seller <sdr@example.test> a écrit :\n> Would a call help?")]
    [InlineData("Sounds good.\n\nAm 04.03.2025 um 09:12 schrieb Sam Seller:\n> Would a call help?")]
    [InlineData("Sounds good.\n\nEl mar, 4 mar 2025 a las 9:12, Sam Seller (<sdr@example.test>) escribió:\n> Would a call help?")]
    [InlineData("Sounds good.\n\n-----Original Message-----\nFrom: Sam Seller\nWould a call help?")]
    [InlineData("Sounds good.\n\nFrom: Sam Seller <sdr@example.test>\nSent: Tuesday, March 4, 2025 9:12 AM\nTo: Jo\nSubject: Hi\n\nWould a call help?")]
    [InlineData("Sounds good.\n\n-- \nJo Prospect\nHead of Ops")]
    [InlineData("Sounds good.\n\nSent from my iPhone\n\nWould a call help?")]
    public void VisibleText_CutsQuoteAndSignature_WhenReplyIsTopPosted(string body)
    {
        Assert.Equal("Sounds good.", ReplyTextExtractor.VisibleText(body));
    }

    [Fact]
    public void VisibleText_KeepsAnswersBetweenQuotes_WhenReplyIsInline()
    {
        const string body = "On Tue, Mar 4, 2025 at 9:12 AM Sam <sdr@example.test> wrote:\n> Would a call help?\n\nYes, Tuesday.\n\n> Who else should join?\n\nAna from finance.";

        Assert.Equal("Yes, Tuesday.\n\nAna from finance.", ReplyTextExtractor.VisibleText(body));
    }

    [Fact]
    public void VisibleText_KeepsLine_WhenItOnlyStartsWithOn()
    {
        const string body = "On Thursday we can talk.\n\nSomething wrote:\nthat is fine";

        Assert.Equal(body, ReplyTextExtractor.VisibleText(body));
    }
}
