using System.Text.Json;
using Prospector.Core.Sequences;

namespace Prospector.Core.Tests.Sequences;

public class SequenceSerializationTests
{
    public static TheoryData<SequenceStep> Steps() => new()
    {
        new EmailStep("e", "Subject {{ first_name }}", "Body \"quoted\"\nline"),
        new EmailStep("e", null, "Reply body"),
        new WaitStep("w", TimeSpan.FromMinutes(90)),
        new WaitStep("w", 3, new TimeSpan(30, 4, 5), BusinessDays: false),
        new WaitStep("w", 2, TimeSpan.FromHours(9), BusinessDays: true),
        new LinkedInVisitStep("v", "Look at {{ company }}"),
        new LinkedInVisitStep("v", null),
        new LinkedInInviteStep("i", "Hi {{ first_name }}"),
        new LinkedInInviteStep("i", null),
        new LinkedInMessageStep("m", "Thanks"),
        new CallStep("c", "Script"),
        new ManualTaskStep("t", "Title", "Do"),
        new ManualTaskStep("t", null, "Do"),
        new WebhookStep("h", new Uri("https://hooks.example.test/a?b=c"), "{\"email\": \"{{ email }}\"}"),
        new WebhookStep("h", new Uri("http://example.test/"), null),
        new BranchStep("b", new EventCondition(BranchEvent.LinkedInConnected), "end", null),
        new BranchStep("b", new EventCondition(BranchEvent.EmailFound), "end", "end"),
        new BranchStep("b", new FieldCondition("custom.industry", FieldOperator.Contains, "soft"), "end", "end"),
        new BranchStep("b", new FieldCondition("title", FieldOperator.Missing, null), "end", null),
    };

    [Theory]
    [MemberData(nameof(Steps))]
    public void SerializeThenDeserialize_ReturnsEqualStep_ForEveryStepType(SequenceStep step)
    {
        var original = new SequenceDefinition([new EmailStep("intro", "Hi", "b"), step]);

        var roundTripped = SequenceParser.Deserialize(SequenceParser.Serialize(original));

        Assert.Equal(original.Steps, roundTripped.Steps);
    }

    [Fact]
    public void Serialize_WritesTheShapeParseReads_WhenStepsUseEveryType()
    {
        var json = SequenceParser.Serialize(new SequenceDefinition(
        [
            new EmailStep("intro", "Hi", "b"),
            new WaitStep("w", 2, TimeSpan.FromHours(3), BusinessDays: true),
            new BranchStep("b", new FieldCondition("company_domain", FieldOperator.NotEquals, "x.test"), "end", null),
            new BranchStep("c", new EventCondition(BranchEvent.Replied), "end", "end"),
        ]));

        using var document = JsonDocument.Parse(json);
        var steps = document.RootElement;
        Assert.Equal("""{"id":"w","type":"wait","days":2,"hours":3,"business_days":true}""", steps[1].GetRawText());
        Assert.Equal("""{"id":"b","type":"branch","if":{"field":"company_domain","operator":"not_equals","value":"x.test"},"then":"end"}""", steps[2].GetRawText());
        Assert.Equal("""{"id":"c","type":"branch","if":"replied","then":"end","else":"end"}""", steps[3].GetRawText());
    }
}
