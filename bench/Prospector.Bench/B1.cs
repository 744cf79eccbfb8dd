using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;
using Npgsql;
using Prospector.Core.Email;
using Prospector.Core.Sequences;
using Prospector.Email.Smtp;
using Prospector.Server.Hosting;
using Prospector.Server.Security;
using Prospector.Storage;
using Prospector.Storage.Stores;

namespace Prospector.Bench;

/// <summary>A workspace whose mailboxes all send to the sink, and one one-email sequence per message size.</summary>
public sealed record B1Setup(Guid WorkspaceId, IReadOnlyList<Guid> MailboxIds, IReadOnlyDictionary<int, Guid> Sequences, IReadOnlyDictionary<int, string> Bodies);

/// <summary>One measured configuration: raw loop and end to end, same size, same NoDelay, same sink.</summary>
public sealed record B1Result(
    int Size, long MessageBytes, bool NoDelay, int RawCount, double RawSecondsBefore, double RawSecondsAfter, int E2eCount, double E2eSeconds, TimeSpan SenderTotal)
{
    /// <summary>The raw loop ran just before and just after the end-to-end phase; its rate is over both runs.</summary>
    public double RawRate => 2 * RawCount / (RawSecondsBefore + RawSecondsAfter);

    public double RawRateBefore => RawCount / RawSecondsBefore;

    public double RawRateAfter => RawCount / RawSecondsAfter;

    public double E2eRate => E2eCount / E2eSeconds;

    public double Ratio => E2eRate / RawRate;

    /// <summary>Share of the end-to-end wall time the one SMTP connection needed at the raw loop's pace.</summary>
    public double SmtpShare => E2eCount / RawRate / E2eSeconds;
}

/// <summary>The profiled end-to-end pass: statements per send by phase.</summary>
public sealed record B1Profile(int Size, int Count, double Seconds, TimeSpan SenderTotal, IReadOnlyList<StatementStat> Statements);

/// <summary>
/// B1: N due email steps drained by the real dispatcher (server composition, real SmtpEmailSender, template rendering,
/// pre-send and mark-sent transactions on PostgreSQL) vs one pooled MailKit SmtpClient sending N prebuilt messages in a
/// loop, both to the same Postfix smtp-sink on loopback, per message size and with NoDelay on and off.
/// </summary>
public static class B1
{
    private const int Warmup = 100;
    private const int WarmupNagle = 10;
    private const int FirstWarmup = 1000;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(20);

    public static async Task<int> RunAsync(B1Options o)
    {
        var machine = await Machine.DescribeAsync();
        Console.WriteLine($"B1 on {machine.Summary}");
        await using var bench = await BenchDatabase.CreateAsync(o.KeepDatabase);
        Console.WriteLine($"database {bench.Name}");
        await using var database = Database.ForPostgres(bench.ConnectionString);
        await new Migrator(database, NullLogger<Migrator>.Instance).MigrateAsync();
        var pgVersion = await Seed.ServerVersionAsync(bench.ConnectionString);
        await using var sink = await B1Sink.StartAsync();
        Console.WriteLine($"smtp-sink on 127.0.0.1:{sink.Port}");
        var setup = await SetupAsync(database, sink.Port, o);

        var results = new List<B1Result>();
        var sent = 0;
        foreach (var size in o.Sizes)
        {
            foreach (var noDelay in new[] { true, false })
            {
                var label = $"{size} B, NoDelay {(noDelay ? "on" : "off")}";
                var bytes = MessageBytes(RawMessage(0, setup.Bodies[size], o.Mailboxes, "raw"));
                var warmup = noDelay ? Warmup : WarmupNagle;

                // With Nagle on, the N depends on whether the delayed-ACK stall happens at this size (the warm-up tells).
                var stalls = 20 / await RawAsync(sink.Port, setup.Bodies[size], o.Mailboxes, noDelay, 20, 5) < 200;
                var n = noDelay || !stalls ? o.Messages : o.MessagesNagle;
                Console.WriteLine($"{label}: raw loop, {n:N0} messages of {bytes:N0} bytes…");
                var rawBefore = await RawAsync(sink.Port, setup.Bodies[size], o.Mailboxes, noDelay, n, warmup);
                Console.WriteLine($"{label}: raw {n / rawBefore:N0} msg/s; end to end, {n:N0} due steps…");
                // The first worker of the process also warms the JIT (tiered compilation is slow to tier up on a busy box):
                // without a longer warm-up, whichever row runs first is measured on unoptimised code.
                var e2eWarmup = results.Count == 0 ? FirstWarmup : warmup;
                var e2e = await EndToEndAsync(bench.ConnectionString, setup, size, noDelay, n, e2eWarmup, sent, o, null);
                sent = e2e.SentSoFar;
                Console.WriteLine($"{label}: end to end {n / e2e.Seconds:N0} steps/s; raw loop again…");
                var rawAfter = await RawAsync(sink.Port, setup.Bodies[size], o.Mailboxes, noDelay, n, warmup);
                var result = new B1Result(size, bytes, noDelay, n, rawBefore, rawAfter, n, e2e.Seconds, e2e.SenderTotal);
                results.Add(result);
                Console.WriteLine($"{label}: raw {n / rawAfter:N0} msg/s; ratio {result.Ratio:0.00}");
            }
        }

        B1Profile? profile = null;
        if (o.Profile)
        {
            var size = o.Sizes[0];
            var n = Math.Min(o.Messages, 2000);
            Console.WriteLine($"profiled end-to-end pass: {n:N0} steps of {size} B, NoDelay on…");
            using var profiler = new NpgsqlProfiler();
            var e2e = await EndToEndAsync(bench.ConnectionString, setup, size, true, n, Warmup, sent, o, profiler);
            profile = new B1Profile(size, n, e2e.Seconds, e2e.SenderTotal, profiler.Stats());
        }

        var markdown = B1Report.Markdown(o, machine, pgVersion, results, profile);
        Console.WriteLine();
        Console.WriteLine(markdown);
        if (o.WriteDoc)
        {
            Console.WriteLine($"wrote {BenchmarksDoc.WriteSection("B1", markdown)}");
        }

        return 0;
    }

