using Prospector.Storage.Stores;

namespace Prospector.Storage.Tests;

public abstract class EnrollPlanTests(SqlDialect dialect) : StoreTestBase(dialect)
{
    private async Task<(Guid Ws, Guid Sequence, Guid[] Mailboxes)> SetupAsync(int mailboxes = 1)
    {
        var ws = await Data.WorkspaceAsync();
        var sequence = await Data.SequenceAsync(ws);
        var pool = new List<Guid>();
        for (var i = 0; i < mailboxes; i++)
        {
            pool.Add((await Data.MailboxAsync(ws)).Id);
        }

        return (ws, sequence.Id, pool.ToArray());
    }

    private static EnrollPlan Plan((Guid Ws, Guid Sequence, Guid[] Mailboxes) s, params Guid[] prospects)
        => new(s.Ws, s.Sequence, 1, s.Mailboxes, 0, TestData.T0, TestData.T0) { ProspectIds = prospects };

    private async Task<Guid> ProspectAsync(Guid ws, string? email, string? linkedin = null, Guid? company = null, string custom = "{}")
    {
        var id = Guid.NewGuid();
        await Data.ExecuteAsync(
            """
            insert into prospects (id, workspace_id, email, email_normalized, linkedin_url, linkedin_url_normalized, company_id, first_name, custom_fields, created_at, updated_at)
            values (@id, @ws, @email, @email, @linkedin, @linkedin, @company, 'Ann', @custom, @T0, @T0)
            """, new { id, ws, email, linkedin, company, custom, TestData.T0 });
        return id;
    }

    private async Task<Guid> CompanyAsync(Guid ws, string domain)
    {
        var id = Guid.NewGuid();
        await Data.ExecuteAsync(
            "insert into companies (id, workspace_id, domain, name, created_at, updated_at) values (@id, @ws, @domain, 'Acme', @T0, @T0)",
            new { id, ws, domain, TestData.T0 });
        return id;
    }

    [Fact]
    public async Task EnrollAsync_GivesEachSkipItsReason_WhenProspectsLackWhatTheStepsNeed()
    {
        var s = await SetupAsync();
        var acme = await CompanyAsync(s.Ws, "acme.test");
        var replier = await ProspectAsync(s.Ws, "replier@acme.test", company: acme);
        var other = await Data.SequenceAsync(s.Ws);
        var repliedEnrollment = await Data.EnrollAsync(s.Ws, other.Id, s.Mailboxes[0], replier);
        await Data.ExecuteAsync("update enrollments set state = 'replied' where id = @repliedEnrollment", new { repliedEnrollment });

        var colleague = await ProspectAsync(s.Ws, "colleague@acme.test", "https://linkedin.test/in/c", acme);
        var noEmail = await ProspectAsync(s.Ws, null, "https://linkedin.test/in/n");
        var noLinkedIn = await ProspectAsync(s.Ws, "nolinkedin@example.test");
        var noField = await ProspectAsync(s.Ws, "nofield@example.test", "https://linkedin.test/in/f", custom: """{"industry":""}""");
        var ok = await ProspectAsync(s.Ws, "ok@example.test", "https://linkedin.test/in/ok", custom: """{"industry":"SaaS"}""");

        var result = await Data.Enrollments.EnrollAsync(new EnrollPlan(s.Ws, other.Id, 1, s.Mailboxes, 0, TestData.T0, TestData.T0)
        {
            ProspectIds = [colleague, noEmail, noLinkedIn, noField, ok],
            NeedsEmail = true,
            NeedsLinkedInUrl = true,
            RequiredFields = ["first_name", "custom.industry"],
        }, Ct);

        Assert.Equal([ok], result.Enrolled.Select(e => e.ProspectId).ToArray());
        Assert.Equal(
            [(colleague, "same_company_replied"), (noEmail, "no_email"), (noLinkedIn, "no_linkedin_url"), (noField, "missing_field:custom.industry")],
            result.Skipped.Select(k => (k.ProspectId, k.Reason)).ToArray());
    }

