using System.Text;
using Prospector.Server.Hosting;

namespace Prospector.Bench;

/// <summary>The B1 section of docs/benchmarks.md.</summary>
public static class B1Report
{
#if DEBUG
    private static readonly string Build = "Debug";
#else
    private static readonly string Build = "Release";
#endif

    public static string Markdown(B1Options o, Machine machine, string pgVersion, IReadOnlyList<B1Result> results, B1Profile? profile)
    {
        var d = new DispatcherOptions();
        var batch = o.BatchSize ?? d.BatchSize;
        var parallelism = o.Parallelism ?? d.Parallelism;
        var s = new StringBuilder();
        s.AppendLine("## B1 — due email steps end to end vs a raw pooled MailKit send loop, same sink, same run").AppendLine();
        s.AppendLine($"Last run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {machine.Summary}; PostgreSQL {pgVersion} (the local test instance: fsync and synchronous_commit off).");
        if (Build != "Release")
        {
            s.AppendLine($"**{Build} build: not representative; run with `-c Release`.**");
        }

        s.AppendLine($"Command: `dotnet run -c Release --project bench/Prospector.Bench -- {o.CommandLine}`").AppendLine();
        s.AppendLine("| Message | NoDelay | Messages | Raw MailKit loop | End to end (dispatcher) | **Ratio e2e / raw** (target ≥ 0.8) |");
        s.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            var verdict = r.Ratio >= 0.8 ? "met" : "missed";
            s.AppendLine($"| {r.Size / 1024.0:0.#} KB ({r.MessageBytes:N0} B) | {(r.NoDelay ? "on" : "off")} | {r.RawCount:N0} | **{r.RawRate:N0} msg/s** (before {r.RawRateBefore:N0}, after {r.RawRateAfter:N0}) | " +
                $"**{r.E2eRate:N0} steps/s** ({r.E2eSeconds:0.00} s) | **{r.Ratio:0.00}** ({verdict}) |");
        }

        s.AppendLine();
        s.AppendLine("How it is measured:");
        s.AppendLine("- **Sink**: Postfix's `smtp-sink` on 127.0.0.1 (started by the bench, backlog 256), which answers 250 to everything and keeps nothing. " +
            "Both sides of a row talk to the same sink in the same run, over **one SMTP connection** each (all bench mailboxes share host, port and " +
            "no credentials, so the sender pools them onto one connection, as the raw loop uses one).");
        s.AppendLine("- **Raw**: one MailKit `SmtpClient` connected over our own socket with the row's NoDelay, sending prebuilt `MimeMessage`s " +
            "(composed like the dispatcher's: multipart/alternative from the one template, the default footer, a mailto List-Unsubscribe) back to back with `SendAsync(FormatOptions.Default, message, sender, recipients)`, " +
            $"after {Warmup()} untimed warm-up messages. Time = the loop's stopwatch. The loop runs just before and just after the end-to-end " +
            "phase (the machine is shared: a short loop is at the mercy of its neighbours); the rate is N × 2 ÷ the two times.");
        s.AppendLine($"- **End to end**: the server's own composition (`AddProspector`, role `worker`: DispatchLoop and Hangfire; BatchSize {batch}, " +
            $"Parallelism {parallelism}, PollInterval 100 ms so an idle poll does not count, logging at Warning" +
            (o.AutoPrepare is { } prepare ? $", **Npgsql `Max Auto Prepare={prepare}`**" : "") + ") with the **real `SmtpEmailSender`** " +
            "(its socket's NoDelay from `EmailOptions:NoDelay`) behind a stopwatch. Steps: enrollments at step 0 of a one-email sequence " +
            $"(\"Hello {{{{ first_name }}}}\" / a body template of the row's size) over {o.Mailboxes} mailboxes (caps 1,000,000/day, window 00:00–24:00 every day), " +
            "all due at one instant, committed in one binary-COPY transaction while the worker runs, after an untimed warm-up batch (1,000 steps " +
            "for the first row of the run, which also warms the JIT; 100, or 10 where Nagle stalls, for the others). Time = last " +
            "`sends.sent_at` − commit. Every step takes the production path: claim, load, render, pre-send transaction (Message-ID stored, state " +
            "`sending`), SMTP, mark sent and complete.");
        s.AppendLine($"- Smaller N with NoDelay off where Nagle stalls ({o.MessagesNagle:N0} instead of {o.Messages:N0}, chosen when the warm-up loop " +
            "runs under 200 msg/s): a message over one 4 KB MailKit write ends with a small segment that waits for the sink's delayed ACK " +
            "(~40 ms), so those rows run at a few dozen messages a second. Below 4 KB the message leaves in one write and Nagle costs nothing.");
        s.AppendLine("- SMTP busy share = (messages ÷ raw rate) ÷ end-to-end time: how much of the end-to-end wall time the one connection " +
            "needed at the raw loop's pace; the rest is the dispatcher's own work between sends.");
        s.AppendLine();
        s.AppendLine("| Message | NoDelay | SMTP busy share of e2e time | Mean `SendAsync` time in e2e (incl. wait for the connection) |");
        s.AppendLine("|---|---|---:|---:|");
        foreach (var r in results)
        {
            s.AppendLine($"| {r.Size / 1024.0:0.#} KB | {(r.NoDelay ? "on" : "off")} | {r.SmtpShare:P0} | {r.SenderTotal.TotalMilliseconds / r.E2eCount:0.00} ms |");
        }