    private static async Task<B1Setup> SetupAsync(Database db, int port, B1Options o)
    {
        var now = DateTimeOffset.UtcNow;
        var ct = CancellationToken.None;
        var workspaceId = await new WorkspaceStore(db).CreateAsync("b1", now, ct);
        var mailboxes = new List<Guid>();
        for (var k = 0; k < o.Mailboxes; k++)
        {
            var id = Guid.CreateVersion7(now);
            await new MailboxStore(db).CreateAsync(new MailboxRow
            {
                Id = id, WorkspaceId = workspaceId, Name = $"b1 sender {k}", FromAddress = $"sender{k}@bench.example.test", FromName = "Bench",
                DailyCap = 1_000_000, SmtpHost = "127.0.0.1", SmtpPort = port, SmtpSecurity = "none", CreatedAt = now,
                TimeZone = "UTC", WindowStartMinute = 0, WindowEndMinute = 24 * 60, WindowDays = "mon,tue,wed,thu,fri,sat,sun", State = "active",
            }, ct);
            mailboxes.Add(id);
        }

        var sequences = new Dictionary<int, Guid>();
        var bodies = new Dictionary<int, string>();
        foreach (var size in o.Sizes)
        {
            var body = BodyTemplate(size, o.Mailboxes);
            var sequenceId = Guid.CreateVersion7(now);
            await new SequenceStore(db).CreateAsync(new SequenceRow
            {
                Id = sequenceId, WorkspaceId = workspaceId, Name = $"b1 {size}", State = "active", Version = 1, CreatedAt = now, UpdatedAt = now,
                Definition = SequenceParser.Serialize(new SequenceDefinition([new EmailStep("intro", "Hello {{ first_name }}", body)])),
            }, ct);
            sequences[size] = sequenceId;
            bodies[size] = body;
        }

        await using var c = await db.OpenAsync(ct);
        await using var create = c.CreateCommand();
        create.CommandText = "create table bench_due (enrollment_id uuid primary key, phase text not null, due_at timestamptz not null)";
        await create.ExecuteNonQueryAsync(ct);
        return new B1Setup(workspaceId, mailboxes, sequences, bodies);
    }

    /// <summary>
    /// "Hi {{ first_name }}," and ASCII filler lines, sized so that the whole message is about <paramref name="size"/> bytes
    /// on the wire. The filler appears twice (the text part and its HTML twin), so each part gets about half.
    /// </summary>
    private static string BodyTemplate(int size, int mailboxes)
    {
        const string greeting = "Hi {{ first_name }},\n\n";
        var overhead = MessageBytes(RawMessage(0, greeting, mailboxes, "raw"));
        var filler = new System.Text.StringBuilder();
        for (var line = 1; filler.Length < (size - overhead) / 2; line++)
        {
            filler.Append(CultureInfo.InvariantCulture, $"Line {line:000}: a plain benchmark sentence, long enough to look like a real paragraph.\n");
        }

        var text = filler.ToString();
        var wanted = Math.Max(0, (size - (int)overhead) / 2);
        text = text.Length > wanted ? text[..Math.Max(0, wanted - 1)] + "\n" : text;
        return greeting + text;
    }

    /// <summary>
    /// What the dispatcher sends for step 0 of prospect i: the same composition (multipart/alternative from the one
    /// template, the default footer, a mailto List-Unsubscribe: the bench sets no public base URL) and headers.
    /// </summary>
    private static MimeMessage RawMessage(int i, string bodyTemplate, int mailboxes, string label)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Bench", $"sender{i % mailboxes}@bench.example.test"));
        message.To.Add(new MailboxAddress($"P{i}", $"{label}{i}@prospects.example.test"));
        message.Subject = $"Hello P{i}";
        message.Date = DateTimeOffset.UtcNow;
        message.MessageId = $"{Guid.CreateVersion7():N}@bench.example.test";
        var from = $"sender{i % mailboxes}@bench.example.test";
        var composed = MessageComposer.Compose(
            bodyTemplate.Replace("{{ first_name }}", $"P{i}", StringComparison.Ordinal),
            new ComposeOptions(null, AppendSignature: true, new FooterSettings(), UnsubscribeUrl: null, UnsubscribeMailto: from));
        foreach (var (name, value) in composed.Headers)
        {
            message.Headers.Add(name, value);
        }

