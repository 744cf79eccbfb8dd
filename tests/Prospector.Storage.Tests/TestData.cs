using Dapper;
using Prospector.Core.Prospects;
using Prospector.Core.Sequences;
using Prospector.Storage.Stores;

namespace Prospector.Storage.Tests;

/// <summary>One enrolled prospect and everything it hangs on.</summary>
public sealed record Scenario(Guid WorkspaceId, MailboxRow Mailbox, SequenceRow Sequence, Guid ProspectId, string Email, Guid EnrollmentId);

/// <summary>Builds test data through the stores (plus raw SQL for state the stores cannot set).</summary>
public sealed class TestData(Database db)
{
    /// <summary>A fixed "now" with a whole-second value.</summary>
    public static readonly DateTimeOffset T0 = new(2025, 3, 3, 9, 0, 0, TimeSpan.Zero);

    /// <summary>Email s1, wait 2 days, email s2 (a follow-up in the thread).</summary>
    public static readonly SequenceDefinition Definition = new(
    [
        new EmailStep("s1", "Hello {{ first_name }}", "Hi {{ first_name }}, quick question."),
        new WaitStep("w1", TimeSpan.FromDays(2)),
        new EmailStep("s2", null, "Following up."),
    ]);

    private int _counter;

    public WorkspaceStore Workspaces { get; } = new(db);
    public MailboxStore Mailboxes { get; } = new(db);
    public SequenceStore Sequences { get; } = new(db);
    public CompanyStore Companies { get; } = new(db);
    public AudienceStore Audiences { get; } = new(db);
    public ProspectStore Prospects { get; } = new(db, new CompanyStore(db));
    public EnrollmentStore Enrollments { get; } = new(db);
    public DispatchStore Dispatch { get; } = new(db);
    public SuppressionStore Suppressions { get; } = new(db);
    public InboundStore Inbound { get; } = new(db);
    public CrmStore Crm { get; } = new(db);

    public Task<Guid> WorkspaceAsync(string name = "ws") => Workspaces.CreateAsync(name, T0, CancellationToken.None);

    public async Task<MailboxRow> MailboxAsync(Guid workspaceId, DateTimeOffset? createdAt = null, int dailyCap = 50)
    {
        var n = Interlocked.Increment(ref _counter);
        var row = new MailboxRow
        {
            Id = Guid.NewGuid(),
            WorkspaceId = workspaceId,
            Name = $"mb{n}",
            FromAddress = $"sender{n}@example.test",
            FromName = "Sender",
            DailyCap = dailyCap,
            SmtpHost = "127.0.0.1",
            SmtpPort = 2525,
            SmtpSecurity = "none",
            ImapHost = "127.0.0.1",
            ImapPort = 1143,
            ImapSecurity = "none",
            ImapFolder = "INBOX",
            CreatedAt = createdAt ?? T0,
        };
        await Mailboxes.CreateAsync(row, CancellationToken.None);
        return row;
    }

    public async Task<SequenceRow> SequenceAsync(Guid workspaceId, DateTimeOffset? createdAt = null)
    {
        var row = new SequenceRow
        {
            Id = Guid.NewGuid(),
            WorkspaceId = workspaceId,
            Name = "seq" + Interlocked.Increment(ref _counter),
            State = "active",
            Version = 1,
            Definition = SequenceParser.Serialize(Definition),
            CreatedAt = createdAt ?? T0,
        };
        await Sequences.CreateAsync(row, CancellationToken.None);
        return row;
    }

    public static ProspectInput Input(string email, string? firstName = "Ann", string? lastName = null, string? company = null, Dictionary<string, string>? custom = null)
        => new(email, null, firstName, lastName, null, null, company, null, null, null, null, custom ?? []);

    /// <summary>Inserts a prospect with plain SQL (setup must not depend on ProspectStore.UpsertAsync, tested on its own).</summary>
    public async Task<Guid> ProspectAsync(Guid workspaceId, string email)
    {
        var id = Guid.CreateVersion7(T0);
        await ExecuteAsync(
            """
            insert into prospects (id, workspace_id, email, email_normalized, first_name, custom_fields, created_at, updated_at)
            values (@id, @workspaceId, @email, @normalized, 'Ann', '{}', @T0, @T0)
            """, new { id, workspaceId, email = email.Trim(), normalized = EmailAddress.Normalize(email), T0 });
        return id;
    }

