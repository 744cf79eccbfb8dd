using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Prospector.Core.Email;
using Prospector.Email.Smtp;

namespace Prospector.Bench;

/// <summary>The real <see cref="SmtpEmailSender"/> with a stopwatch around each send (time includes the wait for the pooled connection).</summary>
public sealed class TimedEmailSender(SmtpEmailSender inner) : IEmailSender, IAsyncDisposable
{
    private long _count;
    private long _ticks;
    private long _notSent;

    public long Count => Interlocked.Read(ref _count);

    public long NotSent => Interlocked.Read(ref _notSent);

    public TimeSpan Total => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks));

    public void Reset()
    {
        Interlocked.Exchange(ref _count, 0);
        Interlocked.Exchange(ref _ticks, 0);
        Interlocked.Exchange(ref _notSent, 0);
    }

    public async Task<SendResult> SendAsync(SmtpEndpoint endpoint, OutgoingEmail email, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var result = await inner.SendAsync(endpoint, email, cancellationToken);
        Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref _count);
        if (result.Outcome != SendOutcome.Sent)
        {
            Interlocked.Increment(ref _notSent);
        }

        return result;
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>One kind of database statement seen during the profiled pass.</summary>
public sealed record StatementStat(string Phase, string Statement, long Count, TimeSpan Total);

/// <summary>
/// Listens to Npgsql's ActivitySource ("Npgsql") and attributes each command to the dispatcher phase whose method issued
/// it (from the stack at command start). Bench-only; the stack capture slows the profiled pass, so its wall time is
/// not one of the measured figures.
/// </summary>
public sealed partial class NpgsqlProfiler : IDisposable
{
    // Async frames print under their own method names ("at …DispatchStore.BeginSendAsync(…)"); a helper resumed after
    // an await has only itself on the stack, hence the helpers too.
    private static readonly (string Frame, string Phase)[] Phases =
    [
        ("DispatchStore.ClaimDueAsync(", "claim (per batch)"),
        ("DispatchStore.ReserveSlotsAsync(", "claim (per batch)"),
        ("DispatchStore.LoadAsync(", "load (per batch)"),
        ("DispatchStore.BeginSendAsync(", "pre-send transaction"),
        ("DispatchStore.MarkSentAsync(", "mark-sent transaction"),
        ("DispatchStore.AdvanceAsync(", "mark-sent transaction"), // the one-email sequence advances only from MarkSent
        ("DispatchStore.FactEventsAsync(", "facts"),
    ];

    private readonly ActivityListener _listener;
    private readonly ConcurrentDictionary<(string Phase, string Statement), (long Count, long Ticks)> _stats = new();
    private volatile bool _on;

    public NpgsqlProfiler()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => _on ? ActivitySamplingResult.AllData : ActivitySamplingResult.None,
            ActivityStarted = Started,
            ActivityStopped = Stopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Start() => _on = true;

    public void Stop() => _on = false;

    public IReadOnlyList<StatementStat> Stats()
        => _stats.Select(kv => new StatementStat(kv.Key.Phase, kv.Key.Statement, kv.Value.Count, Stopwatch.GetElapsedTime(0, kv.Value.Ticks)))
            .OrderByDescending(s => s.Total).ToList();

    private static void Started(Activity activity)
    {
        // The innermost matching frame wins: a continuation can run inline under another phase's frames.
        var stack = new StackTrace(false).ToString();
        var phase = "other";
        var at = int.MaxValue;
        foreach (var (frame, name) in Phases)
        {
            var i = stack.IndexOf(frame, StringComparison.Ordinal);
            if (i >= 0 && i < at)
            {
                (phase, at) = (name, i);
            }
        }

        if (phase == "other" && stack.Contains("Hangfire", StringComparison.Ordinal))
        {
            phase = "Hangfire (background)";
        }
        else if (phase == "other" && stack.Contains("Prospector.Bench.Seed", StringComparison.Ordinal))
        {
            phase = "bench";
        }

        activity.SetCustomProperty("b1.phase", phase);
        activity.SetCustomProperty("b1.start", Stopwatch.GetTimestamp()); // after the stack capture
    }

    private void Stopped(Activity activity)
    {
        if (activity.GetCustomProperty("b1.phase") is not string phase || phase == "bench" || activity.GetCustomProperty("b1.start") is not long start)
        {
            return;
        }

        var text = activity.GetTagItem("db.query.text") as string ?? activity.DisplayName;
        var statement = Whitespace().Replace(text, " ").Trim();
        if (statement.Length > 90)
        {
            statement = statement[..90] + "…";
        }

        // Dapper runs a statement given a list of parameter objects once per object, from its own frames only.
        if (phase == "other" && (statement.StartsWith("insert into mailbox_slots", StringComparison.Ordinal)
            || statement.StartsWith("update mailboxes set last_slot_at", StringComparison.Ordinal)))
        {
            phase = "claim (per batch, one statement per row)";
        }

        var ticks = Stopwatch.GetTimestamp() - start;
        _stats.AddOrUpdate((phase, statement), (1, ticks), (_, v) => (v.Count + 1, v.Ticks + ticks));
    }

    public void Dispose() => _listener.Dispose();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
