using System.Diagnostics;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using Prospector.Core.Sequences;
using Prospector.Storage;
using Prospector.Storage.Stores;

namespace Prospector.Bench;

/// <summary>A workspace with ~50 mailboxes (caps that never bind, an all-day window every day, UTC) and a one-email sequence.</summary>
public sealed record BenchSetup(Guid WorkspaceId, IReadOnlyList<Guid> MailboxIds, Guid SequenceId);

/// <summary>The lateness distribution, in seconds.</summary>
public sealed record Lateness(int Count, double P50, double P99, double Max);

/// <summary>When the last of the expected sends became 'sent'.</summary>
public sealed record Drained(int Sent, DateTimeOffset LastSentAt);

/// <summary>Test data at benchmark scale: the workspace through the stores, the enrollments by binary COPY.</summary>
public static class Seed
{
    public const int MailboxCount = 50;

    public static async Task<BenchSetup> SetupAsync(Database db)
    {
        var now = DateTimeOffset.UtcNow;
        var ct = CancellationToken.None;
        var workspaceId = await new WorkspaceStore(db).CreateAsync("b4", now, ct);
        var mailboxes = new List<Guid>();
        for (var k = 0; k < MailboxCount; k++)
        {
            var id = Guid.CreateVersion7(now);
            await new MailboxStore(db).CreateAsync(new MailboxRow
            {
                Id = id, WorkspaceId = workspaceId, Name = $"b4 sender {k}", FromAddress = $"sender{k}@bench.example.test", FromName = "Bench",
                DailyCap = 1_000_000, SmtpHost = "127.0.0.1", SmtpPort = 25, SmtpSecurity = "none", CreatedAt = now,
                TimeZone = "UTC", WindowStartMinute = 0, WindowEndMinute = 24 * 60, WindowDays = "mon,tue,wed,thu,fri,sat,sun", State = "active",
            }, ct);
            mailboxes.Add(id);
        }

        var sequenceId = Guid.CreateVersion7(now);
        await new SequenceStore(db).CreateAsync(new SequenceRow
        {
            Id = sequenceId, WorkspaceId = workspaceId, Name = "b4", State = "active", Version = 1, CreatedAt = now, UpdatedAt = now,
            Definition = SequenceParser.Serialize(new SequenceDefinition([new EmailStep("intro", "Hello {{ first_name }}", "Hi {{ first_name }}, a short note.")])),
        }, ct);

        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync("create table bench_due (enrollment_id uuid primary key, phase text not null, due_at timestamptz not null)");
        return new BenchSetup(workspaceId, mailboxes, sequenceId);
    }

