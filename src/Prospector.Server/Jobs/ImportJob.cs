using System.Text.Json;
using Hangfire;
using Prospector.Core.Prospects;
using Prospector.Storage.Stores;

namespace Prospector.Server.Jobs;

/// <summary>The options an import was queued with, stored as JSON on the import row.</summary>
public sealed record ImportOptionsDocument(char? Delimiter, Dictionary<string, string>? Map)
{
    internal ImportReadOptions ToReadOptions() => new(Delimiter, Map ?? []);
}

/// <summary>
/// Runs one import: counts the records of the stored upload, then applies them in batches, each batch one transaction
/// with its row errors and the progress counters. Safe to run twice or after a crash: a run resumes after
/// <c>rows_done</c>, and a batch whose starting point has moved (another run committed it) is not applied.
/// </summary>
public sealed class ImportJob(ImportStore imports, TimeProvider clock, ILogger<ImportJob> logger)
{
    /// <summary>Records per transaction.</summary>
    public const int BatchSize = 1000;

    /// <summary>Runs (first run and Hangfire retries) before an unexpected error marks the import failed.</summary>
    public const int MaxAttempts = 4;

    /// <summary>Imports the upload.</summary>
    [AutomaticRetry(Attempts = MaxAttempts - 1)]
    public async Task RunAsync(Guid importId, CancellationToken ct)
    {
        var import = await imports.LoadAsync(importId, ct);
        var attempt = import is null ? null : await imports.StartAsync(importId, clock.GetUtcNow(), ct);
        if (import is null || attempt is null)
        {
            return; // finished already (a duplicate delivery), or discarded
        }

        try
        {
            var format = Enum.Parse<ImportFormat>(import.Format, ignoreCase: true);
            var options = (JsonSerializer.Deserialize<ImportOptionsDocument>(import.Options) ?? new ImportOptionsDocument(null, null)).ToReadOptions();
            if (import.RowsTotal is null)
            {
                var total = 0;
                await using (var upload = imports.OpenUpload(importId))
                {
                    await foreach (var _ in ProspectImportReader.ReadAsync(upload, format, options with { CountOnly = true }, ct))
                    {
                        total++;
                    }
                }

                await imports.SetTotalAsync(importId, total, clock.GetUtcNow(), ct);
            }

            var done = await ApplyAsync(import, format, options, ct);
            if (done)
            {
                await imports.FinishAsync(importId, null, clock.GetUtcNow(), ct);
                logger.LogInformation("Import {ImportId} completed", importId);
            }
        }
        catch (ImportFileException ex)
        {
            await imports.FinishAsync(importId, ex.Message, clock.GetUtcNow(), ct);
            logger.LogInformation("Import {ImportId} failed: {Reason}", importId, ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && attempt >= MaxAttempts)
        {
            // The last attempt: say so on the import instead of leaving it "running" once Hangfire stops retrying.
            // Rows committed so far stay imported.
            logger.LogError(ex, "Import {ImportId} failed after {Attempts} attempts", importId, attempt);
            await imports.FinishAsync(
                importId, $"stopped by an unexpected error after {attempt} attempts ({ex.GetType().Name}); rows imported so far are kept",
                clock.GetUtcNow(), ct);
        }
    }

    // False when another run is applying the same import (it will finish it).
    private async Task<bool> ApplyAsync(ImportRow import, ImportFormat format, ImportReadOptions options, CancellationToken ct)
    {
        var current = await imports.LoadAsync(import.Id, ct) ?? import;
        var done = current.RowsDone;
        var seen = 0;
        var batch = new List<ImportBatchRow>(BatchSize);
        await using var upload = imports.OpenUpload(import.Id);
        await foreach (var record in ProspectImportReader.ReadAsync(upload, format, options, ct))
        {
            if (seen++ < done)
            {
                continue; // committed by an earlier run
            }

            batch.Add(ToBatchRow(record));
            if (batch.Count == BatchSize)
            {
                if (!await imports.CommitBatchAsync(import, done, done + batch.Count, batch, clock.GetUtcNow(), ct))
                {
                    return false;
                }

                done += batch.Count;
                batch.Clear();
            }
        }

        return batch.Count == 0 || await imports.CommitBatchAsync(import, done, done + batch.Count, batch, clock.GetUtcNow(), ct);
    }

    private static ImportBatchRow ToBatchRow(ImportRecord record)
    {
        if (record.Prospect is null)
        {
            return new ImportBatchRow(record.Row, null, [("row", record.Error ?? "unreadable")]);
        }

        var (prospect, errors) = ProspectValidation.Validate("", record.Prospect);
        return new ImportBatchRow(record.Row, prospect, errors.Select(e => (e.Path, e.Message)).ToArray());
    }
}
