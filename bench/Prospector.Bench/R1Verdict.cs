namespace Prospector.Bench;

/// <summary>A seeded enrollment: prospect <see cref="Index"/>, its unique recipient address, and when its first email fell due.</summary>
public sealed class R1Enrollment(Guid id, string email, int index)
{
    public Guid Id { get; } = id;
    public string Email { get; } = email;
    public int Index { get; } = index;
    public DateTimeOffset FirstDue { get; set; }
}

/// <summary>A row of our outbox at the end of the run.</summary>
public sealed class R1Send
{
    public Guid Id { get; init; }
    public Guid EnrollmentId { get; init; }
    public string StepId { get; init; } = "";
    public string MessageId { get; init; } = "";
    public string State { get; init; } = "";
    public int Attempts { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? SentAt { get; init; }
}

/// <summary>An enrollment at the end of the run.</summary>
public sealed class R1Final
{
    public Guid Id { get; init; }
    public string State { get; init; } = "";
    public string? StopReason { get; init; }
    public int CurrentStep { get; init; }
}

/// <summary>
/// What the outbox and the mailboxes say after the soak.
/// <list type="bullet">
/// <item><b>Duplicates</b>: a Message-ID delivered more than once, or one (enrollment, step) delivered more than once
/// (messages matched to their enrollment by the recipient address, unique per prospect, and to their step by the subject:
/// the follow-up is "Re: " + the first email's), counted apart for sends that ended 'unknown'; plus any delivered
/// message whose Message-ID is no row of our outbox.</item>
/// <item><b>Lost</b>: a step that should have been sent (every step, up to the first that ended 'unknown' or 'failed')
/// that is neither delivered (row 'sent' and in a mailbox) nor 'unknown' nor 'failed' with a reason.</item>
/// </list>
/// </summary>
public sealed record R1Verdict(
    int Enrollments,
    IReadOnlyDictionary<string, int> SendStates,
    IReadOnlyDictionary<string, int> EnrollmentStates,
    int Delivered,
    int DuplicatesOutsideUnknown,
    int DuplicatesOfUnknown,
    int Phantoms,
    int Lost,
    int UnknownDeliveredOnce,
    int UnknownNotDelivered,
    int UnknownResent,
    int FailedDelivered,
    IReadOnlyDictionary<string, (int Delivered, int NotDelivered)> UnknownByStep,
    (double P50, double P90, double Max) LatenessSeconds,
    int OrphanedClaims,
    int KillsThatOrphaned,
    int KillsThatLeftUnknown,
    IReadOnlyList<string> Problems)
{
    public const string FirstStep = "first";
    public const string FollowUpStep = "follow-up";

    private static readonly string[] Steps = [FirstStep, FollowUpStep];

    public bool Passed => DuplicatesOutsideUnknown == 0 && DuplicatesOfUnknown == 0 && Phantoms == 0 && Lost == 0 && UnknownResent == 0 && FailedDelivered == 0;

    public int Count(string sendState) => SendStates.GetValueOrDefault(sendState);

    public static R1Verdict Compute(
        R1Options o, IReadOnlyList<R1Enrollment> seeded, IReadOnlyList<R1Final> finals, IReadOnlyList<R1Send> sends, IReadOnlyList<R1Delivery> delivered, IReadOnlyList<R1Kill> kills)
    {
        var problems = new List<string>();
        var byEmail = seeded.ToDictionary(e => e.Email, StringComparer.Ordinal);
        var byMessageId = sends.ToDictionary(s => s.MessageId, StringComparer.Ordinal);
        var row = sends.ToDictionary(s => (s.EnrollmentId, s.StepId));
        var final = finals.ToDictionary(f => f.Id);

        // Deliveries per Message-ID and per (enrollment, step) read from the message itself, not from our outbox.
        var perMessageId = delivered.GroupBy(d => d.MessageId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var perStep = new Dictionary<(Guid, string), int>();
        var phantoms = 0;
        foreach (var d in delivered)
        {
            if (!byMessageId.ContainsKey(d.MessageId))
            {
                phantoms++;
                problems.Add($"delivered but no row of our outbox: Message-ID {d.MessageId}, subject \"{d.Subject}\"");
            }

            if (!byEmail.TryGetValue(d.To, out var enrollment))
            {
                problems.Add($"delivered to an address no prospect has: {d.To} (Message-ID {d.MessageId})");
                continue;
            }

            var key = (enrollment.Id, d.Subject.StartsWith("Re: ", StringComparison.Ordinal) ? FollowUpStep : FirstStep);
            perStep[key] = perStep.GetValueOrDefault(key) + 1;
        }

        var (dupOutside, dupUnknown) = (0, 0);
        foreach (var (messageId, n) in perMessageId.Where(p => p.Value > 1))
        {
            var state = byMessageId.TryGetValue(messageId, out var s) ? s.State : "no row";
            problems.Add($"Message-ID {messageId} delivered {n} times (send {state})");
            if (state == "unknown")
            {
                dupUnknown++;
            }
            else
            {
                dupOutside++;
            }
        }

        foreach (var ((enrollmentId, step), n) in perStep.Where(p => p.Value > 1))
        {
            var state = row.TryGetValue((enrollmentId, step), out var s) ? s.State : "no row";
            var sameId = s is not null && perMessageId.GetValueOrDefault(s.MessageId) == n;
            if (!sameId)
            {
                // Not already counted above as one Message-ID delivered n times: a resend under a new Message-ID.
                problems.Add($"enrollment {enrollmentId} step {step} delivered {n} times under different Message-IDs (send {state})");
                if (state == "unknown")
                {
                    dupUnknown++;
                }
                else
                {
                    dupOutside++;
                }
            }
        }

        var (lost, unknownOnce, unknownNone, unknownResent, failedDelivered) = (0, 0, 0, 0, 0);
        var unknownByStep = Steps.ToDictionary(step => step, _ => (Delivered: 0, NotDelivered: 0), StringComparer.Ordinal);
        foreach (var e in seeded)
        {
            var stopped = false;
            foreach (var step in Steps)
            {
                var s = row.GetValueOrDefault((e.Id, step));
                var n = perStep.GetValueOrDefault((e.Id, step));
                var f = final.GetValueOrDefault(e.Id);
                var where = $"enrollment {e.Id} (prospect {e.Index}, {f?.State}{(f?.StopReason is { } r ? " " + r : "")}) step {step}";
                if (stopped)
                {
                    if (s is not null || n > 0)
                    {
                        problems.Add($"{where}: a send after the sequence stopped ({s?.State ?? "no row"}, delivered {n})");
                        lost++;
                    }

                    continue;
                }

                switch (s?.State)
                {
                    case "sent" when n >= 1:
                        break;
                    case "sent":
                        problems.Add($"{where}: 'sent' but never delivered (Message-ID {s.MessageId})");
                        lost++;
                        break;
                    case "unknown":
                        stopped = true;
                        unknownByStep[step] = n == 0
                            ? unknownByStep[step] with { NotDelivered = unknownByStep[step].NotDelivered + 1 }
                            : unknownByStep[step] with { Delivered = unknownByStep[step].Delivered + 1 };
                        if (n == 0)
                        {
                            unknownNone++;
                        }
                        else if (n == 1)
                        {
                            unknownOnce++;
                        }
                        else
                        {
                            unknownResent++;
                        }

                        if (f is not { State: "paused", StopReason: "send_unknown" })
                        {
                            problems.Add($"{where}: send 'unknown' but the enrollment is not paused for it");
                            lost++;
                        }

                        break;
                    case "failed":
                        stopped = true;
                        if (n > 0)
                        {
                            failedDelivered++;
                            problems.Add($"{where}: 'failed' but delivered {n} times");
                        }
                        else if (string.IsNullOrWhiteSpace(s.LastError) && string.IsNullOrWhiteSpace(f?.StopReason))
                        {
                            problems.Add($"{where}: 'failed' without a reason");
                            lost++;
                        }

                        break;
                    default:
                        problems.Add($"{where}: {(s is null ? "no send row" : $"send left '{s.State}'")}, delivered {n}");
                        lost++;
                        break;
                }
            }
        }

        // How long each step waited past its due time before its send row was written: the backlog while workers restart,
        // plus a lease when a killed worker held its claim (the first email's due time is seeded; the follow-up's is the
        // first's sent_at + wait).
        var lateness = new List<double>();
        foreach (var e in seeded)
        {
            if (row.GetValueOrDefault((e.Id, FirstStep)) is not { } first)
            {
                continue;
            }

            lateness.Add((first.CreatedAt - e.FirstDue).TotalSeconds);
            if (first.SentAt is { } sentAt && row.GetValueOrDefault((e.Id, FollowUpStep)) is { } followUp)
            {
                lateness.Add((followUp.CreatedAt - (sentAt + TimeSpan.FromSeconds(o.WaitSeconds))).TotalSeconds);
            }
        }

        var (orphaned, killsOrphaning, killsUnknown) = Hits(o, sends, kills);
        return new R1Verdict(
            seeded.Count,
            sends.GroupBy(s => s.State, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            finals.GroupBy(f => f.State + (f.StopReason is { } r ? $" ({r})" : ""), StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            delivered.Count, dupOutside, dupUnknown, phantoms, lost, unknownOnce, unknownNone, unknownResent, failedDelivered,
            unknownByStep, Percentiles(lateness),
            orphaned, killsOrphaning, killsUnknown, problems);
    }

    private static (double P50, double P90, double Max) Percentiles(List<double> values)
    {
        if (values.Count == 0)
        {
            return (0, 0, 0);
        }

        values.Sort();
        double At(double q) => values[Math.Min(values.Count - 1, (int)(q * values.Count))];
        return (At(0.5), At(0.9), values[^1]);
    }

    /// <summary>
    /// What each kill left behind. A claim (enrollment, lease end L) seen leased right after a kill was orphaned when the
    /// first send row the enrollment got after that claim (created at or after L − lease) was written only after L (a
    /// worker claimed it again once the lease expired), or was 'sending' right after the kill and ended 'unknown', or
    /// never came. Each orphaned claim and each 'unknown' row is charged to the first kill that saw it.
    /// </summary>
    private static (int Orphaned, int KillsOrphaning, int KillsUnknown) Hits(R1Options o, IReadOnlyList<R1Send> sends, IReadOnlyList<R1Kill> kills)
    {
        var lease = TimeSpan.FromSeconds(o.LeaseSeconds);
        var rows = sends.ToLookup(s => s.EnrollmentId);
        var charged = new HashSet<(Guid, DateTimeOffset)>();
        var chargedUnknown = new HashSet<Guid>();
        var unknown = sends.Where(s => s.State == "unknown").Select(s => s.Id).ToHashSet();
        var (orphaned, killsOrphaning, killsUnknown) = (0, 0, 0);
        foreach (var kill in kills)
        {
            var mine = 0;
            foreach (var claim in kill.Claims.Where(c => !charged.Contains(c)))
            {
                var next = rows[claim.Id].Where(r => r.CreatedAt >= claim.LeaseUntil - lease).MinBy(r => r.CreatedAt);
                if (next is null || next.CreatedAt >= claim.LeaseUntil || (kill.Sending.Contains(next.Id) && next.State == "unknown"))
                {
                    charged.Add(claim);
                    mine++;
                }
            }

            var madeUnknown = kill.Sending.Count(id => unknown.Contains(id) && chargedUnknown.Add(id));
            orphaned += mine;
            killsOrphaning += mine > 0 ? 1 : 0;
            killsUnknown += madeUnknown > 0 ? 1 : 0;
        }

        return (orphaned, killsOrphaning, killsUnknown);
    }
}