    /// <summary>
    /// One prospect and one enrollment at step 0 per due time (mailboxes round-robin), in one transaction of binary COPYs,
    /// so all rows become visible at once. Returns the commit time. The due times are kept in bench_due for lateness.
    /// </summary>
    public static async Task<DateTimeOffset> AddDueAsync(string connectionString, BenchSetup setup, IReadOnlyList<DateTimeOffset> dues, string label)
    {
        var now = DateTime.UtcNow;
        var prospectIds = dues.Select(_ => Guid.CreateVersion7()).ToArray();
        var enrollmentIds = dues.Select(_ => Guid.CreateVersion7()).ToArray();
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        await using var tx = await c.BeginTransactionAsync();
        await using (var w = await c.BeginBinaryImportAsync(
            "copy prospects (id, workspace_id, email, email_normalized, first_name, time_zone, custom_fields, created_at, updated_at) from stdin (format binary)"))
        {
            for (var i = 0; i < dues.Count; i++)
            {
                var email = $"{label}{i}@prospects.example.test";
                await w.StartRowAsync();
                await w.WriteAsync(prospectIds[i], NpgsqlDbType.Uuid);
                await w.WriteAsync(setup.WorkspaceId, NpgsqlDbType.Uuid);
                await w.WriteAsync(email, NpgsqlDbType.Text);
                await w.WriteAsync(email, NpgsqlDbType.Text);
                await w.WriteAsync($"P{i}", NpgsqlDbType.Text);
                await w.WriteAsync("UTC", NpgsqlDbType.Text);
                await w.WriteAsync("{}", NpgsqlDbType.Text);
                await w.WriteAsync(now, NpgsqlDbType.TimestampTz);
                await w.WriteAsync(now, NpgsqlDbType.TimestampTz);
            }

            await w.CompleteAsync();
        }

        await using (var w = await c.BeginBinaryImportAsync(
            """
            copy enrollments (id, workspace_id, sequence_id, sequence_version, prospect_id, mailbox_id, state, current_step, next_due_at, created_at, updated_at)
            from stdin (format binary)
            """))
        {
            for (var i = 0; i < dues.Count; i++)
            {
                await w.StartRowAsync();
                await w.WriteAsync(enrollmentIds[i], NpgsqlDbType.Uuid);
                await w.WriteAsync(setup.WorkspaceId, NpgsqlDbType.Uuid);
                await w.WriteAsync(setup.SequenceId, NpgsqlDbType.Uuid);
                await w.WriteAsync(1, NpgsqlDbType.Integer);
                await w.WriteAsync(prospectIds[i], NpgsqlDbType.Uuid);
                await w.WriteAsync(setup.MailboxIds[i % setup.MailboxIds.Count], NpgsqlDbType.Uuid);
                await w.WriteAsync("active", NpgsqlDbType.Text);
                await w.WriteAsync(0, NpgsqlDbType.Integer);
                await w.WriteAsync(dues[i].UtcDateTime, NpgsqlDbType.TimestampTz);
                await w.WriteAsync(now, NpgsqlDbType.TimestampTz);
                await w.WriteAsync(now, NpgsqlDbType.TimestampTz);
            }

            await w.CompleteAsync();
        }

        // What autovacuum would do after a bulk load this size: fresh statistics of the tables loaded, so the claim's
        // inner query (enrollment columns only) is estimated right and walks the due index.
        await using (var analyze = new NpgsqlCommand("analyze prospects; analyze enrollments", c, tx))
        {
            await analyze.ExecuteNonQueryAsync();
        }

        await using (var w = await c.BeginBinaryImportAsync("copy bench_due (enrollment_id, phase, due_at) from stdin (format binary)"))
        {
            for (var i = 0; i < dues.Count; i++)
            {
                await w.StartRowAsync();
                await w.WriteAsync(enrollmentIds[i], NpgsqlDbType.Uuid);
                await w.WriteAsync(label, NpgsqlDbType.Text);
                await w.WriteAsync(dues[i].UtcDateTime, NpgsqlDbType.TimestampTz);
            }

            await w.CompleteAsync();
        }

        await tx.CommitAsync();
        return DateTimeOffset.UtcNow;
    }

    /// <summary>Waits until <paramref name="expected"/> sends are 'sent'; fails fast when enrollments leave the happy path.</summary>
    public static async Task<Drained> WaitForSentAsync(string connectionString, int expected, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var lastPrint = TimeSpan.Zero;
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        while (true)
        {
            var (sent, off) = await c.QuerySingleAsync<(int, int)>(
                """
                select (select count(*) from sends where state = 'sent')::int,
                       (select count(*) from enrollments where state not in ('active', 'completed'))::int
                """);
            if (off > 0)
            {
                var why = await c.QueryAsync<string>("select distinct state || coalesce(' (' || stop_reason || ')', '') from enrollments where state not in ('active', 'completed') limit 5");
                throw new InvalidOperationException($"{off} enrollments left the happy path: {string.Join(", ", why)}");
            }

            if (sent >= expected)
            {
                var last = await c.QuerySingleAsync<DateTime>("select max(sent_at) from sends where state = 'sent'");
                return new Drained(sent, new DateTimeOffset(DateTime.SpecifyKind(last, DateTimeKind.Utc)));
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"only {sent:N0} of {expected:N0} sent after {timeout}");
            }

            if (clock.Elapsed - lastPrint > TimeSpan.FromSeconds(5))
            {
                Console.WriteLine($"  {clock.Elapsed.TotalSeconds,5:0} s: {sent:N0} sent");
                lastPrint = clock.Elapsed;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>sends.sent_at − the step's due time, over the steps seeded with <paramref name="label"/>.</summary>
    public static async Task<Lateness> LatenessAsync(string connectionString, string label)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        return await c.QuerySingleAsync<Lateness>(
            """
            select count(*)::int as count,
                   percentile_cont(0.5) within group (order by l) as p50,
                   percentile_cont(0.99) within group (order by l) as p99,
                   max(l) as max
            from (select extract(epoch from s.sent_at - d.due_at)::float8 as l
                  from sends s join bench_due d on d.enrollment_id = s.enrollment_id
                  where s.state = 'sent' and d.phase = @label) x
            """, new { label });
    }

    public static async Task<string> ServerVersionAsync(string connectionString)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        return await c.QuerySingleAsync<string>("show server_version");
    }
}