    public async Task<Guid> EnrollAsync(Guid workspaceId, Guid sequenceId, Guid mailboxId, Guid prospectId, DateTimeOffset? dueAt = null)
    {
        var result = await Enrollments.EnrollAsync(workspaceId, sequenceId, 1, mailboxId, [prospectId], 0, dueAt ?? T0, T0, CancellationToken.None);
        Assert.Empty(result.Skipped);
        return Assert.Single(result.Enrolled).EnrollmentId;
    }

    /// <summary>A workspace, mailbox, sequence and one prospect enrolled at step 0, due at <paramref name="dueAt"/>.</summary>
    public async Task<Scenario> ScenarioAsync(string? email = null, DateTimeOffset? dueAt = null)
    {
        email ??= $"prospect{Interlocked.Increment(ref _counter)}@example.test";
        var ws = await WorkspaceAsync();
        var mailbox = await MailboxAsync(ws);
        var sequence = await SequenceAsync(ws);
        var prospect = await ProspectAsync(ws, email);
        var enrollment = await EnrollAsync(ws, sequence.Id, mailbox.Id, prospect, dueAt);
        return new Scenario(ws, mailbox, sequence, prospect, email, enrollment);
    }

    /// <summary>The dispatch work of one enrollment, read with the same columns as DispatchStore.LoadAsync (tested on its own).</summary>
    public async Task<DispatchWork> WorkAsync(Guid enrollmentId)
        => Assert.Single(await QueryAsync<DispatchWork>(
            """
            select e.id, e.workspace_id, e.current_step, e.thread_message_id, e.thread_subject, s.definition,
                   p.email, p.first_name, p.last_name, p.company, p.company_domain, p.custom_fields,
                   m.id as mailbox_id, m.from_address, m.from_name, m.smtp_host, m.smtp_port, m.smtp_security, m.smtp_username, m.smtp_password_protected
            from enrollments e
            join sequences s on s.id = e.sequence_id
            join prospects p on p.id = e.prospect_id
            join mailboxes m on m.id = e.mailbox_id
            where e.id = @enrollmentId
            """, new { enrollmentId }));

    /// <summary>What InboundStore.MatchAsync would return for the scenario (built by hand; MatchAsync is tested on its own).</summary>
    public async Task<MatchedEnrollment> MatchOfAsync(Scenario s)
    {
        var e = await EnrollmentAsync(s);
        return new MatchedEnrollment
        {
            EnrollmentId = s.EnrollmentId, WorkspaceId = s.WorkspaceId, State = e.State, ProspectId = s.ProspectId, Email = s.Email,
            FirstName = "Ann", SequenceId = s.Sequence.Id, SequenceName = s.Sequence.Name,
        };
    }

    public async Task<EnrollmentRow> EnrollmentAsync(Scenario s)
        => (await Enrollments.GetAsync(s.WorkspaceId, s.EnrollmentId, CancellationToken.None))!;

    public async Task<int> ExecuteAsync(string sql, object? param = null)
    {
        await using var c = await db.OpenAsync();
        return await c.ExecuteAsync(sql, param);
    }

    public async Task<T> ScalarAsync<T>(string sql, object? param = null)
    {
        await using var c = await db.OpenAsync();
        return (await c.ExecuteScalarAsync<T>(sql, param))!;
    }

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? param = null)
    {
        await using var c = await db.OpenAsync();
        return (await c.QueryAsync<T>(sql, param)).AsList();
    }
}

/// <summary>Per-test database of one dialect, with a data builder.</summary>
public abstract class StoreTestBase(SqlDialect dialect) : IAsyncLifetime
{
    private TestDatabase? _db;

    protected SqlDialect Dialect { get; } = dialect;

    protected Database Db => _db!.Database;

    protected TestData Data { get; private set; } = null!;

    protected static CancellationToken Ct => CancellationToken.None;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(Dialect);
        Data = new TestData(_db.Database);
    }

    public async Task DisposeAsync()
    {
        if (_db is not null)
        {
            await _db.DisposeAsync();
        }
    }
}
