using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Prospector.Core.Prospects;
using Prospector.Core.Sequences;
using Prospector.Storage;
using Prospector.Storage.Stores;

namespace Prospector.Bench;

/// <summary>
/// One <c>kill -9</c> of the soak and what was in flight right after it (any worker's): the leased enrollments with their
/// lease ends, and the send rows still 'sending'.
/// </summary>
public sealed record R1Kill(int Number, double AtSeconds, int Slot, int Pid, IReadOnlySet<(Guid Id, DateTimeOffset LeaseUntil)> Claims, IReadOnlySet<Guid> Sending);

/// <summary>How the sending phase ended.</summary>
public sealed record R1Run(
    TimeSpan Start, TimeSpan Spread, TimeSpan Wall, bool TimedOut, IReadOnlyList<R1Kill> Kills, IReadOnlyList<string> UnexpectedExits, int Incarnations);

/// <summary>
/// R1, the kill soak: real worker processes (<c>Prospector.Server --role worker</c>) on one fresh PostgreSQL database send
/// a 2-email sequence through the local Postfix into Dovecot's Maildirs while one of them is SIGKILLed every
/// 0.5–3 s (seeded) and started again at once. Then our outbox and the delivered mail are compared: duplicates, lost
/// steps, and what became of the sends left in doubt ('unknown').
/// </summary>
public static class R1
{
    private const int MailboxCount = 10;
    private const int FirstSenderUser = 31;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    public static async Task<int> RunAsync(R1Options o)
    {
        var total = Stopwatch.StartNew();
        var machine = await Machine.DescribeAsync();
        Console.WriteLine($"R1 on {machine.Summary}");
        var dll = ServerDll(o);
        var smtp = Endpoint("PROSPECTOR_TEST_SMTP");
        var imap = Endpoint("PROSPECTOR_TEST_IMAP");
        var tag = "r1" + Guid.NewGuid().ToString("N")[..10];
        var logs = o.LogDirectory ?? Path.Combine(Path.GetTempPath(), "prospector-" + tag);
        Directory.CreateDirectory(logs);
        Console.WriteLine($"server {dll}; SMTP {smtp.Host}:{smtp.Port}; IMAP {imap.Host}:{imap.Port}; tag {tag}; worker logs in {logs}");

        await using var bench = await BenchDatabase.CreateAsync(o.KeepDatabase);
        Console.WriteLine($"database {bench.Name}");
        await using var database = Database.ForPostgres(bench.ConnectionString);
        await new Migrator(database, NullLogger<Migrator>.Instance).MigrateAsync();
        var pgVersion = await Seed.ServerVersionAsync(bench.ConnectionString);
        var enrollments = await SeedAsync(database, o, tag, smtp);
        Console.WriteLine($"seeded {enrollments.Count:N0} enrollments × 2 emails ({MailboxCount} mailboxes)");

        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["StorageOptions__PostgresConnectionString"] = bench.ConnectionString,
            ["DispatcherOptions__PollInterval"] = "00:00:00.200",
            ["DispatcherOptions__BatchSize"] = o.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["DispatcherOptions__Lease"] = TimeSpan.FromSeconds(o.LeaseSeconds).ToString("c", CultureInfo.InvariantCulture),
            ["HangfireOptions__WorkerCount"] = "1",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Logging__Console__FormatterName"] = "json",
            ["Logging__LogLevel__Microsoft.AspNetCore.DataProtection"] = "Error",
        };
        var workers = Enumerable.Range(0, o.Workers).Select(n => new R1Worker(n, dll, logs, environment)).ToList();
        try
        {
            foreach (var worker in workers)
            {
                worker.Start();
            }

            var start = await WaitReadyAsync(workers, TimeSpan.FromMinutes(2));
            var run = await SoakAsync(bench.ConnectionString, o, workers, enrollments, start);
            foreach (var worker in workers)
            {
                worker.Dispose();
            }

            var (sends, finals) = await ReadOutboxAsync(bench.ConnectionString);
            var sentRows = sends.Count(s => s.State == "sent");
            Console.WriteLine($"outbox: {string.Join(", ", sends.GroupBy(s => s.State).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count():N0} {g.Key}"))}; waiting for Postfix to deliver…");
            var delivered = await R1Mail.CollectAsync(imap, tag, sentRows, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(3));
            var verdict = R1Verdict.Compute(o, enrollments, finals, sends, delivered, run.Kills);
            if (!o.KeepMail)
            {
                await R1Mail.ExpungeAsync(imap, tag);
            }

            var report = new R1Report(o, machine, pgVersion, run, verdict, total.Elapsed);
            var markdown = report.Markdown();
            Console.WriteLine();
            Console.WriteLine(markdown);
            foreach (var line in verdict.Problems.Take(40))
            {
                Console.WriteLine("  " + line);
            }

            if (o.WriteDoc)
            {
                Console.WriteLine($"wrote {BenchmarksDoc.WriteSection("R1", markdown, "reliability.md")}");
            }

            return report.Passed ? 0 : 1;
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Dispose();
            }
        }
    }

    /// <summary>
    /// A workspace, <see cref="MailboxCount"/> mailboxes on the local Postfix (no cap binds, open all day every day, UTC),
    /// a sequence "first email, wait, follow-up in the same thread", and one enrollment per prospect, not yet due.
    /// </summary>
    private static async Task<IReadOnlyList<R1Enrollment>> SeedAsync(Database db, R1Options o, string tag, (string Host, int Port) smtp)
    {
        var ct = CancellationToken.None;
        var now = DateTimeOffset.UtcNow;
        var workspaceId = await new WorkspaceStore(db).CreateAsync("r1 " + tag, now, ct);
        var mailboxes = new List<Guid>();
        for (var k = 0; k < MailboxCount; k++)
        {
            var mailbox = new MailboxRow
            {
                Id = Guid.CreateVersion7(now), WorkspaceId = workspaceId, Name = $"r1 sender {k}", FromAddress = R1Mail.User(FirstSenderUser + k),
                FromName = "R1 Soak", DailyCap = 1_000_000, SmtpHost = smtp.Host, SmtpPort = smtp.Port, SmtpSecurity = "none", CreatedAt = now,
                TimeZone = "UTC", WindowStartMinute = 0, WindowEndMinute = 24 * 60, WindowDays = "mon,tue,wed,thu,fri,sat,sun", State = "active",
            };
            await new MailboxStore(db).CreateAsync(mailbox, ct);
            mailboxes.Add(mailbox.Id);
        }

        var sequence = new SequenceRow
        {
            Id = Guid.CreateVersion7(now), WorkspaceId = workspaceId, Name = "r1 " + tag, State = "active", Version = 1, CreatedAt = now, UpdatedAt = now,
            Definition = SequenceParser.Serialize(new SequenceDefinition(
            [
                new EmailStep(R1Verdict.FirstStep, "R1 " + tag + " {{ first_name }}", "Hi {{ first_name }}, the first note."),
                new WaitStep("gap", TimeSpan.FromSeconds(o.WaitSeconds)),
                new EmailStep(R1Verdict.FollowUpStep, null, "Hi again {{ first_name }}, the follow-up."),
            ])),
        };
        await new SequenceStore(db).CreateAsync(sequence, ct);

        var inputs = Enumerable.Range(0, o.Enrollments)
            .Select(i => new ProspectInput(R1Mail.Recipient(tag, i), null, $"P{i}", null, null, null, null, null, null, "UTC", null, new Dictionary<string, string>()))
            .ToList();
        var prospects = await new ProspectStore(db, new CompanyStore(db)).UpsertAsync(workspaceId, inputs, now, ct);
        var enrolled = await new EnrollmentStore(db).EnrollAsync(
            new EnrollPlan(workspaceId, sequence.Id, 1, mailboxes, 0, now.AddDays(1), now)
            {
                ProspectIds = prospects.Ids, NeedsEmail = true, SkipActiveInOtherSequences = false,
            }, ct);
        if (enrolled.Enrolled.Count != o.Enrollments)
        {
            throw new InvalidOperationException($"enrolled {enrolled.Enrolled.Count} of {o.Enrollments} prospects");
        }

        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync("update mailboxes set hourly_cap = null, min_gap_seconds = 0, ramp_start = null, ramp_step = null");
        var index = inputs.Select((p, i) => (p.Email!.ToLowerInvariant(), i)).ToDictionary(x => x.Item1, x => x.i, StringComparer.Ordinal);
        return (await c.QueryAsync<(Guid Id, string Email)>(
                "select e.id, p.email from enrollments e join prospects p on p.id = e.prospect_id"))
            .Select(e => new R1Enrollment(e.Id, e.Email.ToLowerInvariant(), index[e.Email.ToLowerInvariant()]))
            .OrderBy(e => e.Index)
            .ToList();
    }

    /// <summary>Waits until every worker has started its host; returns how long that took.</summary>
    private static async Task<TimeSpan> WaitReadyAsync(IReadOnlyList<R1Worker> workers, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        while (!workers.All(w => w.IsReady))
        {
            if (workers.FirstOrDefault(w => w.ExitedByItself) is { } dead)
            {
                throw new InvalidOperationException($"worker {dead.Slot} exited while starting; see {dead.LogPath}");
            }

            if (clock.Elapsed > bound)
            {
                throw new TimeoutException($"workers not started after {bound}; see {string.Join(", ", workers.Select(w => w.LogPath))}");
            }

            await Task.Delay(100);
        }

        Console.WriteLine($"{workers.Count} workers up in {clock.Elapsed.TotalSeconds:0.0} s");
        return clock.Elapsed;
    }

    /// <summary>
    /// Makes the first emails due in bursts of <see cref="R1Options.Burst"/> (so a worker has a batch in flight), evenly
    /// over the spread from 2 s from now. After each seeded pause, arms a kill on a random worker that has been sending for
    /// <see cref="R1Options.MinLifeMilliseconds"/>: its next send log line fires it. The killed worker is started again at
    /// once. Ends when nothing is active or mid-send any more (or at the timeout).
    /// </summary>
    private static async Task<R1Run> SoakAsync(string connectionString, R1Options o, IReadOnlyList<R1Worker> workers, IReadOnlyList<R1Enrollment> enrollments, TimeSpan start)
    {
        var random = new Random(o.Seed);
        var spread = o.Spread(start);
        var first = DateTimeOffset.UtcNow.AddSeconds(2);
        var bursts = (enrollments.Count + o.Burst - 1) / o.Burst;
        var step = spread / Math.Max(1, bursts - 1);
        foreach (var e in enrollments)
        {
            e.FirstDue = first + step * (e.Index / o.Burst);
        }

        Console.WriteLine($"first emails due in {bursts} bursts of {o.Burst} over {spread.TotalSeconds:0} s, follow-ups {o.WaitSeconds} s after each; {o.Kills} kills planned");
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        await c.ExecuteAsync(
            "update enrollments e set next_due_at = d.due from unnest(@ids, @dues) as d(id, due) where e.id = d.id",
            new { ids = enrollments.Select(e => e.Id).ToArray(), dues = enrollments.Select(e => e.FirstDue.UtcDateTime).ToArray() });

        const string Counts =
            """
            select (select count(*) from enrollments where state = 'active')::int,
                   (select count(*) from sends where state = 'sending')::int,
                   (select count(*) from enrollments where lease_until > now())::int,
                   (select count(*) from sends where state = 'sent')::int,
                   (select count(*) from sends where state = 'unknown')::int
            """;
        var clock = Stopwatch.StartNew();
        var timeout = TimeSpan.FromMinutes(o.TimeoutMinutes);
        var kills = new List<R1Kill>();
        var exits = new List<string>();
        var nextKill = TimeSpan.FromMilliseconds(random.Next(o.MinGapMilliseconds, o.MaxGapMilliseconds + 1));
        var (lastQuery, lastPrint) = (-Poll, TimeSpan.Zero);
        (R1Worker Worker, Task<long> Fired, TimeSpan At)? armed = null;
        while (true)
        {
            if (armed is { Fired.IsCompleted: true } done)
            {
                armed = null;
                if (done.Fired.IsCompletedSuccessfully)
                {
                    var (victim, pid) = (done.Worker, done.Worker.Pid ?? 0);
                    var at = clock.Elapsed - Stopwatch.GetElapsedTime(done.Fired.Result);
                    // What was in flight, read before the restart: the victim's rows stay as it left them.
                    var claims = (await c.QueryAsync<(Guid, DateTime)>("select id, lease_until from enrollments where lease_until > now()"))
                        .Select(x => (x.Item1, new DateTimeOffset(DateTime.SpecifyKind(x.Item2, DateTimeKind.Utc)))).ToHashSet();
                    var mid = (await c.QueryAsync<Guid>("select id from sends where state = 'sending'")).ToHashSet();
                    victim.WaitGone();
                    victim.Start();
                    kills.Add(new R1Kill(kills.Count + 1, at.TotalSeconds, victim.Slot, pid, claims, mid));
                    nextKill = clock.Elapsed + TimeSpan.FromMilliseconds(random.Next(o.MinGapMilliseconds, o.MaxGapMilliseconds + 1));
                }
            }
            else if (armed is { } waiting && clock.Elapsed - waiting.At > TimeSpan.FromSeconds(5))
            {
                // That worker has not sent for a while (the other one holds the due work, or it is all sent): choose again.
                waiting.Worker.Disarm();
                armed = null;
            }

            foreach (var w in workers.Where(w => w.ExitedByItself))
            {
                exits.Add($"worker {w.Slot} (pid {w.Pid}) exited by itself at {clock.Elapsed.TotalSeconds:0.0} s; log {w.LogPath}");
                w.Start();
            }

            if (armed is null && kills.Count < o.Kills && clock.Elapsed >= nextKill
                && workers.Where(w => w.IsReady && w.SendingSince(TimeSpan.FromMilliseconds(o.MinLifeMilliseconds))).ToList() is { Count: > 0 } eligible)
            {
                var victim = eligible[random.Next(eligible.Count)];
                armed = (victim, victim.ArmKill(), clock.Elapsed);
            }

            if (clock.Elapsed - lastQuery >= Poll)
            {
                lastQuery = clock.Elapsed;
                var (active, mid, claimed, sent, unknown) = await c.QuerySingleAsync<(int, int, int, int, int)>(Counts);
                if (clock.Elapsed - lastPrint >= TimeSpan.FromSeconds(5))
                {
                    Console.WriteLine($"  {clock.Elapsed.TotalSeconds,5:0} s: {sent:N0} sent, {unknown} unknown, {mid} sending, {claimed} claimed, {active:N0} active; {kills.Count} kills");
                    lastPrint = clock.Elapsed;
                }

                if ((active == 0 && mid == 0) || clock.Elapsed > timeout)
                {
                    armed?.Worker.Disarm();
                    var timedOut = active > 0 || mid > 0;
                    if (timedOut)
                    {
                        Console.WriteLine($"timeout: {active} enrollments still active, {mid} sends mid-SMTP after {timeout}");
                    }

                    return new R1Run(start, spread, clock.Elapsed, timedOut, kills, exits, workers.Sum(w => w.Incarnations));
                }
            }

            await Task.Delay(20);
        }
    }

    private static async Task<(List<R1Send> Sends, List<R1Final> Enrollments)> ReadOutboxAsync(string connectionString)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        var sends = (await c.QueryAsync<R1Send>(
            "select id, enrollment_id, step_id, message_id, state, attempts, last_error, created_at, sent_at from sends")).AsList();
        var finals = (await c.QueryAsync<R1Final>("select id, state, stop_reason, current_step from enrollments")).AsList();
        return (sends, finals);
    }

    /// <summary>"host:port" from the environment variable, else from .services/test.env.</summary>
    private static (string Host, int Port) Endpoint(string name)
    {
        var value = Environment.GetEnvironmentVariable(name);
        var env = Repository.Find() is { } root ? Path.Combine(root, ".services", "test.env") : null;
        if (string.IsNullOrWhiteSpace(value) && env is not null && File.Exists(env))
        {
            value = File.ReadLines(env).FirstOrDefault(l => l.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..].Trim();
        }

        var parts = value?.Split(':');
        return parts is [var host, var port] && int.TryParse(port, CultureInfo.InvariantCulture, out var p)
            ? (host, p)
            : throw new InvalidOperationException($"No {name} (host:port): set it, or start the local services with `bash deploy/local/services-start.sh`.");
    }

    /// <summary>The built server: --server-dll, else src/Prospector.Server/bin/&lt;this build's configuration&gt;/net10.0.</summary>
    private static string ServerDll(R1Options o)
    {
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var dll = o.ServerDll ?? (Repository.Find() is { } root
            ? Path.Combine(root, "src", "Prospector.Server", "bin", configuration, "net10.0", "Prospector.Server.dll")
            : throw new InvalidOperationException("run from inside the repository, or pass --server-dll"));
        return File.Exists(dll) && File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json"))
            ? Path.GetFullPath(dll)
            : throw new InvalidOperationException($"{dll} not found: build the server first (dotnet build -c {configuration} src/Prospector.Server)");
    }
}
