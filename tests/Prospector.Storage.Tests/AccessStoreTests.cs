using Prospector.Storage.Stores;

namespace Prospector.Storage.Tests;

public abstract class AccessStoreTests(SqlDialect dialect) : StoreTestBase(dialect)
{
    private OwnerStore Owners => new(Db);

    [Fact]
    public async Task RevokeApiKeyAsync_RefusesLastActiveAdmin_AndRevokedKeyIsNoLongerFound()
    {
        var ws = await Data.WorkspaceAsync();
        var first = await Data.Workspaces.CreateApiKeyAsync(ws, "one", "admin", "psk_1", "hash-1", null, TestData.T0, Ct);
        var viewer = await Data.Workspaces.CreateApiKeyAsync(ws, "view", "viewer", "psk_2", "hash-2", first.Id, TestData.T0, Ct);

        Assert.Equal(RevokeKeyResult.LastAdmin, await Data.Workspaces.RevokeApiKeyAsync(ws, first.Id, TestData.T0, Ct));
        Assert.NotNull(await Data.Workspaces.FindApiKeyAsync("hash-1", Ct));

        Assert.Equal(RevokeKeyResult.Revoked, await Data.Workspaces.RevokeApiKeyAsync(ws, viewer.Id, TestData.T0.AddMinutes(1), Ct));
        Assert.Null(await Data.Workspaces.FindApiKeyAsync("hash-2", Ct));
        var listed = await Data.Workspaces.ListApiKeysAsync(ws, null, 10, Ct);
        Assert.Equal(2, listed.Count);
        Assert.Equal(TestData.T0.AddMinutes(1), listed.Single(k => k.Id == viewer.Id).RevokedAt);
        Assert.Null(listed.Single(k => k.Id == first.Id).RevokedAt);
        Assert.Equal(("view", "viewer", "psk_2"), (listed.Single(k => k.Id == viewer.Id).Name, listed.Single(k => k.Id == viewer.Id).Role, listed.Single(k => k.Id == viewer.Id).Prefix));

        var second = await Data.Workspaces.CreateApiKeyAsync(ws, "two", "admin", "psk_3", "hash-3", null, TestData.T0, Ct);
        Assert.Equal(RevokeKeyResult.Revoked, await Data.Workspaces.RevokeApiKeyAsync(ws, first.Id, TestData.T0, Ct));
        Assert.Equal(RevokeKeyResult.LastAdmin, await Data.Workspaces.RevokeApiKeyAsync(ws, second.Id, TestData.T0, Ct));

        var other = await Data.WorkspaceAsync("other");
        Assert.Equal(RevokeKeyResult.NotFound, await Data.Workspaces.RevokeApiKeyAsync(other, second.Id, TestData.T0, Ct));
    }

