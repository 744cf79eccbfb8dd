using Prospector.Core.Sequences;
using Prospector.Core.Templates;
using Prospector.Storage.Stores;

namespace Prospector.Server.Engine;

/// <summary>What a step runs with: the template model, the facts branches test, and the progression that records branches.</summary>
internal static class StepContext
{
    public static TemplateModel Model(DispatchWork work)
        => StepInputs.Model(Prospect(work), new SenderSnapshot(work.FromName, work.FromAddress, work.Signature));

    /// <summary>Plain-text rendering with spintax seeded by prospect and step, so a re-run renders the same text.</summary>
    public static RenderOptions Text(DispatchWork work, SequenceStep step) => new(TemplateFormat.Text, StepInputs.SpinKey(work.ProspectId, step.Id));

    public static EnrollmentFacts Facts(DispatchWork work, IReadOnlySet<string> eventTypes, params BranchEvent[] extra)
        => StepInputs.Facts(Prospect(work), eventTypes, extra);

    private static ProspectSnapshot Prospect(DispatchWork work) => new(
        work.ProspectId, work.Email, work.FirstName, work.LastName, work.Title, work.LinkedInUrl, work.Phone, work.Country,
        work.Company, work.CompanyDomain, StepInputs.ParseCustom(work.CustomFields), work.OwnerName, work.OwnerEmail);

    /// <summary>
    /// <see cref="SequenceProgress.Next"/> from <paramref name="fromIndex"/>, plus a description of every branch it takes
    /// on the way ("branch-id: then -> target"), for the enrollment's history.
    /// </summary>
    /// The next step is placed in the prospect's schedule (business-day waits in their zone, window, holidays, jitter).
    public static (NextStep Next, IReadOnlyList<string> Branches) Advance(DispatchWork work, SequenceDefinition definition, int fromIndex, DateTimeOffset at, EnrollmentFacts facts)
    {
        var schedule = work.Schedule();
        var next = SequenceProgress.Next(definition, fromIndex, at, facts, schedule);
        if (next.StepIndex is { } nextIndex)
        {
            next = SequenceProgress.Place(next, schedule, StepKeys.Jitter(work.ProspectId, work.SequenceId, nextIndex));
        }

        var branches = new List<string>();
        var index = fromIndex;
        // The same walk as SequenceProgress.Next, only to name the branches it evaluates (up to the first wait or action).
        for (var hops = 0; hops <= definition.Steps.Count * 2 && index >= 0 && index < definition.Steps.Count; hops++)
        {
            if (definition.Steps[index] is not BranchStep branch)
            {
                break;
            }

            var holds = BranchEvaluator.Holds(branch.Condition, facts);
            var target = holds ? branch.Then : branch.Else;
            var targetIndex = target is null ? index + 1 : target == StepTargets.End ? -1 : definition.IndexOf(target);
            var name = targetIndex >= 0 && targetIndex < definition.Steps.Count ? definition.Steps[targetIndex].Id : StepTargets.End;
            branches.Add($"{branch.Id}: {(holds ? "then" : "else")} -> {name}");
            index = targetIndex;
        }

        return (next, branches);
    }

    /// <summary>"Jane Doe (Acme)": the prospect's name (or address) and company, for task titles.</summary>
    public static string Person(DispatchWork work)
    {
        var name = string.Join(' ', new[] { work.FirstName, work.LastName }.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n!.Trim()));
        if (name.Length == 0)
        {
            name = work.Email ?? work.LinkedInUrl ?? "prospect";
        }

        return string.IsNullOrWhiteSpace(work.Company) ? name : $"{name} ({work.Company.Trim()})";
    }
}
