using Prospector.Core.Prospects;
using Prospector.Storage.Stores;

namespace Prospector.Storage.Tests;

public abstract class ImportStoreTests(SqlDialect dialect) : StoreTestBase(dialect)
{
    private async Task<(ImportStore Store, ImportRow Import)> QueuedImportAsync(Guid ws, params byte[][] chunks)
    {
        var store = new ImportStore(Db, Data.Prospects, Data.Audiences);
        var row = new ImportRow { Id = Guid.CreateVersion7(TestData.T0), WorkspaceId = ws, Format = "csv", Options = "{}", CreatedAt = TestData.T0 };
        await store.CreateAsync(row, Ct);
        Assert.Null(await store.GetAsync(ws, row.Id, Ct)); // invisible while uploading
        for (var i = 0; i < chunks.Length; i++)
        {
            await store.AppendChunkAsync(row.Id, i, chunks[i], Ct);
        }

        var queued = await store.QueueAsync(ws, row.Id, chunks.Sum(c => c.Length), "Imported", TestData.T0, Ct);
        Assert.Equal("queued", queued.State);
        Assert.NotNull(queued.AudienceId);
        return (store, queued);
    }

    [Fact]
    public async Task OpenUpload_ReturnsTheChunksInOrder_AsOneStream()
    {
        var ws = await Data.WorkspaceAsync();
        var (store, import) = await QueuedImportAsync(ws, [1, 2, 3], [4], [5, 6]);

        await using var upload = store.OpenUpload(import.Id);
        using var copy = new MemoryStream();
        await upload.CopyToAsync(copy, 2);

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, copy.ToArray());
    }

    [Fact]
    public async Task CommitBatchAsync_AppliesOnce_WhenTheSameBatchIsCommittedTwice()
    {
        var ws = await Data.WorkspaceAsync();
        var (store, import) = await QueuedImportAsync(ws, [1]);
        Assert.Equal(1, await store.StartAsync(import.Id, TestData.T0, Ct));
        ImportBatchRow[] batch =
        [
            new(2, TestData.Input("a@acme.test"), []),
            new(3, null, [("email", "is not a valid email address"), ("time_zone", "unknown")]),
            new(4, TestData.Input("A@acme.test", "Again"), []),
        ];

        Assert.True(await store.CommitBatchAsync(import, 0, 3, batch, TestData.T0, Ct));
        Assert.False(await store.CommitBatchAsync(import, 0, 3, batch, TestData.T0, Ct));

        var after = await store.GetAsync(ws, import.Id, Ct);
        Assert.Equal((3, 1, 1, 1), (after!.RowsDone, after.RowsCreated, after.RowsUpdated, after.RowsFailed));
        var errors = await store.ErrorsAsync(import.Id, 0, 10, Ct);
        Assert.Equal([(3, "email"), (3, "time_zone")], errors.Select(e => (e.RowNumber, e.Field)));
        Assert.Equal(1, (await Data.Audiences.GetAsync(ws, after.AudienceId!.Value, Ct))!.Members);

        await store.FinishAsync(import.Id, null, TestData.T0, Ct);
        Assert.Null(await store.StartAsync(import.Id, TestData.T0, Ct));
        Assert.Equal("completed", (await store.GetAsync(ws, import.Id, Ct))!.State);
        await using var upload = store.OpenUpload(import.Id);
        Assert.Equal(0, await upload.ReadAsync(new byte[10]));
    }
}

public sealed class PostgresImportStoreTests() : ImportStoreTests(SqlDialect.Postgres);

public sealed class SqliteImportStoreTests() : ImportStoreTests(SqlDialect.Sqlite);
