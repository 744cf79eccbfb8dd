using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Dapper;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using Prospector.Core.Prospects;
using Prospector.Core.Sequences;
using Prospector.Storage;
using Prospector.Storage.Stores;
using Prospector.Storage.Tests;
using Prospector.Testing;
using Xunit.Abstractions;

namespace Prospector.EndToEnd.Tests;

/// <summary>
/// Three real worker processes of the built server on one PostgreSQL drain 2,000 due email steps into the local Postfix:
/// no step sent twice, no message delivered twice, every 'sent' row delivered, no mailbox over its daily or hourly cap,
/// and the steps the caps hold back are still active (not lost).
/// </summary>
public sealed class MultiProcessDispatchTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int WorkerCount = 3;
    private const int ProspectCount = 2_000;
    private const int MailboxCount = 20;
    private const int RecipientUsers = 10;     // user01..user10 receive (plus-addressed, one address per prospect)
    private const int FirstSenderUser = 21;    // user21..user40 are the 20 sending mailboxes
    private static readonly TimeSpan SendBound = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DeliveryBound = TimeSpan.FromSeconds(90);

    private readonly List<WorkerProcess> _workers = [];
    private TestDatabase? _database;

    /// <summary>Per mailbox: even ones are held by a daily cap of 80, odd ones by a rolling hourly cap of 70 (daily 120).
    /// Each mailbox gets 100 prospects, so every cap binds; the sum (1,500) is below the 2,000 due steps.</summary>
    private static (int Daily, int? Hourly) Limits(int mailbox) => mailbox % 2 == 0 ? (80, null) : (120, 70);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            worker.Dispose();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    [Fact]
    public async Task ThreeWorkerProcesses_SendEachDueStepOnce_WithinEveryMailboxCap()
    {
        var ct = CancellationToken.None;
        var tag = "mp" + Guid.NewGuid().ToString("N")[..10];
        _database = await TestDatabase.CreateAsync(SqlDialect.Postgres); // fresh database, production Migrator
        var db = _database.Database;
        var now = DateTimeOffset.UtcNow;

        // A zone where it is around noon now: the all-day window's last minute (23:59-24:00) and the daily caps' local
        // midnight are hours away whenever the test runs, so neither can hold or reset anything mid-run.
        var zone = ZoneNearNoon(now);
        var workspaceId = await new WorkspaceStore(db).CreateAsync("multi-process " + tag, now, ct);
        var (smtpHost, smtpPort) = TestServices.Smtp;
        var mailboxes = new List<MailboxRow>();
        for (var k = 0; k < MailboxCount; k++)
        {
            var (daily, _) = Limits(k);
            var mailbox = new MailboxRow
            {
                Id = Guid.CreateVersion7(now), WorkspaceId = workspaceId, Name = $"sender {k}", FromAddress = TestServices.MailUser(FirstSenderUser + k),
                FromName = "Multi Process", DailyCap = daily, SmtpHost = smtpHost, SmtpPort = smtpPort, SmtpSecurity = "none", CreatedAt = now,
                TimeZone = zone, WindowStartMinute = 0, WindowEndMinute = 23 * 60 + 59, WindowDays = "mon,tue,wed,thu,fri,sat,sun", State = "active",
            };
            await new MailboxStore(db).CreateAsync(mailbox, ct);
            mailboxes.Add(mailbox);
        }

        await using (var c = await db.OpenAsync(ct))
        {
            // Schema 0007's limits (no store writes them yet): no gap, no ramp-up; the hourly cap where Limits says so.
            for (var k = 0; k < MailboxCount; k++)
            {
                await c.ExecuteAsync("update mailboxes set hourly_cap = @hourly, min_gap_seconds = 0, ramp_start = null, ramp_step = null where id = @id",
                    new { hourly = Limits(k).Hourly, id = mailboxes[k].Id });
            }
        }

        var sequence = new SequenceRow
        {
            Id = Guid.CreateVersion7(now), WorkspaceId = workspaceId, Name = "multi-process " + tag, State = "active", Version = 1,
            Definition = SequenceParser.Serialize(new SequenceDefinition([new EmailStep("intro", "Hello {{ first_name }} [" + tag + "]", "Hi {{ first_name }}, one of many.")])),
            CreatedAt = now, UpdatedAt = now,
        };
        await new SequenceStore(db).CreateAsync(sequence, ct);

        var inputs = Enumerable.Range(0, ProspectCount)
            .Select(i => new ProspectInput(Recipient(tag, i), null, $"P{i}", null, null, null, null, null, null, zone, null, new Dictionary<string, string>()))
            .ToList();
        var prospects = await new ProspectStore(db, new CompanyStore(db)).UpsertAsync(workspaceId, inputs, now, ct);
        var enrolled = await new EnrollmentStore(db).EnrollAsync(
            new EnrollPlan(workspaceId, sequence.Id, 1, mailboxes.Select(m => m.Id).ToList(), 0, now, now)
            {
                ProspectIds = prospects.Ids, NeedsEmail = true, SkipActiveInOtherSequences = false,
            }, ct);
        Assert.Empty(enrolled.Skipped);
        Assert.Equal(ProspectCount, enrolled.Enrolled.Count);
        var capOf = mailboxes.Select((m, k) => (m.Id, Cap: Math.Min(Limits(k).Daily, Limits(k).Hourly ?? int.MaxValue))).ToDictionary(x => x.Id, x => x.Cap);
        var perMailbox = enrolled.Enrolled.GroupBy(e => e.MailboxId).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(capOf, m => Assert.True(perMailbox.GetValueOrDefault(m.Key) > m.Value, $"mailbox {m.Key} has {perMailbox.GetValueOrDefault(m.Key)} prospects, not more than its cap {m.Value}"));

        // Three real OS processes of the built server, role worker, on this database.
        var dll = ServerDll();
        output.WriteLine($"server: {dll}; zone {zone}; tag {tag}");
        for (var n = 0; n < WorkerCount; n++)
        {
            _workers.Add(WorkerProcess.Start(n, dll, _database.PostgresConnectionString!));
        }

        var (sent, elapsed) = await WaitUntilSendsStopAsync(db);
        output.WriteLine($"sends stopped at {sent} 'sent' after {elapsed.TotalSeconds:0.0} s");
        foreach (var worker in _workers)
        {
            Assert.False(worker.HasExited, $"worker {worker.Number} exited early:\n{worker.Tail()}");
        }

        // Stop the workers before reading the final state: nothing may change under the checks.
        foreach (var worker in _workers)
        {
            worker.Dispose();
        }

        List<SendFact> sends;
        List<EnrollmentFact> enrollments;
        await using (var c = await db.OpenAsync(ct))
        {
            sends = (await c.QueryAsync<SendFact>(
                "select id, enrollment_id, step_id, mailbox_id, message_id, state, sent_at from sends where workspace_id = @workspaceId",
                new { workspaceId })).AsList();
            enrollments = (await c.QueryAsync<EnrollmentFact>(
                "select id, mailbox_id, state, next_due_at from enrollments where workspace_id = @workspaceId", new { workspaceId })).AsList();
        }

        // 0 duplicates in our outbox, and nothing left in doubt or failed.
        Assert.Empty(sends.GroupBy(s => (s.EnrollmentId, s.StepId)).Where(g => g.Count() > 1).Select(g => g.Key));
        Assert.Empty(sends.Where(s => s.State is not "sent").Select(s => $"{s.Id}: {s.State}"));
        var sentRows = sends.Where(s => s.State == "sent").ToList();

        // Every 'sent' row delivered exactly once, and nothing delivered that is not a 'sent' row.
        var delivered = await WaitForDeliveriesAsync(tag, sentRows.Count);
        Assert.Empty(delivered.GroupBy(d => d.MessageId).Where(g => g.Count() > 1).Select(g => $"{g.Key} delivered {g.Count()} times"));
        Assert.Empty(delivered.GroupBy(d => d.To).Where(g => g.Count() > 1).Select(g => $"{g.Key} received {g.Count()} messages"));
        var deliveredIds = delivered.Select(d => d.MessageId).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(sentRows.Where(s => !deliveredIds.Contains(s.MessageId)).Select(s => $"sent but not delivered: {s.MessageId}"));
        Assert.Empty(deliveredIds.Except(sentRows.Select(s => s.MessageId), StringComparer.Ordinal).Select(id => $"delivered but not a sent row: {id}"));

        // Nothing lost: every enrollment was either sent (and completed) or is still active with a due time.
        var sentEnrollments = sentRows.Select(s => s.EnrollmentId).ToHashSet();
        Assert.Empty(enrollments.Where(e => sentEnrollments.Contains(e.Id) && e.State != "completed").Select(e => $"{e.Id} sent but {e.State}"));
        Assert.Empty(enrollments.Where(e => !sentEnrollments.Contains(e.Id) && (e.State != "active" || e.NextDueAt is null))
            .Select(e => $"{e.Id} not sent but {e.State}, due {e.NextDueAt:O}"));

        // The work was shared: at least two processes sent (each process's own log says which sends it made).
        var byWorker = _workers.Select(w => (w.Number, Sent: w.SentSendIds())).ToList();
        foreach (var (number, ids) in byWorker)
        {
            output.WriteLine($"worker {number}: {ids.Count} sends");
        }

        Assert.Empty(byWorker.SelectMany(w => w.Sent.Select(id => (id, w.Number))).GroupBy(x => x.id).Where(g => g.Count() > 1).Select(g => $"send {g.Key} logged as sent by workers {string.Join(",", g.Select(x => x.Number))}"));
        Assert.Equal(sentRows.Select(s => s.Id).Order(), byWorker.SelectMany(w => w.Sent).Order());
        Assert.True(byWorker.Count(w => w.Sent.Count > 0) >= 2, "fewer than 2 worker processes sent anything");

        // No cap exceeded, across processes: per mailbox, the daily cap and (all sends fall within one rolling hour) the hourly cap.
        var sentPerMailbox = sentRows.GroupBy(s => s.MailboxId).ToDictionary(g => g.Key, g => g.ToList());
        for (var k = 0; k < MailboxCount; k++)
        {
            var rows = sentPerMailbox.GetValueOrDefault(mailboxes[k].Id) ?? [];
            var (daily, hourly) = Limits(k);
            output.WriteLine($"mailbox {k}: {rows.Count} sent (daily {daily}, hourly {hourly?.ToString() ?? "-"})");
            Assert.True(rows.Count <= daily, $"mailbox {k} sent {rows.Count}, over its daily cap {daily}");
            if (hourly is { } h)
            {
                Assert.True(MaxInAnyHour(rows.Select(r => r.SentAt!.Value)) <= h, $"mailbox {k} sent {MaxInAnyHour(rows.Select(r => r.SentAt!.Value))} within an hour, over its hourly cap {h}");
            }
        }

        // The caps were filled, not merely respected: the rest (500) wait as active enrollments.
        Assert.Equal(capOf.Values.Sum(), sentRows.Count);
        Assert.Equal(ProspectCount - capOf.Values.Sum(), enrollments.Count(e => e.State == "active"));
    }

    private static string Recipient(string tag, int i) => TestServices.MailUser(1 + i % RecipientUsers, $"{tag}-{i}");

    private static string ZoneNearNoon(DateTimeOffset now)
    {
        var offset = 12 - now.UtcDateTime.Hour; // -11..12 hours; Etc/GMT-N is UTC+N (POSIX sign)
        return offset switch { 0 => "UTC", > 0 => $"Etc/GMT-{offset}", _ => $"Etc/GMT+{-offset}" };
    }

    private static int MaxInAnyHour(IEnumerable<DateTimeOffset> times)
    {
        var sorted = times.Order().ToList();
        var (max, start) = (0, 0);
        for (var end = 0; end < sorted.Count; end++)
        {
            while (sorted[end] - sorted[start] >= TimeSpan.FromHours(1))
            {
                start++;
            }

            max = Math.Max(max, end - start + 1);
        }

        return max;
    }

    /// <summary>Polls our outbox until no send has turned 'sent' for <see cref="Quiet"/> and none is mid-SMTP, or the bound.</summary>
    private async Task<(int Sent, TimeSpan Elapsed)> WaitUntilSendsStopAsync(Database db)
    {
        var clock = Stopwatch.StartNew();
        var (last, lastChange) = (-1, TimeSpan.Zero);
        while (true)
        {
            await using var c = await db.OpenAsync(CancellationToken.None);
            var (sent, sending) = await c.QuerySingleAsync<(int, int)>(
                "select count(*) filter (where state = 'sent')::int, count(*) filter (where state = 'sending')::int from sends");
            if (sent != last)
            {
                output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s: {sent} sent, {sending} sending");
                (last, lastChange) = (sent, clock.Elapsed);
            }

            if (sent > 0 && sending == 0 && clock.Elapsed - lastChange >= Quiet)
            {
                return (sent, clock.Elapsed);
            }

            if (clock.Elapsed > SendBound || _workers.Any(w => w.HasExited))
            {
                return (sent, clock.Elapsed);
            }

            await Task.Delay(250);
        }
    }

    /// <summary>The run's messages in the recipients' real inboxes (IMAP), once at least <paramref name="expected"/> arrived or the bound passed.</summary>
    private async Task<List<Delivery>> WaitForDeliveriesAsync(string tag, int expected)
    {
        var deadline = DateTime.UtcNow + DeliveryBound;
        while (true)
        {
            var all = new List<Delivery>();
            var (host, port) = TestServices.Imap;
            for (var u = 1; u <= RecipientUsers; u++)
            {
                using var imap = new ImapClient();
                await imap.ConnectAsync(host, port, SecureSocketOptions.None);
                await imap.AuthenticateAsync(TestServices.MailUser(u), TestServices.MailPassword);
                await imap.Inbox.OpenAsync(FolderAccess.ReadOnly);
                var uids = await imap.Inbox.SearchAsync(SearchQuery.ToContains(tag));
                if (uids.Count > 0)
                {
                    foreach (var summary in await imap.Inbox.FetchAsync(uids, MessageSummaryItems.Envelope))
                    {
                        all.Add(new Delivery(summary.Envelope!.MessageId?.Trim('<', '>') ?? "", summary.Envelope.To.Mailboxes.Single().Address.ToLowerInvariant()));
                    }
                }

                await imap.DisconnectAsync(true);
            }

            if (all.Count >= expected || DateTime.UtcNow > deadline)
            {
                output.WriteLine($"{all.Count} delivered (expected {expected})");
                return all;
            }

            await Task.Delay(1000);
        }
    }

    /// <summary>
    /// The server's dll next to this test's configuration: src/Prospector.Server/bin/&lt;Configuration&gt;/net10.0, else the
    /// copy the project reference puts beside the test assembly.
    /// </summary>
    private static string ServerDll()
    {
        var testDir = new DirectoryInfo(AppContext.BaseDirectory);
        var (framework, configuration) = (testDir.Name, testDir.Parent?.Name ?? "Debug");
        for (var dir = testDir; dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Prospector.sln")))
            {
                var built = Path.Combine(dir.FullName, "src", "Prospector.Server", "bin", configuration, framework, "Prospector.Server.dll");
                if (File.Exists(built) && File.Exists(Path.ChangeExtension(built, ".runtimeconfig.json")))
                {
                    return built;
                }

                break;
            }
        }

        var copied = Path.Combine(AppContext.BaseDirectory, "Prospector.Server.dll");
        Assert.True(File.Exists(copied) && File.Exists(Path.ChangeExtension(copied, ".runtimeconfig.json")),
            $"Prospector.Server.dll not found (looked in src/Prospector.Server/bin/{configuration}/{framework} and {AppContext.BaseDirectory}); build the solution first");
        return copied;
    }

    private sealed record Delivery(string MessageId, string To);

    private sealed class SendFact
    {
        public Guid Id { get; init; }
        public Guid EnrollmentId { get; init; }
        public string StepId { get; init; } = "";
        public Guid MailboxId { get; init; }
        public string MessageId { get; init; } = "";
        public string State { get; init; } = "";
        public DateTimeOffset? SentAt { get; init; }
    }

    private sealed class EnrollmentFact
    {
        public Guid Id { get; init; }
        public Guid MailboxId { get; init; }
        public string State { get; init; } = "";
        public DateTimeOffset? NextDueAt { get; init; }
    }

    /// <summary>One `dotnet Prospector.Server.dll --role worker` process; killed (with its children) on dispose.</summary>
    private sealed class WorkerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();

        private WorkerProcess(int number, Process process)
        {
            Number = number;
            _process = process;
        }

        public int Number { get; }

        public bool HasExited => _process.HasExited;

        public static WorkerProcess Start(int number, string dll, string connectionString)
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
            {
                WorkingDirectory = Path.GetDirectoryName(dll)!,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(dll);
            start.ArgumentList.Add("--role");
            start.ArgumentList.Add("worker");
            start.Environment["StorageOptions__PostgresConnectionString"] = connectionString;
            start.Environment["DispatcherOptions__PollInterval"] = "00:00:00.200";
            start.Environment["DispatcherOptions__BatchSize"] = "25";
            start.Environment["HangfireOptions__WorkerCount"] = "2";
            start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            // One JSON object per line: the dispatcher's structured "Send {SendId} … {Outcome}" entries say which process sent what.
            start.Environment["Logging__Console__FormatterName"] = "json";
            var process = new Process { StartInfo = start };
            var worker = new WorkerProcess(number, process);
            process.OutputDataReceived += (_, e) => worker.Add(e.Data);
            process.ErrorDataReceived += (_, e) => worker.Add(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return worker;
        }

        /// <summary>Send ids this process logged with outcome Sent.</summary>
        public HashSet<Guid> SentSendIds()
        {
            var ids = new HashSet<Guid>();
            foreach (var line in _lines)
            {
                if (!line.StartsWith('{'))
                {
                    continue;
                }

                using var entry = JsonDocument.Parse(line);
                if (entry.RootElement.TryGetProperty("State", out var state) && state.ValueKind == JsonValueKind.Object
                    && state.TryGetProperty("SendId", out var sendId) && state.TryGetProperty("Outcome", out var outcome)
                    && outcome.GetString() == "Sent" && Guid.TryParse(sendId.GetString(), out var id))
                {
                    ids.Add(id);
                }
            }

            return ids;
        }

        public string Tail() => string.Join('\n', _lines.TakeLast(40));

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(10_000);
                }

                _process.Dispose();
            }
            catch (InvalidOperationException)
            {
                // Never started, or already gone.
            }
        }

        private void Add(string? line)
        {
            if (line is not null)
            {
                _lines.Enqueue(line);
            }
        }
    }
}
