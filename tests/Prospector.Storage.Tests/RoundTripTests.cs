namespace Prospector.Storage.Tests;

public abstract class RoundTripTests(SqlDialect dialect) : StoreTestBase(dialect)
{
    // 12:34:56.123456 at +02:00: microsecond precision and a non-UTC offset on the way in.
    private static readonly DateTimeOffset Precise = new DateTimeOffset(2025, 6, 15, 10, 34, 56, TimeSpan.Zero).AddTicks(1_234_560);

    [Fact]
    public async Task SequenceGetAsync_ReturnsSameGuidsAndInstant_WhenCreated()
    {
        var ws = await Data.WorkspaceAsync();
        var created = await Data.SequenceAsync(ws, Precise);

        var read = await Data.Sequences.GetAsync(ws, created.Id, Ct);

        Assert.NotNull(read);
        Assert.Equal(created.Id, read.Id);
        Assert.Equal(ws, read.WorkspaceId);
        Assert.Equal(Precise.UtcTicks, read.CreatedAt.UtcTicks);
        Assert.Equal(created.Definition, read.Definition);
    }

    [Fact]
    public async Task MailboxGetAsync_KeepsMicroseconds_WhenCreatedAtHasSubSecondPrecision()
    {
        var ws = await Data.WorkspaceAsync();
        var created = await Data.MailboxAsync(ws, Precise);

        var read = await Data.Mailboxes.GetAsync(ws, created.Id, Ct);

        Assert.NotNull(read);
        Assert.Equal(created.Id, read.Id);
        Assert.Equal(Precise, read.CreatedAt);
        Assert.Equal(Precise.UtcDateTime, read.CreatedAt.UtcDateTime);
        Assert.Equal(2525, read.SmtpPort);
        Assert.Equal(1143, read.ImapPort);
    }

    [Fact]
    public async Task MailboxGetAsync_ReturnsNull_WhenAskedWithAnotherWorkspace()
    {
        var ws = await Data.WorkspaceAsync();
        var other = await Data.WorkspaceAsync("other");
        var created = await Data.MailboxAsync(ws);

        Assert.Null(await Data.Mailboxes.GetAsync(other, created.Id, Ct));
    }

    [Fact]
    public async Task EnrollmentGetAsync_ReturnsDueInstantAndIds_WhenEnrolled()
    {
        var s = await Data.ScenarioAsync(dueAt: Precise);

        var e = await Data.EnrollmentAsync(s);

        Assert.Equal(s.EnrollmentId, e.Id);
        Assert.Equal(s.ProspectId, e.ProspectId);
        Assert.Equal(s.Sequence.Id, e.SequenceId);
        Assert.Equal(s.Mailbox.Id, e.MailboxId);
        Assert.Equal(Precise, e.NextDueAt);
        Assert.Equal("active", e.State);
    }

    [Fact]
    public async Task ProspectGetAsync_ReturnsCreatedAt_WhenUpsertedAtPreciseInstant()
    {
        var ws = await Data.WorkspaceAsync();
        var id = (await Data.Prospects.UpsertAsync(ws, [TestData.Input("p@example.test")], Precise, Ct)).Ids[0];

        var read = await Data.Prospects.GetAsync(ws, id, Ct);

        Assert.NotNull(read);
        Assert.Equal(id, read.Id);
        Assert.Equal(Precise, read.CreatedAt);
    }
}

public sealed class PostgresRoundTripTests() : RoundTripTests(SqlDialect.Postgres);

public sealed class SqliteRoundTripTests() : RoundTripTests(SqlDialect.Sqlite)
{
    // Instants are written as UTC (the stores' contract); SQLite then keeps text whose order is time order,
    // which the due-time claim relies on.
    [Fact]
    public async Task SequenceCreateAsync_StoresTextInTimeOrder_WhenInstantsAreUtc()
    {
        var ws = await Data.WorkspaceAsync();
        var whole = new DateTimeOffset(2025, 6, 15, 10, 34, 56, TimeSpan.Zero);
        var later = await Data.SequenceAsync(ws, whole.AddTicks(5_000_000));
        var earlier = await Data.SequenceAsync(ws, whole);
        var latest = await Data.SequenceAsync(ws, whole.AddTicks(5_500_000));

        var ordered = (await Data.QueryAsync<Guid>("select id from sequences order by created_at")).ToArray();

        Assert.Equal(new[] { earlier.Id, later.Id, latest.Id }, ordered);
    }
}
