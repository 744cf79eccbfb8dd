using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using Prospector.Core.Email;
using Prospector.Core.Prospects;
using Prospector.Core.Scheduling;
using Prospector.Core.Sequences;
using Prospector.Server.Engine;
using Prospector.Server.Hosting;
using Prospector.Server.Security;
using Prospector.Storage;
using Prospector.Storage.Stores;

namespace Prospector.Bench;

/// <summary>The shape of a B8 run: how many mailboxes at which daily cap, for how many simulated days from which date.</summary>
/// <param name="Zones">Mailbox zones, assigned round-robin (default <see cref="MailboxZones"/>).</param>
public sealed record B8Config(int Mailboxes, int Cap, int Days, DateOnly Start, IReadOnlyList<string>? Zones = null)
{
    /// <summary>Every mailbox's window, applied in the prospect's local time: Mon–Fri 09:00–17:00.</summary>
    public const int WindowStartMinute = 9 * 60;

    /// <inheritdoc cref="WindowStartMinute"/>
    public const int WindowEndMinute = 17 * 60;

    /// <inheritdoc cref="WindowStartMinute"/>
    public const string WindowDays = "mon,tue,wed,thu,fri";

    /// <summary>The default mailbox zones.</summary>
    public static readonly string[] MailboxZones = ["Europe/Paris", "America/New_York", "Asia/Tokyo", "Europe/London", "America/Los_Angeles"];

    /// <summary>Step-0 backlog kept at each simulated midnight UTC: this many days of the whole pool's supply, so caps bind.</summary>
    public const int BacklogDays = 2;

    /// <summary>The mailbox zones in use.</summary>
    public IReadOnlyList<string> MailboxZoneList => Zones ?? MailboxZones;

    public DateTimeOffset StartAt => new(Start.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    public DateTimeOffset EndAt => StartAt.AddDays(Days);
}

/// <summary>One kind of prospect: country and zone.</summary>
public sealed record B8Profile(string Country, string Zone);

/// <summary>What a B8 run produced (the check comes from <see cref="B8Checker"/>).</summary>
public sealed record B8Run(
    B8Config Config, IReadOnlyList<B8Profile> Profiles, string UnsupportedCountry, int Prospects, int Enrollments, long Events,
    long Claimed, TimeSpan Wall, B8Check Check)
{
    public double SimulatedDaysPerSecond => Config.Days / Wall.TotalSeconds;
}

/// <summary>
/// B8's harness: the server's own composition (role worker, built but not started, so neither its DispatchLoop nor
/// Hangfire races the clock) on a simulated <see cref="TimeProvider"/>, with a no-op channel. The clock moves event
/// to event: <see cref="Dispatcher.RunOnceAsync"/> until nothing due is left, then to the next instant anything can
/// happen (an enrollment due whose mailbox is not blocked then, a mailbox unblocking, or the next midnight UTC top-up).
/// </summary>
public static class B8Simulation
{
    private const string CandidateUnsupported = "SG:Asia/Singapore,AE:Asia/Dubai,IN:Asia/Kolkata,SA:Asia/Riyadh,KR:Asia/Seoul";

    /// <summary>The prospect mix: FR, US (east and west), GB, DE, JP and one country without a holiday calendar.</summary>
    public static (IReadOnlyList<B8Profile> Profiles, string Unsupported) Profiles()
    {
        var unsupported = CandidateUnsupported.Split(',').Select(x => x.Split(':')).First(x => !PublicHolidayCalendar.SupportedCountries.Contains(x[0]));
        return ([
            new("FR", "Europe/Paris"), new("US", "America/New_York"), new("US", "America/Los_Angeles"), new("GB", "Europe/London"),
            new("DE", "Europe/Berlin"), new("JP", "Asia/Tokyo"), new(unsupported[0], unsupported[1]),
        ], unsupported[0]);
    }