        if (profile is not null)
        {
            AppendProfile(s, profile);
        }

        s.AppendLine();
        s.AppendLine("How to run: `bash deploy/local/services-start.sh` provides PostgreSQL (or set `PROSPECTOR_BENCH_PG`); `/usr/sbin/smtp-sink` comes " +
            "with Postfix. Each run creates a fresh database and drops it afterwards, prints the figures and rewrites this section. `-- b1 --help` " +
            "lists the options (`--messages`, `--messages-nagle`, `--sizes`, `--mailboxes`, `--parallelism`, `--batch`, `--auto-prepare`, `--no-profile`, `--no-doc`). Not part of CI.");
        return s.ToString();
    }

    private static string Warmup() => "100 (10 with NoDelay off)";

    private static void AppendProfile(StringBuilder s, B1Profile p)
    {
        var sends = (double)p.Count;
        var perSend = p.Statements.Where(x => x.Phase != "Hangfire (background)").ToList();
        s.AppendLine();
        s.AppendLine($"Where the end-to-end time goes (a separate profiled pass: {p.Count:N0} steps of {p.Size / 1024.0:0.#} KB, NoDelay on; every Npgsql command " +
            $"traced through its ActivitySource and attributed to the dispatcher phase that issued it from the stack, which slows this pass: " +
            $"{p.Count / p.Seconds:N0} steps/s). Per send: **{perSend.Sum(x => x.Count) / sends:0.0} SQL statements**, " +
            $"{perSend.Sum(x => x.Total.TotalMilliseconds) / sends:0.00} ms of statement time (summed over the parallel sends; COMMIT round trips are not traced), " +
            $"{p.SenderTotal.TotalMilliseconds / sends:0.00} ms in `SendAsync` (incl. the wait for the connection).");
        s.AppendLine();
        s.AppendLine("| Phase | Statements per send | Statement time per send |");
        s.AppendLine("|---|---:|---:|");
        foreach (var g in p.Statements.GroupBy(x => x.Phase).OrderByDescending(g => g.Sum(x => x.Total.TotalMilliseconds)))
        {
            s.AppendLine($"| {g.Key} | {g.Sum(x => x.Count) / sends:0.00} | {g.Sum(x => x.Total.TotalMilliseconds) / sends:0.000} ms |");
        }

        s.AppendLine();
        s.AppendLine("| Phase | Statement | Per send | Mean |");
        s.AppendLine("|---|---|---:|---:|");
        foreach (var x in perSend.Take(16))
        {
            s.AppendLine($"| {x.Phase} | `{x.Statement.Replace("|", "\\|", StringComparison.Ordinal)}` | {x.Count / sends:0.00} | {x.Total.TotalMilliseconds / x.Count:0.000} ms |");
        }
    }
}