        message.Body = new BodyBuilder { TextBody = composed.TextBody, HtmlBody = composed.HtmlBody }.ToMessageBody();
        return message;
    }

    private static long MessageBytes(MimeMessage message)
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        using var stream = new MemoryStream();
        message.WriteTo(format, stream);
        return stream.Length;
    }

    /// <summary>One MailKit SmtpClient on our own socket (NoDelay as asked), N prebuilt messages sent back to back. Returns seconds.</summary>
    private static async Task<double> RawAsync(int port, string bodyTemplate, int mailboxes, bool noDelay, int n, int warmup)
    {
        var messages = Enumerable.Range(0, warmup + n).Select(i => RawMessage(i, bodyTemplate, mailboxes, "raw")).ToList();
        using var client = new SmtpClient();
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", port);
        socket.NoDelay = noDelay;
        await client.ConnectAsync(socket, "127.0.0.1", port, SecureSocketOptions.None);
        var clock = new Stopwatch();
        for (var i = 0; i < messages.Count; i++)
        {
            if (i == warmup)
            {
                clock.Start();
            }

            var m = messages[i];
            await client.SendAsync(FormatOptions.Default, m, m.From.Mailboxes.Single(), [m.To.Mailboxes.Single()]);
        }

        clock.Stop();
        await client.DisconnectAsync(true);
        return clock.Elapsed.TotalSeconds;
    }

    private sealed record E2e(double Seconds, TimeSpan SenderTotal, int SentSoFar);

    /// <summary>A worker with the real sender; a warm-up batch, then N steps due at one instant. Time = last sent_at − commit.</summary>
    private static async Task<E2e> EndToEndAsync(
        string connectionString, B1Setup setup, int size, bool noDelay, int n, int warmup, int sentBefore, B1Options o, NpgsqlProfiler? profiler)
    {
        var app = await StartWorkerAsync(connectionString, o, noDelay);
        try
        {
            var timed = (TimedEmailSender)app.Services.GetRequiredService<IEmailSender>();
            var seed = new BenchSetup(setup.WorkspaceId, setup.MailboxIds, setup.Sequences[size]);
            var tag = $"s{size}{(noDelay ? "on" : "off")}{(profiler is null ? "" : "prof")}";
            await Seed.AddDueAsync(connectionString, seed, Enumerable.Repeat(DateTimeOffset.UtcNow, warmup).ToList(), $"warm{tag}x");
            await Seed.WaitForSentAsync(connectionString, sentBefore + warmup, Timeout);
            timed.Reset();
            profiler?.Start();
            var visibleAt = await Seed.AddDueAsync(connectionString, seed, Enumerable.Repeat(DateTimeOffset.UtcNow, n).ToList(), $"e2e{tag}x");
            var drained = await Seed.WaitForSentAsync(connectionString, sentBefore + warmup + n, Timeout);
            profiler?.Stop();
            if (timed.NotSent > 0)
            {
                throw new InvalidOperationException($"{timed.NotSent} sends did not end in Sent");
            }

            return new E2e((drained.LastSentAt - visibleAt).TotalSeconds, timed.Total, sentBefore + warmup + n);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            NpgsqlConnection.ClearAllPools();
        }
    }

    /// <summary>The server's own composition (role worker) with the real SmtpEmailSender behind a stopwatch.</summary>
    private static async Task<WebApplication> StartWorkerAsync(string connectionString, B1Options o, bool noDelay)
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["role"] = "worker",
            ["StorageOptions:PostgresConnectionString"] = o.AutoPrepare is { } prepare
                ? new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = prepare, AutoPrepareMinUsages = 2 }.ToString()
                : connectionString,
            ["urls"] = "http://127.0.0.1:0",
            ["ApiOptions:BootstrapApiKey"] = ApiKeys.Generate(),
            ["EmailOptions:NoDelay"] = noDelay ? "true" : "false",
            // The batch shows up within 0.1 s instead of up to the default 1 s: the drain is measured, not the idle poll.
            ["DispatcherOptions:PollInterval"] = "00:00:00.100",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
        };
        if (o.BatchSize is { } batch)
        {
            settings["DispatcherOptions:BatchSize"] = batch.ToString(CultureInfo.InvariantCulture);
        }

        if (o.Parallelism is { } parallelism)
        {
            settings["DispatcherOptions:Parallelism"] = parallelism.ToString(CultureInfo.InvariantCulture);
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddProspector();
        builder.Services.Replace(ServiceDescriptor.Singleton<IEmailSender>(sp =>
            new TimedEmailSender(new SmtpEmailSender(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<SmtpSenderOptions>>()))));
        var app = builder.Build();
        app.MapProspector();
        await app.StartAsync();
        return app;
    }
}
