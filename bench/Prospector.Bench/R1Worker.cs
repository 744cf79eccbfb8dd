using System.Diagnostics;
using System.Globalization;

namespace Prospector.Bench;

/// <summary>
/// One worker slot of the soak: a real <c>dotnet Prospector.Server.dll --role worker</c> process, killed with SIGKILL and
/// started again in the same slot. Each incarnation's console (JSON lines) goes to its own log file.
/// </summary>
public sealed class R1Worker(int slot, string dll, string logDirectory, IReadOnlyDictionary<string, string> environment) : IDisposable
{
    private readonly Lock _gate = new();
    private Process? _process;
    private StreamWriter? _log;
    private long _lastSendTicks;
    private long _readyTicks;

    public int Slot { get; } = slot;

    /// <summary>Processes started in this slot so far.</summary>
    public int Incarnations { get; private set; }

    public int? Pid { get { lock (_gate) { return _process?.Id; } } }

    public bool HasExited { get { lock (_gate) { return _process is null || _process.HasExited; } } }

    /// <summary>The current incarnation has started its host (or already sent).</summary>
    public bool IsReady => Interlocked.Read(ref _readyTicks) > 0 && !HasExited;

    /// <summary>The current incarnation logged a send outcome within <paramref name="window"/>.</summary>
    public bool SentWithin(TimeSpan window)
        => Interlocked.Read(ref _lastSendTicks) is var t and > 0 && Stopwatch.GetElapsedTime(t) <= window;

    public void Start()
    {
        lock (_gate)
        {
            _process?.Dispose();
            _log?.Dispose();
            Incarnations++;
            var incarnation = Incarnations;
            Interlocked.Exchange(ref _readyTicks, 0);
            Interlocked.Exchange(ref _lastSendTicks, 0);
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

            var log = new StreamWriter(Path.Combine(logDirectory, string.Create(CultureInfo.InvariantCulture, $"worker{Slot}-{Incarnations:000}.log"))) { AutoFlush = true };
            var process = new Process { StartInfo = start };
            process.OutputDataReceived += (_, e) => Line(incarnation, log, e.Data);
            process.ErrorDataReceived += (_, e) => Line(incarnation, log, e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            (_process, _log) = (process, log);
        }
    }

    /// <summary>SIGKILL (what <c>kill -9</c> sends: no shutdown code runs), then waits for the process to be gone.</summary>
    public void Kill()
    {
        Process? process;
        lock (_gate)
        {
            process = _process;
        }

        if (process is null || process.HasExited)
        {
            return;
        }

        process.Kill(entireProcessTree: false);
        process.WaitForExit(10_000);
    }

    /// <summary>The last lines of the current incarnation's log, for failures.</summary>
    public string LogPath => Path.Combine(logDirectory, string.Create(CultureInfo.InvariantCulture, $"worker{Slot}-{Incarnations:000}.log"));

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
            // Never started, or already gone.
        }

        lock (_gate)
        {
            _process?.Dispose();
            _log?.Dispose();
            (_process, _log) = (null, null);
        }
    }

    private void Line(int incarnation, StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        // The dispatcher's "Send {SendId} (…): {Outcome} {SmtpStatus}" entry; the host's "Application started". A killed
        // incarnation's last buffered lines say nothing about the current one.
        var current = incarnation == Incarnations;
        if (current && line.Contains("\"SendId\"", StringComparison.Ordinal))
        {
            Interlocked.Exchange(ref _lastSendTicks, Stopwatch.GetTimestamp());
            Interlocked.CompareExchange(ref _readyTicks, Stopwatch.GetTimestamp(), 0);
        }
        else if (current && line.Contains("Application started", StringComparison.Ordinal))
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