    [Fact]
    public async Task EnrollAsync_FollowsWorkspaceSetting_WhenSkipActiveInOtherSequencesIsNotGiven()
    {
        var s = await SetupAsync();
        var busy = await ProspectAsync(s.Ws, "busy@example.test");
        var other = await Data.SequenceAsync(s.Ws);
        await Data.EnrollAsync(s.Ws, other.Id, s.Mailboxes[0], busy);

        Assert.Equal("active_in_other_sequence", Assert.Single((await Data.Enrollments.EnrollAsync(Plan(s, busy), Ct)).Skipped).Reason);

        await Data.ExecuteAsync("""update workspaces set settings = '{"allowActiveInOtherSequences": true}' where id = @Ws""", new { s.Ws });
        var allowed = await Data.Enrollments.EnrollAsync(Plan(s, busy), Ct);

        Assert.Equal(busy, Assert.Single(allowed.Enrolled).ProspectId);
    }

    [Fact]
    public async Task EnrollAsync_RotatesLeastLoadedFirst_WhenPoolHasSeveralMailboxes()
    {
        var s = await SetupAsync(mailboxes: 3);
        var other = await Data.SequenceAsync(s.Ws);
        // Mailbox 0 already carries two active enrollments, mailbox 1 one.
        foreach (var (mailbox, n) in new[] { (0, 0), (0, 1), (1, 2) })
        {
            await Data.EnrollAsync(s.Ws, other.Id, s.Mailboxes[mailbox], await ProspectAsync(s.Ws, $"old{n}@example.test"));
        }

        var prospects = new List<Guid>();
        for (var i = 0; i < 6; i++)
        {
            prospects.Add(await ProspectAsync(s.Ws, $"p{i}@example.test"));
        }

        var result = await Data.Enrollments.EnrollAsync(Plan(s, [.. prospects]), Ct);

        // Loads (2,1,0): 2 → (2,1,1), 1 → (2,2,1), 2 → (2,2,2), then round robin 0, 1, 2.
        Assert.Equal([2, 1, 2, 0, 1, 2], result.Enrolled.Select(e => Array.IndexOf(s.Mailboxes, e.MailboxId)).ToArray());
        foreach (var e in result.Enrolled)
        {
            Assert.Equal(e.MailboxId, (await Data.Enrollments.GetAsync(s.Ws, e.EnrollmentId, Ct))!.MailboxId);
        }
    }

    [Fact]
    public async Task EnrollAsync_EnrollsAudienceMembersOnly_WhenAudienceIsGiven()
    {
        var s = await SetupAsync();
        var audience = Guid.NewGuid();
        await Data.ExecuteAsync("insert into audiences (id, workspace_id, name, created_at, updated_at) values (@audience, @Ws, 'a', @T0, @T0)",
            new { audience, s.Ws, TestData.T0 });
        var members = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            var p = await ProspectAsync(s.Ws, $"m{i}@example.test");
            members.Add(p);
            await Data.ExecuteAsync("insert into audience_members (audience_id, prospect_id, added_at) values (@audience, @p, @T0)", new { audience, p, TestData.T0 });
        }

        var outsider = await ProspectAsync(s.Ws, "outsider@example.test");

        var result = await Data.Enrollments.EnrollAsync(Plan(s) with { ProspectIds = null, AudienceId = audience }, Ct);

