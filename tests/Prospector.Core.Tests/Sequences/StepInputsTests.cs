using Prospector.Core.Sequences;
using Prospector.Core.Templates;

namespace Prospector.Core.Tests.Sequences;

public class StepInputsTests
{
    private static ProspectSnapshot Prospect(string? email = "jane@acme.example", string custom = """{"industry":"SaaS","seats":12,"note":null}""")
        => new(Guid.Parse("0190a5d2-0000-7000-8000-000000000001"), email, "Jane", "Doe", "CTO", "https://www.linkedin.com/in/jane", null, "FR",
            "Acme", "acme.example", StepInputs.ParseCustom(custom), "Rep One", "rep@corp.example");

    [Fact]
    public void ParseCustom_KeepsStringsAndJsonTextOfOtherValues_AndDropsNulls()
    {
        var custom = StepInputs.ParseCustom("""{"industry":"SaaS","seats":12,"note":null}""");

        Assert.Equal(new Dictionary<string, string> { ["industry"] = "SaaS", ["seats"] = "12" }, custom);
        Assert.Empty(StepInputs.ParseCustom(null));
        Assert.Empty(StepInputs.ParseCustom("[]"));
    }

    [Fact]
    public void Facts_MapStoredEventTypes_AndIgnoreOthers()
    {
        var facts = StepInputs.Facts(Prospect(), ["replied", "linkedin_connected", "sent", "task_done"]);

        Assert.Equal(new HashSet<BranchEvent> { BranchEvent.Replied, BranchEvent.LinkedInConnected, BranchEvent.EmailFound }, facts.Events);
        Assert.Equal("SaaS", facts.Fields["custom.industry"]);
        Assert.Equal("acme.example", facts.Fields["company_domain"]);
    }

    [Fact]
    public void Facts_HaveNoEmailFound_WhenTheProspectHasNoEmail()
    {
        var facts = StepInputs.Facts(Prospect(email: null), [], BranchEvent.Opened);

        Assert.Equal(new HashSet<BranchEvent> { BranchEvent.Opened }, facts.Events);
    }

    [Fact]
    public void Model_RendersProspectOwnerAndSenderValues()
    {
        var model = StepInputs.Model(Prospect(), new SenderSnapshot("Sam Sender", "sam@corp.example", "Sam\nCorp"));

        var text = TemplateRenderer.Render(
            "{{ first_name }} {{ title }} {{ custom.seats }} {{ owner.name }} {{ sender.email }} {{ company.domain }}", model,
            new RenderOptions(TemplateFormat.Text, StepInputs.SpinKey(model.ProspectId, "s1")));

        Assert.Equal("Jane CTO 12 Rep One sam@corp.example acme.example", text);
    }
}
