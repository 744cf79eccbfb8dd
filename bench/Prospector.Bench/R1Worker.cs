using System.Diagnostics;
using System.Globalization;

namespace Prospector.Bench;

/// <summary>
/// One worker slot of the soak: a real <c>dotnet Prospector.Server.dll --role worker</c> process, killed with SIGKILL and
/// started again in the same slot. Each incarnation's console (JSON lines) goes to its own log file.
/// </summary>
/// <remarks>
/// A kill is armed, then fired by the worker's own next send log line ("Send {SendId} …: {Outcome}", written between
/// the SMTP answer and marking the outcome), from the thread that reads its console: the kill lands while that send is
/// being marked and its batch's other sends are in flight, not while the process idles between polls.
/// </remarks>
public sealed class R1Worker(int slot, string dll, string logDirectory, IReadOnlyDictionary<string, string> environment) : IDisposable
{
    private readonly Lock _gate = new();
    private Process? _process;
    private StreamWriter? _log;
    private int _incarnations;
    private long _firstSendTicks;
    private long _readyTicks;
    private TaskCompletionSource<long>? _trigger;
    private volatile bool _killedBySoak;

    public int Slot { get; } = slot;

    /// <summary>Processes started in this slot so far.</summary>
    public int Incarnations => Volatile.Read(ref _incarnations);

    public int? Pid
    {
        get
        {
            lock (_gate)
            {
                return _process?.Id;
            }
        }
    }

    /// <summary>The current incarnation is gone and the soak did not kill it.</summary>
    public bool ExitedByItself
    {
        get
        {
            lock (_gate)
            {
                return !_killedBySoak && _process is not null && _process.HasExited;
            }
        }
    }

    /// <summary>The current incarnation started its host (or already sent).</summary>
    public bool IsReady => Interlocked.Read(ref _readyTicks) > 0;

    public string LogPath => Path.Combine(logDirectory, string.Create(CultureInfo.InvariantCulture, $"worker{Slot}-{Incarnations:000}.log"));

    /// <summary>The current incarnation logged its first send at least <paramref name="since"/> ago.</summary>
    public bool SendingSince(TimeSpan since)
        => Interlocked.Read(ref _firstSendTicks) is var first and > 0 && Stopwatch.GetElapsedTime(first) >= since;

    public void Start()
    {
        lock (_gate)
        {
            _process?.Dispose();
            _log?.Dispose();
            var incarnation = Interlocked.Increment(ref _incarnations);
            Interlocked.Exchange(ref _readyTicks, 0);
            Interlocked.Exchange(ref _firstSendTicks, 0);
            _killedBySoak = false;
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
            {
                WorkingDirectory = Path.GetDirectoryName(dll)!,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { dll, "--role", "worker" })
            {
                start.ArgumentList.Add(a);
            }

            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }

            var log = new StreamWriter(LogPath) { AutoFlush = true };
            var process = new Process { StartInfo = start };
            process.OutputDataReceived += (_, e) => Line(incarnation, process, log, e.Data);
            process.ErrorDataReceived += (_, e) => Line(incarnation, process, log, e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            (_process, _log) = (process, log);
        }
    }

    /// <summary>Arms a kill fired by this incarnation's next send log line; the task completes with the kill's timestamp.</summary>
    public Task<long> ArmKill()
    {
        var trigger = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _trigger, trigger)?.TrySetCanceled();
        return trigger.Task;
    }

    public void Disarm() => Interlocked.Exchange(ref _trigger, null)?.TrySetCanceled();

    /// <summary>Waits until the killed incarnation is gone.</summary>
    public void WaitGone()
    {
        lock (_gate)
        {
            _process?.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Disarm();
        lock (_gate)
        {
            try
            {
                if (_process is { HasExited: false })
                {
                    _killedBySoak = true;
                    _process.Kill(entireProcessTree: false);
                    _process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // Never started, or already gone.
            }

            _process?.Dispose();
            _log?.Dispose();
            (_process, _log) = (null, null);
        }
    }

    private void Line(int incarnation, Process process, StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        // A killed incarnation's last buffered lines say nothing about the current one.
        if (incarnation == Incarnations && line.Contains("\"SendId\"", StringComparison.Ordinal))
        {
            Interlocked.CompareExchange(ref _firstSendTicks, Stopwatch.GetTimestamp(), 0);
            Interlocked.CompareExchange(ref _readyTicks, Stopwatch.GetTimestamp(), 0);
            if (Interlocked.Exchange(ref _trigger, null) is { } trigger)
            {
                // SIGKILL, what `kill -9` sends: no shutdown code runs in the worker.
                _killedBySoak = true;
                try
                {
                    process.Kill(entireProcessTree: false);
                    trigger.TrySetResult(Stopwatch.GetTimestamp());
                }
                catch (InvalidOperationException)
                {
                    trigger.TrySetCanceled(); // already gone
                }
            }
        }
        else if (incarnation == Incarnations && line.Contains("Application started", StringComparison.Ordinal))
        {
            Interlocked.CompareExchange(ref _readyTicks, Stopwatch.GetTimestamp(), 0);
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // The slot moved on to a new incarnation while this one's last lines drained.
            }
        }
    }
}
