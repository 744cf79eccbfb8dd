namespace Prospector.Storage.Tests;

public abstract class EnrollmentStoreTests(SqlDialect dialect) : StoreTestBase(dialect)
{
    private async Task<(Guid Ws, Guid Mailbox, Guid Sequence)> SetupAsync()
    {
        var ws = await Data.WorkspaceAsync();
        var mailbox = await Data.MailboxAsync(ws);
        var sequence = await Data.SequenceAsync(ws);
        return (ws, mailbox.Id, sequence.Id);
    }

    private Task<Prospector.Storage.Stores.EnrollmentStore.EnrollResult> EnrollAsync((Guid Ws, Guid Mailbox, Guid Sequence) s, params Guid[] prospects)
        => Data.Enrollments.EnrollAsync(s.Ws, s.Sequence, 1, s.Mailbox, prospects, 0, TestData.T0, TestData.T0, Ct);

    [Fact]
    public async Task EnrollAsync_EnrollsAndRecordsEvent_WhenProspectIsEligible()
    {
        var s = await SetupAsync();
        var p = await Data.ProspectAsync(s.Ws, "ok@example.test");

        var result = await EnrollAsync(s, p, p);

        var (prospectId, enrollmentId) = Assert.Single(result.Enrolled);
        Assert.Equal(p, prospectId);
        Assert.Empty(result.Skipped);
        var e = await Data.Enrollments.GetAsync(s.Ws, enrollmentId, Ct);
        Assert.Equal(("active", 0, (DateTimeOffset?)TestData.T0), (e!.State, e.CurrentStep, e.NextDueAt));
        Assert.Equal("enrolled", Assert.Single(await Data.Enrollments.EventsAsync(enrollmentId, Ct)).Type);
    }

    [Fact]
    public async Task EnrollAsync_SkipsAsSuppressed_WhenAddressIsSuppressed()
    {
        var s = await SetupAsync();
        var p = await Data.ProspectAsync(s.Ws, "Blocked@Example.test");
        await Data.Suppressions.AddAsync(s.Ws, " blocked@example.TEST", "manual", TestData.T0, Ct);

        var result = await EnrollAsync(s, p);

        Assert.Empty(result.Enrolled);
        Assert.Equal(("suppressed", p), Reason(Assert.Single(result.Skipped)));
    }

    [Fact]
    public async Task EnrollAsync_SkipsAsAlreadyEnrolled_WhenProspectWasInThisSequenceBefore()
    {
        var s = await SetupAsync();
        var p = await Data.ProspectAsync(s.Ws, "again@example.test");
        var first = await EnrollAsync(s, p);
        await Data.ExecuteAsync("update enrollments set state = 'completed' where id = @id", new { id = first.Enrolled[0].EnrollmentId });

        var result = await EnrollAsync(s, p);

        Assert.Empty(result.Enrolled);
        Assert.Equal(("already_enrolled", p), Reason(Assert.Single(result.Skipped)));
    }

    [Fact]
    public async Task EnrollAsync_SkipsAsActiveInOtherSequence_WhenProspectRunsElsewhere()
    {
        var s = await SetupAsync();
        var p = await Data.ProspectAsync(s.Ws, "busy@example.test");
        var otherSequence = await Data.SequenceAsync(s.Ws);
        await Data.EnrollAsync(s.Ws, otherSequence.Id, s.Mailbox, p);

        var result = await EnrollAsync(s, p);

        Assert.Empty(result.Enrolled);
        Assert.Equal(("active_in_other_sequence", p), Reason(Assert.Single(result.Skipped)));
    }

    [Fact]
    public async Task EnrollAsync_SkipsAsProspectNotFound_WhenProspectBelongsToAnotherWorkspace()
    {
        var s = await SetupAsync();
        var otherWs = await Data.WorkspaceAsync("other");
        var foreign = await Data.ProspectAsync(otherWs, "foreign@example.test");
        var mine = await Data.ProspectAsync(s.Ws, "mine@example.test");

        var result = await EnrollAsync(s, foreign, Guid.NewGuid(), mine);

        Assert.Equal(mine, Assert.Single(result.Enrolled).ProspectId);
        Assert.Equal(2, result.Skipped.Count);
        Assert.All(result.Skipped, k => Assert.Equal("prospect_not_found", k.Reason));
        Assert.Contains(result.Skipped, k => k.ProspectId == foreign);
        Assert.Empty(await Data.Enrollments.ListAsync(otherWs, new Stores.EnrollmentFilter(), null, 10, Ct));
    }

    private static (string Reason, Guid ProspectId) Reason(Prospector.Storage.Stores.EnrollmentStore.Skipped s) => (s.Reason, s.ProspectId);
}

public sealed class PostgresEnrollmentStoreTests() : EnrollmentStoreTests(SqlDialect.Postgres);

public sealed class SqliteEnrollmentStoreTests() : EnrollmentStoreTests(SqlDialect.Sqlite);
