using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Prospector.Server.Tests;

/// <summary>
/// Postfix's smtp-sink on a loopback port, with fault options (see man smtp-sink), for engine-level fault tests. It runs
/// verbose (<c>-v</c>) so every SMTP command is counted, and dumps every message whose "." it read (<c>-d</c>) so the
/// test can see what the server received. Killed on dispose. (A copy of the Email tests' helper, extended; test
/// projects do not reference each other.)
/// </summary>
internal sealed class SmtpSink : IAsyncDisposable
{
    private const string Program = "/usr/sbin/smtp-sink";
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly string _dumps;

    private SmtpSink(Process process, int port, string dumps)
    {
        _process = process;
        Port = port;
        _dumps = dumps;
    }

    public int Port { get; }

    /// <summary>SMTP sessions that got as far as EHLO.</summary>
    public int Sessions => Count("ehlo ");

    /// <summary>MAIL FROM commands: transactions started.</summary>
    public int Transactions => Count("mail FROM:");

    /// <summary>Final "." lines read: message bodies fully transferred.</summary>
    public int Dots => _log.Count(l => l == ".");

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static Task<SmtpSink> StartAsync(params string[] faultOptions) => StartOnAsync(FreePort(), faultOptions);

    public static async Task<SmtpSink> StartOnAsync(int port, params string[] faultOptions)
    {
        if (!File.Exists(Program))
        {
            throw new InvalidOperationException($"{Program} is missing; run deploy/local/install-deps.sh (package postfix).");
        }

        var dumps = Directory.CreateTempSubdirectory("smtp-sink-").FullName;
        var start = new ProcessStartInfo(Program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (!OperatingSystem.IsWindows() && Environment.UserName == "root")
        {
            // smtp-sink refuses to keep super-user privileges; the unprivileged user must be able to write the dumps.
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add("nobody");
            File.SetUnixFileMode(dumps, (UnixFileMode)0x1FF);
        }

        start.ArgumentList.Add("-v");
        start.ArgumentList.Add("-d");
        start.ArgumentList.Add(Path.Combine(dumps, "%H%M%S."));
        foreach (var option in faultOptions)
        {
            start.ArgumentList.Add(option);
        }

        start.ArgumentList.Add($"127.0.0.1:{port}");
        start.ArgumentList.Add("64");
        var process = new Process { StartInfo = start };
        var sink = new SmtpSink(process, port, dumps);
        process.OutputDataReceived += (_, e) => sink.Record(e.Data);
        process.ErrorDataReceived += (_, e) => sink.Record(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"smtp-sink exited with {process.ExitCode}: {string.Join('\n', sink._log)}");
            }

            // The probe sends no EHLO: Sessions counts only the client's.
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return sink;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
            }

            await Task.Delay(20);
        }
    }

    /// <summary>The messages the sink read to the end ("."), oldest first, as dumped (its own X- headers, then ours).</summary>
    public IReadOnlyList<string> Messages()
        => Directory.GetFiles(_dumps).Select(f => (File: f, Time: File.GetLastWriteTimeUtc(f))).OrderBy(f => f.Time).Select(f => File.ReadAllText(f.File)).ToArray();

    /// <summary>How many received messages carry this Message-ID.</summary>
    public int MessagesWithId(string messageId) => Messages().Count(m => m.Contains($"Message-ID: <{messageId}>", StringComparison.OrdinalIgnoreCase));

    /// <summary>Waits (briefly) until the sink logged at least <paramref name="count"/> final dots: its log arrives asynchronously.</summary>
    public async Task SettleAsync(int dots = 0, int sessions = 0)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while ((Dots < dots || Sessions < sessions) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await Task.Delay(100);
    }

    private int Count(string prefix) => _log.Count(l => l.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        const string Tag = "smtp-sink: ";
        var at = line.IndexOf(Tag, StringComparison.Ordinal);
        _log.Enqueue(at >= 0 ? line[(at + Tag.Length)..] : line);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_dumps, recursive: true);
        }
        catch (IOException)
        {
            // A dump still being written: the temp directory is left behind.
        }
    }
}