    /// <summary>The sequence: email → wait 2 business days → email → wait 3 days → email.</summary>
    public static SequenceDefinition Sequence() => new([
        new EmailStep("e1", "Hello {{ first_name }}", "Hi {{ first_name }}, a short note."),
        new WaitStep("w1", 2, TimeSpan.Zero, BusinessDays: true),
        new EmailStep("e2", null, "Following up, {{ first_name }}."),
        new WaitStep("w2", 3, TimeSpan.Zero),
        new EmailStep("e3", null, "Last note, {{ first_name }}."),
    ]);

    public static async Task<B8Run> RunAsync(string connectionString, B8Config config, Action<string> log, CancellationToken ct)
    {
        var clock = new SimulatedClock(config.StartAt);
        var (profiles, unsupported) = Profiles();
        await using var app = Build(connectionString, clock);
        var services = app.Services;
        var database = services.GetRequiredService<Database>();
        await services.GetRequiredService<Migrator>().MigrateAsync(ct);
        var dispatcher = services.GetRequiredService<Dispatcher>();
        var enrollments = services.GetRequiredService<EnrollmentStore>();
        var prospects = services.GetRequiredService<ProspectStore>();

        // Workspace, mailboxes and sequence through the stores, as the API writes them.
        var now = clock.GetUtcNow();
        var workspaceId = await services.GetRequiredService<WorkspaceStore>().CreateAsync("b8", now, ct);
        var pool = new List<Guid>();
        for (var k = 0; k < config.Mailboxes; k++)
        {
            var id = Guid.CreateVersion7(now);
            await services.GetRequiredService<MailboxStore>().CreateAsync(new MailboxRow
            {
                Id = id, WorkspaceId = workspaceId, Name = $"b8 sender {k}", FromAddress = $"sender{k}@b8.example.test", FromName = "Bench",
                DailyCap = config.Cap, SmtpHost = "127.0.0.1", SmtpPort = 25, SmtpSecurity = "none", CreatedAt = now,
                TimeZone = config.MailboxZoneList[k % config.MailboxZoneList.Count],
                WindowStartMinute = B8Config.WindowStartMinute, WindowEndMinute = B8Config.WindowEndMinute, WindowDays = B8Config.WindowDays, State = "active",
            }, ct);
            pool.Add(id);
        }

        var definition = Sequence();
        var sequenceId = Guid.CreateVersion7(now);
        await services.GetRequiredService<SequenceStore>().CreateAsync(new SequenceRow
        {
            Id = sequenceId, WorkspaceId = workspaceId, Name = "b8", State = "active", Version = 1, CreatedAt = now, UpdatedAt = now,
            Definition = SequenceParser.Serialize(definition),
        }, ct);

        var wall = Stopwatch.StartNew();
        var prospectCount = 0;
        var enrolled = 0;
        long events = 0, claimed = 0;
        var backlogTarget = B8Config.BacklogDays * config.Mailboxes * config.Cap;
        var nextTopUp = config.StartAt;
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync(ct);
        while (true)
        {
            now = clock.GetUtcNow();
            if (now >= nextTopUp)
            {
                // A cohort each simulated midnight UTC keeps the not-yet-started backlog at BacklogDays of supply.
                var waiting = await c.ExecuteScalarAsync<int>(
                    "select count(*)::int from enrollments where state = 'active' and current_step = 0");
                var add = Math.Max(0, backlogTarget - waiting);
                if (add > 0)
                {
                    var inputs = Enumerable.Range(prospectCount, add).Select(i =>
                    {
                        var p = profiles[i % profiles.Count];
                        return new ProspectInput($"p{i}@b8-prospects.example.test", null, $"P{i}", null, null, null, null, null, p.Country, p.Zone, null,
                            new Dictionary<string, string>(StringComparer.Ordinal));
                    }).ToList();
                    var ids = new List<Guid>();
                    foreach (var chunk in inputs.Chunk(2_000))
                    {
                        ids.AddRange((await prospects.UpsertAsync(workspaceId, chunk, now, ct)).Ids);
                    }

                    prospectCount += add;
                    var first = SequenceProgress.Next(definition, 0, now);
                    var result = await enrollments.EnrollAsync(new EnrollPlan(workspaceId, sequenceId, 1, pool, first.StepIndex ?? 0, first.DueAt, now)
                    {
                        FirstChannel = first.Channel ?? StepChannels.Email,
                        ProspectIds = ids,
                        NeedsEmail = true,
                        SkipActiveInOtherSequences = false,
                    }, ct);
                    if (result.Skipped.Count > 0)
                    {
                        throw new InvalidOperationException($"{result.Skipped.Count} prospects skipped when enrolling: {result.Skipped[0].Reason}");
                    }

                    enrolled += result.Enrolled.Count;
                }

                nextTopUp = nextTopUp.AddDays(1);
                log($"  {now:yyyy-MM-dd ddd} +{add:N0} enrolled ({enrolled:N0} in all), {events:N0} events, {claimed:N0} claimed so far, {wall.Elapsed.TotalSeconds:0} s");
            }

            // Everything due now: claims (and the claim's own re-placing of steps outside their window) until none is left.
            events++;
            var idle = 0;
            while (true)
            {
                var n = await dispatcher.RunOnceAsync(ct);
                claimed += n;
                if (n > 0)
                {
                    idle = 0;
                    continue;
                }

                if (!await AnyDueAsync(c, now) || ++idle > 10_000)
                {
                    break;
                }
            }

            var next = await NextEventAsync(c, now);
            if (nextTopUp < config.EndAt && (next is null || nextTopUp < next))
            {
                next = nextTopUp;
            }

            if (next is not { } at || at >= config.EndAt)
            {
                break;
            }

            clock.Set(at);
        }

        wall.Stop();
        var check = await B8Checker.CheckAsync(connectionString, workspaceId, config, ct);
        return new B8Run(config, profiles, unsupported, prospectCount, enrolled, events, claimed, wall.Elapsed, check);
    }

