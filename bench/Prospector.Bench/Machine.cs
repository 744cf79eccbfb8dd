using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Prospector.Bench;

/// <summary>Where a benchmark ran.</summary>
public sealed record Machine(int Cores, string Cpu, string Os, string Runtime, string? Commit, string? LoadAverage)
{
    public string Summary => $"{Cores} cores ({Cpu}), {Os}, {Runtime}{(Commit is null ? "" : $", commit {Commit}")}" +
        (LoadAverage is null ? "" : $", load average {LoadAverage} at start (the machine is shared)");

    public static async Task<Machine> DescribeAsync()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return new Machine(Environment.ProcessorCount, cpu ?? RuntimeInformation.ProcessArchitecture.ToString(), RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription, await CommitAsync(),
            File.Exists("/proc/loadavg") ? string.Join(' ', (await File.ReadAllTextAsync("/proc/loadavg")).Split(' ').Take(3)) : null);
    }

    private static async Task<string?> CommitAsync()
    {
        if (Repository.Find() is not { } root)
        {
            return null;
        }

        try
        {
            var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "-C", root, "describe", "--always", "--dirty" })
            {
                start.ArgumentList.Add(a);
            }

            using var git = Process.Start(start)!;
            var text = (await git.StandardOutput.ReadToEndAsync()).Trim();
            await git.WaitForExitAsync();
            return git.ExitCode == 0 && text.Length > 0 ? text : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no git on this machine
        }
    }
}