        Assert.Equal(members.Order(), result.Enrolled.Select(e => e.ProspectId).Order());
        Assert.DoesNotContain(outsider, result.Enrolled.Select(e => e.ProspectId));
        Assert.All(result.Enrolled, e => Assert.Equal(s.Mailboxes[0], e.MailboxId));
    }

    [Fact]
    public async Task EnrollAsync_EnrollsALargeAudienceInChunks_WithOneMailboxEach()
    {
        var s = await SetupAsync(mailboxes: 2);
        var audience = Guid.NewGuid();
        await Data.ExecuteAsync("insert into audiences (id, workspace_id, name, created_at, updated_at) values (@audience, @Ws, 'big', @T0, @T0)",
            new { audience, s.Ws, TestData.T0 });
        // 50k on PostgreSQL (the documented audience limit); on SQLite enough to cross chunk boundaries.
        var count = Dialect == SqlDialect.Postgres ? 50_000 : 6_000;
        if (Dialect == SqlDialect.Postgres)
        {
            await Data.ExecuteAsync(
                """
                insert into prospects (id, workspace_id, email, email_normalized, first_name, custom_fields, created_at, updated_at)
                select gen_random_uuid(), @Ws, 'p' || g || '@bulk.test', 'p' || g || '@bulk.test', 'Ann', '{}', @T0, @T0 from generate_series(1, @count) g
                """, new { s.Ws, TestData.T0, count });
        }
        else
        {
            var rows = Enumerable.Range(1, count).Select(i => new { id = Guid.NewGuid(), ws = s.Ws, email = $"p{i}@bulk.test", TestData.T0 }).ToArray();
            await Data.ExecuteAsync(
                "insert into prospects (id, workspace_id, email, email_normalized, first_name, custom_fields, created_at, updated_at) values (@id, @ws, @email, @email, 'Ann', '{}', @T0, @T0)",
                rows);
        }

        await Data.ExecuteAsync("insert into audience_members (audience_id, prospect_id, added_at) select @audience, id, @T0 from prospects where workspace_id = @Ws",
            new { audience, s.Ws, TestData.T0 });

        var result = await Data.Enrollments.EnrollAsync(Plan(s) with { ProspectIds = null, AudienceId = audience, NeedsEmail = true }, Ct);

        Assert.Equal((count, 0), (result.Enrolled.Count, result.Skipped.Count));
        Assert.Equal(count, result.Enrolled.Select(e => e.ProspectId).Distinct().Count());
        Assert.Equal([count / 2, count / 2], result.Enrolled.GroupBy(e => e.MailboxId).Select(g => g.Count()).ToArray());
        Assert.Equal(count, await Data.ScalarAsync<long>("select count(*) from enrollment_events where type = 'enrolled'"));
        Assert.Equal(count, await Data.ScalarAsync<long>("select count(*) from enrollments where sequence_id = @Sequence", new { s.Sequence }));
    }

    [Fact]
    public async Task EnrollAsync_SetsOwnerFromRequestElseProspect()
    {
        var s = await SetupAsync();
        var (repOwner, prospectOwner) = (Guid.NewGuid(), Guid.NewGuid());
        foreach (var owner in new[] { repOwner, prospectOwner })
        {
            await Data.ExecuteAsync("insert into owners (id, workspace_id, name, state, created_at, updated_at) values (@owner, @Ws, 'Rep', 'active', @T0, @T0)",
                new { owner, s.Ws, TestData.T0 });
        }

        var p1 = await ProspectAsync(s.Ws, "o1@example.test");
        var p2 = await ProspectAsync(s.Ws, "o2@example.test");
        await Data.ExecuteAsync("update prospects set owner_id = @prospectOwner where id in (@p1, @p2)", new { prospectOwner, p1, p2 });

        await Data.Enrollments.EnrollAsync(Plan(s, p1), Ct);
        await Data.Enrollments.EnrollAsync(Plan(s, p2) with { OwnerId = repOwner }, Ct);

        var owners = await Data.QueryAsync<Guid>("select owner_id from enrollments where prospect_id in (@p1, @p2) order by prospect_id = @p2", new { p1, p2 });
        Assert.Equal([prospectOwner, repOwner], owners.ToArray());
    }
}

public sealed class PostgresEnrollPlanTests() : EnrollPlanTests(SqlDialect.Postgres);

public sealed class SqliteEnrollPlanTests() : EnrollPlanTests(SqlDialect.Sqlite);