    /// <summary>
    /// Whether a claim could still find something now: a due, unleased active enrollment of a mailbox that is not
    /// blocked (every step of B8's sequence is an email step). Mailbox first, so the blocked backlog is not scanned.
    /// </summary>
    private static Task<bool> AnyDueAsync(NpgsqlConnection c, DateTimeOffset now) => c.ExecuteScalarAsync<bool>(
        """
        select exists (select 1 from mailboxes m
                       where m.state = 'active' and (m.blocked_until is null or m.blocked_until <= @now)
                         and exists (select 1 from enrollments d
                                     where d.mailbox_id = m.id and d.state = 'active' and d.next_due_at <= @now
                                       and (d.lease_until is null or d.lease_until <= @now)))
        """, new { now });

    /// <summary>
    /// The next instant after <paramref name="now"/> when a claim can find something: a mailbox unblocking, or the
    /// earliest due time of an active enrollment of a mailbox not blocked now (a blocked mailbox's steps cannot be
    /// claimed before it unblocks, which is itself an event).
    /// </summary>
    private static async Task<DateTimeOffset?> NextEventAsync(NpgsqlConnection c, DateTimeOffset now)
    {
        var next = await c.ExecuteScalarAsync<DateTime?>(
            """
            select least(
              (select min(blocked_until) from mailboxes where blocked_until > @now),
              (select min(l.due) from mailboxes m
               cross join lateral (select min(d.next_due_at) as due from enrollments d
                                   where d.mailbox_id = m.id and d.state = 'active' and d.next_due_at > @now) l
               where m.blocked_until is null or m.blocked_until <= @now))
            """, new { now });
        return next is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;
    }

    /// <summary>The server's composition, role worker, not started; the no-op channel and the simulated clock in place.</summary>
    private static WebApplication Build(string connectionString, TimeProvider clock)
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["role"] = "worker",
            ["StorageOptions:PostgresConnectionString"] = connectionString,
            ["ApiOptions:BootstrapApiKey"] = ApiKeys.Generate(),
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddProspector();
        builder.Services.Replace(ServiceDescriptor.Singleton<IEmailSender>(new NoOpEmailSender()));
        builder.Services.Replace(ServiceDescriptor.Singleton(clock));
        return builder.Build();
    }
}

/// <summary>A clock that only moves when told to.</summary>
public sealed class SimulatedClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Set(DateTimeOffset at) => Interlocked.Exchange(ref _ticks, at.UtcTicks);

    public override string ToString() => GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
}
