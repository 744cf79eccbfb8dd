using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Prospector.Core.Sequences;
using Prospector.Server.Engine;
using Prospector.Testing;

namespace Prospector.Server.Tests;

/// <summary>One prospect enrolled (by SQL) in a sequence version built from the model records, on a mailbox that sends through the local Postfix.</summary>
internal sealed record Enrolled(Guid WorkspaceId, Guid MailboxId, Guid SequenceId, Guid ProspectId, Guid EnrollmentId);

/// <summary>Sets up dispatch scenarios straight in the database (independent of the config API's own shapes) and waits for the engine.</summary>
internal static class StepHarness
{
    private static int _user;

    public static async Task<Enrolled> EnrollAsync(
        ProspectorApp app, SequenceDefinition definition, int currentStep = 0, string firstName = "Jane", string lastName = "Doe",
        string company = "Acme", string? title = null, string? email = null, DateTimeOffset? dueAt = null)
    {
        var http = app.Client();
        var (smtpHost, smtpPort) = TestServices.Smtp;
        var from = TestServices.MailUser(40);
        var mailboxId = (await http.PostAsJsonAsync("/api/mailboxes", new
        {
            name = "Sales " + Guid.NewGuid().ToString("N")[..6],
            fromAddress = from,
            fromName = "Sam Sender",
            dailyCap = 100,
            smtp = new { host = smtpHost, port = smtpPort, security = "none", username = (string?)null, password = (string?)null },
            imap = (object?)null,
            // Open every hour of every day: these tests run steps now, whatever the day (the window has its own tests).
            sendingWindow = new { start = "00:00", end = "24:00", days = new[] { "mon", "tue", "wed", "thu", "fri", "sat", "sun" } },
        }).ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();

        var now = DateTimeOffset.UtcNow;
        var sequenceId = Guid.CreateVersion7(now);
        var prospectId = Guid.CreateVersion7(now);
        var enrollmentId = Guid.CreateVersion7(now);
        email ??= TestServices.MailUser(1 + (Interlocked.Increment(ref _user) % 30), Guid.NewGuid().ToString("N")[..8]);
        var json = SequenceParser.Serialize(definition);
        await using var c = await app.Database.Database.OpenAsync();
        var workspaceId = await c.ExecuteScalarAsync<Guid>("select workspace_id from mailboxes where id = @mailboxId", new { mailboxId });
        await c.ExecuteAsync(
            """
            insert into sequences (id, workspace_id, name, state, version, definition, created_at, updated_at)
            values (@sequenceId, @workspaceId, @name, 'active', 1, @json, @now, @now);
            insert into sequence_versions (sequence_id, version, definition, created_at) values (@sequenceId, 1, @json, @now);
            insert into prospects (id, workspace_id, email, email_normalized, first_name, last_name, company, title, custom_fields, created_at, updated_at)
            values (@prospectId, @workspaceId, @email, @email, @firstName, @lastName, @company, @title, '{"industry":"Robotics"}', @now, @now);
            insert into enrollments (id, workspace_id, sequence_id, sequence_version, prospect_id, mailbox_id, state, current_step, next_due_at, created_at, updated_at)
            values (@enrollmentId, @workspaceId, @sequenceId, 1, @prospectId, @mailboxId, 'active', @currentStep, @dueAt, @now, @now);
            """,
            new { sequenceId, workspaceId, name = "seq-" + sequenceId.ToString("N")[..8], json, now, prospectId, email = email.ToLowerInvariant(), firstName, lastName, company, title, enrollmentId, mailboxId, currentStep, dueAt = dueAt ?? now });
        return new Enrolled(workspaceId, mailboxId, sequenceId, prospectId, enrollmentId);
    }

    /// <summary>Runs the dispatcher (besides the app's own loop) until <paramref name="condition"/> holds, or fails after <paramref name="seconds"/>.</summary>
    public static async Task<T> UntilAsync<T>(ProspectorApp app, Func<Task<T?>> probe, string what, int seconds = 20)
        where T : class
    {
        var dispatcher = app.Services.GetRequiredService<Dispatcher>();
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("timed out waiting for " + what);
            }

            await dispatcher.RunOnceAsync(CancellationToken.None);
            await Task.Delay(100);
        }
    }

    public static async Task<IReadOnlyList<(string Type, string? Detail)>> EventsAsync(ProspectorApp app, Guid enrollmentId)
    {
        await using var c = await app.Database.Database.OpenAsync();
        return (await c.QueryAsync<(string, string?)>("select type, detail from enrollment_events where enrollment_id = @enrollmentId order by id", new { enrollmentId })).AsList();
    }

    public static async Task<T> ScalarAsync<T>(ProspectorApp app, string sql, object? param = null)
    {
        await using var c = await app.Database.Database.OpenAsync();
        return (await c.ExecuteScalarAsync<T>(sql, param))!;
    }

    public static async Task ExecuteAsync(ProspectorApp app, string sql, object? param = null)
    {
        await using var c = await app.Database.Database.OpenAsync();
        await c.ExecuteAsync(sql, param);
    }
}
