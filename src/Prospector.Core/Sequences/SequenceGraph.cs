using System.Text.Json;

namespace Prospector.Core.Sequences;

/// <summary>
/// Flow checks on a sequence's steps as written (so they run even when a step's own fields are invalid): branch
/// targets exist, every step is reachable from the first, no loop repeats without a wait, some step does something,
/// and no email without a subject can be the first email on a path.
/// </summary>
internal static class SequenceGraph
{
    /// <summary>What the flow checks need of one step, read from its JSON.</summary>
    internal sealed record Node(int Index, string? Id, string? Type, bool HasSubject, string? Then, string? Else)
    {
        public bool IsBranch => Type == StepTypes.Branch;

        public bool IsWait => Type == StepTypes.Wait;

        /// <summary>An email, a task or a webhook: something happens when the step runs.</summary>
        public bool DoesSomething => Type is not null && StepTypes.All.Contains(Type) && !IsBranch && !IsWait;

        public static Node From(JsonElement element, int index)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                return new Node(index, SequenceParser.DefaultId(index), null, false, null, null);
            }

            var id = element.TryGetProperty("id", out var idValue) && idValue.ValueKind != JsonValueKind.Null
                ? (idValue.ValueKind == JsonValueKind.String ? idValue.GetString() : null)
                : SequenceParser.DefaultId(index);
            return new Node(
                index,
                id,
                Text(element, "type"),
                !string.IsNullOrWhiteSpace(Text(element, "subject")),
                Text(element, "then"),
                Text(element, "else"));
        }

        private static string? Text(JsonElement element, string name)
            => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    private const int End = -1;

    public static void Check(IReadOnlyList<Node> nodes, string path, List<ValidationError> errors)
    {
        if (!nodes.Any(n => n.DoesSomething))
        {
            errors.Add(new(path, "a sequence needs at least one email step, task or webhook"));
        }

        var byId = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            if (node.Id is not null)
            {
                byId.TryAdd(node.Id, node.Index);
            }
        }

        // successors[i]: where control can go after step i (End = finish).
        var successors = new List<int>[nodes.Count];
        var flowKnown = true;
        foreach (var node in nodes)
        {
            var next = node.Index + 1 < nodes.Count ? node.Index + 1 : End;
            if (!node.IsBranch)
            {
                successors[node.Index] = [next];
                continue;
            }

            var then = Resolve(node, "then", node.Then, byId, path, errors);
            var @else = node.Else is null ? next : Resolve(node, "else", node.Else, byId, path, errors);
            if (then is null || @else is null)
            {
                flowKnown = false;
                successors[node.Index] = [];
                continue;
            }

            successors[node.Index] = [then.Value, @else.Value];
        }

        if (!flowKnown)
        {
            return;
        }

        var reachable = Reach(0, successors, _ => true);
        foreach (var node in nodes.Where(n => !reachable.Contains(n.Index)))
        {
            errors.Add(new($"{path}[{node.Index}]", "unreachable: no path from the first step leads to this step"));
        }

        CheckLoops(nodes, successors, path, errors);
        CheckSubjects(nodes, successors, path, errors);
    }

    private static int? Resolve(Node branch, string name, string? target, Dictionary<string, int> byId, string path, List<ValidationError> errors)
    {
        if (target is null)
        {
            return null;
        }

        if (target == StepTargets.End)
        {
            return End;
        }

        if (!byId.TryGetValue(target, out var index))
        {
            errors.Add(new($"{path}[{branch.Index}].{name}", $"no step has id '{target}' (use a step id or '{StepTargets.End}')"));
            return null;
        }

        if (index == branch.Index)
        {
            errors.Add(new($"{path}[{branch.Index}].{name}", "a branch cannot jump to itself"));
            return null;
        }

        return index;
    }

    // Every cycle has a backward jump b → t (t ≤ b); it repeats at once when t reaches b through steps that are not waits.
    private static void CheckLoops(IReadOnlyList<Node> nodes, List<int>[] successors, string path, List<ValidationError> errors)
    {
        foreach (var branch in nodes.Where(n => n.IsBranch))
        {
            foreach (var (name, target) in new[] { ("then", branch.Then), ("else", branch.Else) })
            {
                if (target is null || target == StepTargets.End)
                {
                    continue;
                }

                var index = successors[branch.Index][name == "then" ? 0 : 1];
                if (index == End || index > branch.Index || nodes[index].IsWait)
                {
                    continue;
                }

                if (Reach(index, successors, i => !nodes[i].IsWait).Contains(branch.Index))
                {
                    errors.Add(new($"{path}[{branch.Index}]", $"'{name}' jumps back to '{target}' with no wait step on the way: the loop would repeat at once"));
                }
            }
        }
    }

    // From the first step, follow paths until an email with a subject starts the thread; an email without one reached first has nothing to reply to.
    private static void CheckSubjects(IReadOnlyList<Node> nodes, List<int>[] successors, string path, List<ValidationError> errors)
    {
        bool IsEmail(int i) => nodes[i].Type == StepTypes.Email;
        var beforeThread = Reach(0, successors, i => !(IsEmail(i) && nodes[i].HasSubject), includeStoppers: false);
        foreach (var index in beforeThread.Where(IsEmail).Order())
        {
            errors.Add(new($"{path}[{index}].subject", "needs a subject: on some path no email with a subject comes before this one, so there is no thread to reply in"));
        }
    }

    /// <summary>Steps reachable from <paramref name="start"/> through steps that pass <paramref name="through"/>.</summary>
    private static HashSet<int> Reach(int start, List<int>[] successors, Func<int, bool> through, bool includeStoppers = true)
    {
        var seen = new HashSet<int>();
        var queue = new Queue<int>();
        queue.Enqueue(start);
        while (queue.TryDequeue(out var index))
        {
            if (index == End || !seen.Add(index))
            {
                continue;
            }

            if (!through(index))
            {
                if (!includeStoppers)
                {
                    seen.Remove(index);
                }

                continue;
            }

            foreach (var next in successors[index])
            {
                queue.Enqueue(next);
            }
        }

        return seen;
    }
}
