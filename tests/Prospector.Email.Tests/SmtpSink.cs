using System.Diagnostics;
using System.Net.Sockets;

namespace Prospector.Email.Tests;

/// <summary>Postfix's smtp-sink on a free loopback port, with fault options (see man smtp-sink). Killed on dispose.</summary>
internal sealed class SmtpSink : IAsyncDisposable
{
    private const string Program = "/usr/sbin/smtp-sink";
    private readonly Process _process;

    private SmtpSink(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static Task<SmtpSink> StartAsync(params string[] faultOptions) => StartOnAsync(MailTestSupport.ClosedPort(), faultOptions);

    public static async Task<SmtpSink> StartOnAsync(int port, params string[] faultOptions)
    {
        if (!File.Exists(Program))
        {
            throw new InvalidOperationException($"{Program} is missing; run deploy/local/install-deps.sh (package postfix).");
        }

        var start = new ProcessStartInfo(Program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Environment.UserName == "root")
        {
            // smtp-sink refuses to keep super-user privileges.
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add("nobody");
        }

        foreach (var option in faultOptions)
        {
            start.ArgumentList.Add(option);
        }

        start.ArgumentList.Add($"127.0.0.1:{port}");
        start.ArgumentList.Add("64");
        var process = Process.Start(start) ?? throw new InvalidOperationException("smtp-sink did not start");
        var sink = new SmtpSink(process, port);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            if (process.HasExited)
            {
                var error = await process.StandardError.ReadToEndAsync();
                throw new InvalidOperationException($"smtp-sink exited with {process.ExitCode}: {error}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return sink;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