    [Fact]
    public async Task IsUniqueViolation_RecognisesThisDialectsUniqueError_AndNotOthers()
    {
        var ws = await Data.WorkspaceAsync();
        const string insert = "insert into companies (id, workspace_id, domain, created_at, updated_at) values (@id, @ws, 'acme.example', @at, @at)";
        await Data.ExecuteAsync(insert, new { id = Guid.NewGuid(), ws, at = TestData.T0 });

        var duplicate = await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => Data.ExecuteAsync(insert, new { id = Guid.NewGuid(), ws, at = TestData.T0 }));
        var missingParent = await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => Data.ExecuteAsync(insert, new { id = Guid.NewGuid(), ws = Guid.NewGuid(), at = TestData.T0 }));

        Assert.True(Database.IsUniqueViolation(duplicate));
        Assert.False(Database.IsUniqueViolation(missingParent));
    }

    [Fact]
    public async Task GetSettingsAsync_ReturnsDefaults_ThenWhatUpdateStored()
    {
        var ws = await Data.WorkspaceAsync();
        Assert.False((await Data.Workspaces.GetSettingsAsync(ws, Ct)).AllowActiveInOtherSequences);

        await Data.Workspaces.UpdateAsync(ws, "renamed", "1 Main St\nSpringfield", new WorkspaceSettings(AllowActiveInOtherSequences: true), Ct);

        Assert.True((await Data.Workspaces.GetSettingsAsync(ws, Ct)).AllowActiveInOtherSequences);
        var row = await Data.Workspaces.GetAsync(ws, Ct);
        Assert.Equal(("renamed", "1 Main St\nSpringfield"), (row!.Name, row.PostalAddress));
    }

    [Fact]
    public async Task OwnerStore_RefusesDuplicateEmailPerWorkspace_AndArchiveKeepsOwnerReadable()
    {
        var ws = await Data.WorkspaceAsync();
        var other = await Data.WorkspaceAsync("other");
        var ann = Owner(ws, "Ann", "Ann@Example.test");
        Assert.True(await Owners.CreateAsync(ann, Ct));
        Assert.False(await Owners.CreateAsync(Owner(ws, "Ann 2", " ann@example.TEST"), Ct));
        Assert.True(await Owners.CreateAsync(Owner(other, "Ann elsewhere", "ann@example.test"), Ct));
        var bob = Owner(ws, "Bob", null);
        Assert.True(await Owners.CreateAsync(bob, Ct));
        Assert.True(await Owners.CreateAsync(Owner(ws, "No email either", null), Ct));

        Assert.False(await Owners.UpdateAsync(ws, bob.Id, "Bob", "ANN@example.test", TestData.T0, Ct));
        Assert.True(await Owners.UpdateAsync(ws, bob.Id, "Bobby", "bob@example.test", TestData.T0.AddHours(1), Ct));
        Assert.Equal("bob@example.test", (await Owners.GetAsync(ws, bob.Id, Ct))!.Email);

        Assert.True(await Owners.ArchiveAsync(ws, ann.Id, TestData.T0, Ct));
        Assert.False(await Owners.ArchiveAsync(other, ann.Id, TestData.T0, Ct));
        Assert.Equal(OwnerStates.Archived, (await Owners.GetAsync(ws, ann.Id, Ct))!.State);
        Assert.False(await Owners.IsAssignableAsync(ws, ann.Id, Ct));
        Assert.True(await Owners.IsAssignableAsync(ws, bob.Id, Ct));
        Assert.False(await Owners.IsAssignableAsync(other, bob.Id, Ct));
        Assert.Equal([ann.Id], (await Owners.ListAsync(ws, OwnerStates.Archived, null, 10, Ct)).Select(o => o.Id));
        Assert.Equal(2, (await Owners.ListAsync(ws, OwnerStates.Active, null, 10, Ct)).Count);
        var page = await Owners.ListAsync(ws, null, null, 2, Ct);
        var rest = await Owners.ListAsync(ws, null, page[^1].Id, 2, Ct);
        Assert.Equal(3, page.Concat(rest).Select(o => o.Id).Distinct().Count());
    }

    [Fact]
    public async Task MailboxStore_UpdatesScheduleColumns_AndArchives()
    {
        var ws = await Data.WorkspaceAsync();
        var owner = Owner(ws, "Ann", null);
        await Owners.CreateAsync(owner, Ct);
        var m = await Data.MailboxAsync(ws);

        var updated = new MailboxRow
        {
            Id = m.Id, WorkspaceId = ws, Name = "renamed", FromAddress = m.FromAddress, FromName = m.FromName, DailyCap = 7, SmtpHost = m.SmtpHost,
            SmtpPort = m.SmtpPort, SmtpSecurity = m.SmtpSecurity, ImapHost = m.ImapHost, ImapPort = m.ImapPort, ImapSecurity = m.ImapSecurity,
            ImapFolder = "Archive", CreatedAt = m.CreatedAt, OwnerId = owner.Id, Signature = "--\nAnn", TimeZone = "Europe/Paris",
            WindowStartMinute = 510, WindowEndMinute = 1050, WindowDays = "mon,wed", UpdatedAt = TestData.T0.AddDays(1),
        };
        Assert.True(await Data.Mailboxes.UpdateAsync(updated, Ct));
        var other = await Data.WorkspaceAsync("other");
        Assert.False(await Data.Mailboxes.UpdateAsync(new MailboxRow { Id = m.Id, WorkspaceId = other, Name = "x", TimeZone = "UTC", WindowDays = "mon" }, Ct));

        var read = (await Data.Mailboxes.GetAsync(ws, m.Id, Ct))!;
        Assert.Equal(("renamed", 7, "Archive", owner.Id, "--\nAnn", "Europe/Paris"), (read.Name, read.DailyCap, read.ImapFolder, read.OwnerId.GetValueOrDefault(), read.Signature, read.TimeZone));
        Assert.Equal((510, 1050, "mon,wed", "active"), (read.WindowStartMinute, read.WindowEndMinute, read.WindowDays, read.State));

        Assert.True(await Data.Mailboxes.ArchiveAsync(ws, m.Id, TestData.T0, Ct));
        Assert.False(await Data.Mailboxes.ArchiveAsync(other, m.Id, TestData.T0, Ct));
        Assert.Equal("archived", (await Data.Mailboxes.GetAsync(ws, m.Id, Ct))!.State);
        Assert.Single(await Data.Mailboxes.ListAsync(ws, "archived", null, 10, Ct));
        Assert.Empty(await Data.Mailboxes.ListAsync(ws, "active", null, 10, Ct));
    }

    private static OwnerRow Owner(Guid ws, string name, string? email) => new()
    {
        Id = Guid.NewGuid(), WorkspaceId = ws, Name = name, Email = email, State = OwnerStates.Active, CreatedAt = TestData.T0, UpdatedAt = TestData.T0,
    };
}

public sealed class PostgresAccessStoreTests() : AccessStoreTests(SqlDialect.Postgres);

public sealed class SqliteAccessStoreTests() : AccessStoreTests(SqlDialect.Sqlite);
