using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Prospector.Core.Email;
using Prospector.Core.Sequences;
using Prospector.Email.Smtp;
using Prospector.Server.Engine;
using Prospector.Server.Hosting;
using Prospector.Server.Simulation;
using Prospector.Storage;
using Prospector.Storage.Stores;

namespace Prospector.Server.Tests;

/// <summary>A send row as the fault tests read it.</summary>
internal sealed class SendState
{
    public Guid Id { get; init; }
    public string MessageId { get; init; } = "";
    public string State { get; init; } = "";
    public int Attempts { get; init; }
    public int? SmtpStatus { get; init; }
    public string? LastError { get; init; }
    public string? Subject { get; init; }
    public DateTimeOffset? SentAt { get; init; }
    public string? Resolution { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
}

/// <summary>An enrollment row as the fault tests read it.</summary>
internal sealed class EnrollmentState
{
    public string State { get; init; } = "";
    public string? StopReason { get; init; }
    public int CurrentStep { get; init; }
    public DateTimeOffset? NextDueAt { get; init; }
    public DateTimeOffset? LeaseUntil { get; init; }
    public string? ThreadMessageId { get; init; }
}

/// <summary>
/// The app (API role: no background loop) on PostgreSQL and a fake clock, with the app's own <see cref="Dispatcher"/>
/// built from its services, sending with the real MailKit sender (2 s command timeout) to smtp-sinks started by the test.
/// </summary>
internal sealed class FaultRig : IAsyncDisposable
{
    public static readonly TimeSpan RetryDelay = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    private FaultRig(ProspectorApp app, VirtualClock clock, SmtpEmailSender sender, Dispatcher dispatcher)
    {
        App = app;
        Clock = clock;
        Sender = sender;
        Dispatcher = dispatcher;
    }

    public ProspectorApp App { get; }

    public VirtualClock Clock { get; }

    public SmtpEmailSender Sender { get; }

    public Dispatcher Dispatcher { get; }

    public DispatchStore Store => App.Services.GetRequiredService<DispatchStore>();

    public DateTimeOffset Now => Clock.GetUtcNow();

    /// <summary>An email, a two-day wait and a follow-up in the same thread.</summary>
    public static SequenceDefinition TwoEmails { get; } = new(
    [
        new EmailStep("e1", "Hello {{ first_name }}", "Hi {{ first_name }}, a first note."),
        new WaitStep("w1", TimeSpan.FromDays(2)),
        new EmailStep("e2", null, "Following up, {{ first_name }}."),
    ]);

    public static async Task<FaultRig> StartAsync()
    {
        // Whole seconds: PostgreSQL keeps microseconds, so instants read back compare equal to the clock's.
        var start = DateTimeOffset.UtcNow.AddMinutes(1);
        var clock = new VirtualClock(new DateTimeOffset(start.Year, start.Month, start.Day, start.Hour, start.Minute, start.Second, TimeSpan.Zero));
        var app = await ProspectorApp.StartAsync(SqlDialect.Postgres, new Dictionary<string, string?> { ["role"] = "api" }, clock);
        var sender = new SmtpEmailSender(clock) { CommandTimeout = TimeSpan.FromSeconds(2) };
        var options = Options.Create(new DispatcherOptions { RetryDelay = RetryDelay, Lease = Lease, MaxAttempts = 6, Parallelism = 1 });
        var dispatcher = ActivatorUtilities.CreateInstance<Dispatcher>(app.Services, (IEmailSender)sender, options);
        return new FaultRig(app, clock, sender, dispatcher);
    }

    /// <summary>One prospect enrolled (due now) on a mailbox that sends to <paramref name="sink"/>.</summary>
    public async Task<Enrolled> EnrollAsync(SmtpSink sink, SequenceDefinition? definition = null)
    {
        var enrolled = await StepHarness.EnrollAsync(App, definition ?? TwoEmails);
        await StepHarness.ExecuteAsync(App, "update mailboxes set smtp_host = '127.0.0.1', smtp_port = @port where id = @id", new { port = sink.Port, id = enrolled.MailboxId });
        return enrolled;
    }

    public Task<int> RunAsync() => Dispatcher.RunOnceAsync(CancellationToken.None);

    public void Advance(TimeSpan by) => Clock.Set(Clock.GetUtcNow() + by);

    public async Task<SendState?> SendAsync(Guid enrollmentId, string stepId = "e1")
    {
        await using var c = await App.Database.Database.OpenAsync();
        return await c.QueryFirstOrDefaultAsync<SendState>(
            """
            select id, message_id, state, attempts, smtp_status, last_error, subject, sent_at, resolution, resolved_at
            from sends where enrollment_id = @enrollmentId and step_id = @stepId
            """, new { enrollmentId, stepId });
    }

    public async Task<EnrollmentState> EnrollmentAsync(Guid id)
    {
        await using var c = await App.Database.Database.OpenAsync();
        return await c.QuerySingleAsync<EnrollmentState>(
            "select state, stop_reason, current_step, next_due_at, lease_until, thread_message_id from enrollments where id = @id", new { id });
    }

    /// <summary>The enrollment's mailbox slots that still count against the caps (reserved or used).</summary>
    public Task<long> LiveSlotsAsync(Guid enrollmentId)
        => StepHarness.ScalarAsync<long>(App, "select count(*) from mailbox_slots where enrollment_id = @enrollmentId and state <> 'released'", new { enrollmentId });

    public Task<long> SlotsCountedTodayAsync(Guid mailboxId)
        => StepHarness.ScalarAsync<long>(App, "select slots_day_count from mailboxes where id = @mailboxId", new { mailboxId });

    public async Task<string[]> EventTypesAsync(Guid enrollmentId) => (await StepHarness.EventsAsync(App, enrollmentId)).Select(e => e.Type).ToArray();

    public async ValueTask DisposeAsync()
    {
        await Sender.DisposeAsync();
        await App.DisposeAsync();
    }
}
