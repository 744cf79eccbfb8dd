using Prospector.Core.Inbound;
using Prospector.Core.Qualification;

namespace Prospector.Core.Tests.Qualification;

public class LeadQualifierTests
{
    private static QualificationResult Evaluate(string? text, string email = "ada@acme.test", string? domain = null, string? title = null, InboundKind kind = InboundKind.HumanReply)
        => LeadQualifier.Evaluate(new QualificationInput(kind, text, email, domain, title));

    private static string[] Rules(QualificationResult result) => result.Reasons.Select(r => r.Rule).ToArray();

    [Fact]
    public void Evaluate_Qualifies_WhenInterestedReplyAsksForCallFromBusinessDomain()
    {
        var result = Evaluate("Interested! Can we set up a call next Tuesday?");

        Assert.Equal(["replied", "positive_intent", "meeting_intent", "business_domain"], Rules(result));
        Assert.Equal(100, result.Score);
        Assert.True(result.Qualified);
        Assert.Equal(LeadQualifier.DefaultThreshold, result.Threshold);
    }

    [Fact]
    public void Evaluate_PenalisesAndDoesNotQualify_WhenReplySaysNotInterested()
    {
        var result = Evaluate("Thanks, but we are not interested. Maybe a call later? No.");

        Assert.Contains("negative_intent", Rules(result));
        Assert.DoesNotContain("positive_intent", Rules(result));
        Assert.DoesNotContain("meeting_intent", Rules(result));
        Assert.Equal(-60, result.Reasons.Single(r => r.Rule == "negative_intent").Points);
        Assert.False(result.Qualified);
        Assert.Equal(0, result.Score);
    }

    [Fact]
    public void Evaluate_DoesNotFireMeetingRule_WhenReplySaysRecall()
    {
        var result = Evaluate("I recall your email from last month.");

        Assert.DoesNotContain("meeting_intent", Rules(result));
    }

    [Theory]
    [InlineData("Let's schedule a call.")]
    [InlineData("call me")]
    [InlineData("(call)")]
    public void Evaluate_FiresMeetingRule_WhenCallIsAWholeWord(string text)
        => Assert.Contains("meeting_intent", Rules(Evaluate(text)));

    [Theory]
    [InlineData("ada@gmail.com", null)]
    [InlineData("ada@acme.test", "GMAIL.com")]
    public void Evaluate_GivesNoBusinessDomain_WhenDomainIsFreeMail(string email, string? domain)
    {
        var result = Evaluate("Interested, let's talk", email: email, domain: domain);

        Assert.DoesNotContain("business_domain", Rules(result));
    }

    [Fact]
    public void Evaluate_UsesCompanyDomainOverEmailDomain_WhenBothGiven()
    {
        var result = Evaluate("ok", email: "ada@gmail.com", domain: "acme.test");

        Assert.Contains("business_domain", Rules(result));
    }

    [Theory]
    [InlineData("VP Sales")]
    [InlineData("Head of Growth")]
    [InlineData("Co-Founder & CEO")]
    [InlineData("Vice President, Marketing")]
    public void Evaluate_AddsSeniorTitle_WhenTitleIsSenior(string title)
    {
        var result = Evaluate("ok", title: title);

        var reason = Assert.Single(result.Reasons, r => r.Rule == "senior_title");
        Assert.Equal(10, reason.Points);
    }

    [Theory]
    [InlineData("Sales Development Representative")]
    [InlineData("Overhead Analyst")]
    public void Evaluate_AddsNoSeniorTitle_WhenTitleIsNotSenior(string title)
        => Assert.DoesNotContain("senior_title", Rules(Evaluate("ok", title: title)));

    [Theory]
    [InlineData(InboundKind.AutoReply)]
    [InlineData(InboundKind.Bounce)]
    [InlineData(InboundKind.Unsubscribe)]
    [InlineData(InboundKind.Other)]
    public void Evaluate_ScoresZeroWithNotAReply_WhenKindIsNotHumanReply(InboundKind kind)
    {
        var result = Evaluate("Interested! Let's book a call.", kind: kind);

        Assert.Equal(0, result.Score);
        Assert.False(result.Qualified);
        var reason = Assert.Single(result.Reasons);
        Assert.Equal("not_a_reply", reason.Rule);
        Assert.Equal(0, reason.Points);
    }

    [Fact]
    public void Evaluate_DoesNotQualify_WhenReplyIsNeutral()
    {
        var result = Evaluate("Who is this?");

        Assert.Equal(50, result.Score);
        Assert.False(result.Qualified);
    }

    [Fact]
    public void Evaluate_RespectsCustomThreshold_WhenGiven()
    {
        var result = LeadQualifier.Evaluate(new QualificationInput(InboundKind.HumanReply, "Who is this?", "ada@acme.test", null, null), threshold: 50);

        Assert.True(result.Qualified);
        Assert.Equal(50, result.Threshold);
    }
}
