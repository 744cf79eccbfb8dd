using System.Data.Common;
using Dapper;
using Prospector.Core.Prospects;

namespace Prospector.Storage.Stores;

/// <summary>One record of an import batch: its row number and the validated prospect, or its errors.</summary>
public sealed record ImportBatchRow(int Row, ProspectInput? Prospect, IReadOnlyList<(string Field, string Message)> Errors);

/// <summary>
/// Imports: the upload kept in chunks (so any worker can read it), progress counters, and row errors. A batch commits its
/// prospects, errors and counters in one transaction, guarded on the previous <c>rows_done</c>, so a rerun resumes
/// exactly after the last committed batch and never counts a row twice.
/// </summary>
public sealed class ImportStore(Database db, ProspectStore prospects, AudienceStore audiences)
{
    private const string Columns =
        "id, workspace_id, audience_id, owner_id, format, state, options, bytes, rows_total, rows_done, rows_created, rows_updated, rows_failed, " +
        "error, created_at, started_at, finished_at";

    /// <summary>Records a new import in state <c>uploading</c> (invisible to the API until <see cref="QueueAsync"/>).</summary>
    public async Task CreateAsync(ImportRow row, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            """
            insert into imports (id, workspace_id, audience_id, owner_id, format, state, options, created_at, updated_at)
            values (@Id, @WorkspaceId, @AudienceId, @OwnerId, @Format, 'uploading', @Options, @CreatedAt, @CreatedAt)
            """, row, cancellationToken: ct));
    }

    /// <summary>Stores one chunk of the upload.</summary>
    public async Task AppendChunkAsync(Guid importId, int seq, byte[] data, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "insert into import_chunks (import_id, seq, data) values (@importId, @seq, @data)", new { importId, seq, data }, cancellationToken: ct));
    }

    /// <summary>The upload is complete: creates or finds the named audience if one was asked for, and queues the import.</summary>
    public async Task<ImportRow> QueueAsync(Guid workspaceId, Guid importId, long bytes, string? audienceName, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        Guid? audienceId = audienceName is null ? null : await audiences.FindOrCreateAsync(c, tx, workspaceId, audienceName, now, ct);
        await c.ExecuteAsync(new CommandDefinition(
            """
            update imports set state = 'queued', bytes = @bytes, audience_id = coalesce(@audienceId, audience_id), updated_at = @now
            where id = @importId and state = 'uploading'
            """, new { importId, bytes, audienceId, now }, tx, cancellationToken: ct));
        var row = await c.QuerySingleAsync<ImportRow>(new CommandDefinition(
            $"select {Columns} from imports where id = @importId", new { importId }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return row;
    }

    /// <summary>Removes an import whose upload failed (too large, client gone): its chunks and the row.</summary>
    public async Task DiscardAsync(Guid importId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("delete from import_chunks where import_id = @importId", new { importId }, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition("delete from import_errors where import_id = @importId", new { importId }, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition("delete from imports where id = @importId", new { importId }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    /// <summary>An import of this workspace (not while it is still being uploaded), or null.</summary>
    public async Task<ImportRow?> GetAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<ImportRow>(new CommandDefinition(
            $"select {Columns} from imports where workspace_id = @workspaceId and id = @id and state <> 'uploading'",
            new { workspaceId, id }, cancellationToken: ct));
    }

    /// <summary>A page of the workspace's imports in id order.</summary>
    public async Task<IReadOnlyList<ImportRow>> ListAsync(Guid workspaceId, Guid? after, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ImportRow>(new CommandDefinition(
            $"""
            select {Columns} from imports where workspace_id = @workspaceId and state <> 'uploading' and (@after is null or id > @after)
            order by id limit @limit
            """, new { workspaceId, after, limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>Row errors after row <paramref name="afterRow"/>, in row order.</summary>
    public async Task<IReadOnlyList<ImportErrorRow>> ErrorsAsync(Guid importId, int afterRow, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ImportErrorRow>(new CommandDefinition(
            """
            select row_number, field, message from import_errors where import_id = @importId and row_number > @afterRow
            order by row_number, field limit @limit
            """, new { importId, afterRow, limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>The import whatever its state (the job's view), or null.</summary>
    public async Task<ImportRow?> LoadAsync(Guid importId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<ImportRow>(new CommandDefinition(
            $"select {Columns} from imports where id = @importId", new { importId }, cancellationToken: ct));
    }

    /// <summary>
    /// Marks a queued (or interrupted running) import running and counts the attempt; returns the attempt number, or
    /// null when the import is finished or unknown.
    /// </summary>
    public async Task<int?> StartAsync(Guid importId, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var attempts = await c.QueryFirstOrDefaultAsync<long?>(new CommandDefinition(
            """
            update imports set state = 'running', attempts = attempts + 1, started_at = coalesce(started_at, @now), updated_at = @now
            where id = @importId and state in ('queued', 'running')
            returning attempts
            """, new { importId, now }, cancellationToken: ct));
        return attempts is null ? null : (int)attempts.Value;
    }

    /// <summary>Records the number of data records once counted.</summary>
    public async Task SetTotalAsync(Guid importId, int rowsTotal, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "update imports set rows_total = @rowsTotal, updated_at = @now where id = @importId and state = 'running'",
            new { importId, rowsTotal, now }, cancellationToken: ct));
    }

    /// <summary>
    /// Applies one batch in one transaction: prospects, audience membership, row errors and counters. Returns false (and
    /// changes nothing) when <c>rows_done</c> is no longer <paramref name="doneBefore"/>: another run got there first.
    /// </summary>
    public async Task<bool> CommitBatchAsync(ImportRow import, int doneBefore, int doneAfter, IReadOnlyList<ImportBatchRow> rows, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);

        // First, so that on PostgreSQL a concurrent run of the same import waits on this row lock and then sees the new rows_done.
        var claimed = await c.ExecuteAsync(new CommandDefinition(
            "update imports set rows_done = @doneAfter, updated_at = @now where id = @Id and rows_done = @doneBefore and state = 'running'",
            new { import.Id, doneBefore, doneAfter, now }, tx, cancellationToken: ct));
        if (claimed != 1)
        {
            return false;
        }

        var valid = rows.Where(r => r.Prospect is not null).ToArray();
        var outcomes = await prospects.UpsertBatchAsync(c, tx, import.WorkspaceId, valid.Select(r => r.Prospect!).ToArray(), import.OwnerId, now, ct);
        var errors = new List<(int Row, string Field, string Message)>();
        foreach (var r in rows.Where(r => r.Prospect is null))
        {
            errors.AddRange(r.Errors.Select(e => (r.Row, e.Field, e.Message)));
        }

        int created = 0, updated = 0;
        var members = new List<Guid>();
        for (var i = 0; i < valid.Length; i++)
        {
            var o = outcomes[i];
            if (o.Error is not null)
            {
                errors.Add((valid[i].Row, o.ErrorField!, o.Error));
            }
            else if (o.Created)
            {
                created++;
                members.Add(o.Id!.Value);
            }
            else
            {
                updated++;
                members.Add(o.Id!.Value);
            }
        }

        if (import.AudienceId is { } audienceId && members.Count > 0)
        {
            await audiences.AddMembersAsync(c, tx, audienceId, members.Distinct().ToArray(), now, ct);
        }

        await InsertErrorsAsync(c, tx, import.Id, errors, ct);
        var failed = errors.Select(e => e.Row).Distinct().Count();
        await c.ExecuteAsync(new CommandDefinition(
            """
            update imports set rows_created = rows_created + @created, rows_updated = rows_updated + @updated, rows_failed = rows_failed + @failed
            where id = @Id
            """, new { import.Id, created, updated, failed }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return true;
    }

    private async Task InsertErrorsAsync(DbConnection c, DbTransaction tx, Guid importId, List<(int Row, string Field, string Message)> errors, CancellationToken ct)
    {
        if (errors.Count == 0)
        {
            return;
        }

        if (db.Dialect == SqlDialect.Postgres)
        {
            await c.ExecuteAsync(new CommandDefinition(
                """
                insert into import_errors (import_id, row_number, field, message)
                select @importId, u.row_number, u.field, u.message from unnest(@rows, @fields, @messages) as u(row_number, field, message)
                on conflict do nothing
                """,
                new { importId, rows = errors.Select(e => e.Row).ToArray(), fields = errors.Select(e => e.Field).ToArray(), messages = errors.Select(e => e.Message).ToArray() },
                tx, cancellationToken: ct));
            return;
        }

        foreach (var (row, field, message) in errors)
        {
            await c.ExecuteAsync(new CommandDefinition(
                "insert into import_errors (import_id, row_number, field, message) values (@importId, @row, @field, @message) on conflict do nothing",
                new { importId, row, field, message }, tx, cancellationToken: ct));
        }
    }

    /// <summary>Finishes the import (completed, or failed with a reason) and drops its chunks.</summary>
    public async Task FinishAsync(Guid importId, string? failure, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            """
            update imports set state = @state, error = @failure, finished_at = @now, updated_at = @now
            where id = @importId and state in ('queued', 'running')
            """, new { importId, state = failure is null ? "completed" : "failed", failure, now }, tx, cancellationToken: ct));
        await c.ExecuteAsync(new CommandDefinition("delete from import_chunks where import_id = @importId", new { importId }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    /// <summary>The upload as a read-only stream that fetches one chunk row at a time.</summary>
    public Stream OpenUpload(Guid importId) => new ChunkStream(db, importId);

    private sealed class ChunkRow
    {
        public int Seq { get; init; }
        public byte[] Data { get; init; } = [];
    }

    private sealed class ChunkStream(Database db, Guid importId) : Stream
    {
        private byte[] _chunk = [];
        private int _offset;
        private int _seq = -1;
        private bool _end;
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (_offset == _chunk.Length)
            {
                if (_end || !await NextChunkAsync(cancellationToken))
                {
                    return 0;
                }
            }

            var n = Math.Min(buffer.Length, _chunk.Length - _offset);
            _chunk.AsMemory(_offset, n).CopyTo(buffer);
            _offset += n;
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // Readers here are async; the synchronous path exists for completeness.
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        private async Task<bool> NextChunkAsync(CancellationToken ct)
        {
            await using var c = await db.OpenAsync(ct);
            var next = await c.QueryFirstOrDefaultAsync<ChunkRow>(new CommandDefinition(
                "select seq, data from import_chunks where import_id = @importId and seq > @seq order by seq limit 1",
                new { importId, seq = _seq }, cancellationToken: ct));
            if (next is null)
            {
                _end = true;
                return false;
            }

            (_chunk, _offset, _seq) = (next.Data, 0, next.Seq);
            return true;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
