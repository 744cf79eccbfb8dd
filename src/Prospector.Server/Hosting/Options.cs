using System.ComponentModel.DataAnnotations;

namespace Prospector.Server.Hosting;

/// <summary>Where our data and Hangfire's live. With no PostgreSQL connection string: SQLite files under <see cref="DataDirectory"/>.</summary>
public sealed class StorageOptions
{
    /// <summary>Npgsql connection string; when set, PostgreSQL holds our tables and Hangfire's (schema "hangfire").</summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>Folder of the embedded store (prospector.db, hangfire.db).</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>True when PostgreSQL is configured.</summary>
    public bool UsesPostgres => !string.IsNullOrWhiteSpace(PostgresConnectionString);
}

/// <summary>The dispatcher that claims due steps from the enrollments table.</summary>
public sealed class DispatcherOptions
{
    /// <summary>Pause between claims when nothing was due.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Enrollments claimed per round.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>Claimed steps run side by side, up to this many at once (1 on the embedded store, which has one writer).</summary>
    [Range(1, 64)]
    public int Parallelism { get; set; } = 8;

    /// <summary>How long a claim is held. A worker that dies mid-send loses its claim after this; the send becomes 'unknown'.</summary>
    [Range(typeof(TimeSpan), "00:00:30", "01:00:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Transient SMTP failures are retried this many times, with growing delays, before the send fails.</summary>
    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 6;

    /// <summary>First retry delay after a transient failure (doubles each attempt).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a webhook step waits for the receiver's answer.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Webhook attempts (408, 429, 5xx, timeouts) before the step is recorded as failed and the sequence goes on.</summary>
    [Range(1, 50)]
    public int WebhookMaxAttempts { get; set; } = 5;

    /// <summary>First webhook retry delay (doubles each attempt) when the receiver gives no Retry-After.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan WebhookRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest Retry-After honoured; longer ones are capped to this.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan WebhookMaxRetryAfter { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Allow webhook targets on loopback, private, link-local or multicast addresses (off: SSRF guard; tests turn it on).</summary>
    public bool AllowPrivateWebhookTargets { get; set; }
}

/// <summary>The recurring IMAP sync of every mailbox.</summary>
public sealed class MailboxSyncOptions
{
    /// <summary>Hangfire cron (5 fields, or 6 with seconds first).</summary>
    [Required]
    public string Cron { get; set; } = "* * * * *";

    /// <summary>Messages read per mailbox per run.</summary>
    [Range(1, 10_000)]
    public int MaxMessagesPerRun { get; set; } = 500;

    /// <summary>A new mailbox's first sync reads mail received this long before the mailbox was added.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan InitialLookback { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>CRM pushes.</summary>
public sealed class CrmOptions
{
    /// <summary>Hangfire cron of the sweep that retries due outbox rows.</summary>
    [Required]
    public string OutboxCron { get; set; } = "* * * * *";

    /// <summary>Attempts before an outbox row is dead-lettered.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 12;

    /// <summary>Score at or above which a responder is pushed.</summary>
    [Range(0, 100)]
    public int QualificationThreshold { get; set; } = 60;
}

/// <summary>API access.</summary>
public sealed class ApiOptions
{
    /// <summary>
    /// A key to install for the default workspace at start (e.g. from a secret store). When empty and the workspace
    /// has no key, one is generated and printed once on standard output.
    /// </summary>
    public string? BootstrapApiKey { get; set; }

    /// <summary>Largest accepted request body, in bytes.</summary>
    [Range(1024, 100 * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Largest accepted upload on <c>POST /api/imports</c> (streamed into the database, never buffered whole), in bytes.</summary>
    [Range(typeof(long), "1024", "10737418240")]
    public long MaxImportBodyBytes { get; set; } = 200L * 1024 * 1024;
}

/// <summary>Hangfire tuning.</summary>
public sealed class HangfireOptions
{
    /// <summary>Worker threads of this process's Hangfire server.</summary>
    [Range(1, 100)]
    public int WorkerCount { get; set; } = 5;

    /// <summary>How often idle workers look for new jobs.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often recurring and delayed jobs are checked.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan SchedulePollingInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Outgoing email: the public address of our unsubscribe and tracking endpoints, and the SMTP socket.</summary>
public sealed class EmailOptions
{
    /// <summary>
    /// The absolute http(s) base URL at which recipients reach this server's public endpoints (<c>/u/…</c> one-click
    /// unsubscribe, <c>/t/…</c> tracking), e.g. <c>https://links.example.com</c>. Unset: emails carry a mailto
    /// List-Unsubscribe only and tracking is off, whatever the sequence asks.
    /// </summary>
    [Url]
    public string? PublicBaseUrl { get; set; }

    /// <summary>TCP_NODELAY on SMTP sockets (on; off only to measure what Nagle costs, see benchmark B1).</summary>
    public bool NoDelay { get; set; } = true;
}
