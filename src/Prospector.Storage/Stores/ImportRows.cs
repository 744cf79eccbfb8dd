namespace Prospector.Storage.Stores;

public sealed class ImportRow
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public Guid? AudienceId { get; init; }
    public Guid? OwnerId { get; init; }
    public string Format { get; init; } = "";
    public string State { get; init; } = "";
    public string Options { get; init; } = "{}";
    public long Bytes { get; init; }
    public int? RowsTotal { get; init; }
    public int RowsDone { get; init; }
    public int RowsCreated { get; init; }
    public int RowsUpdated { get; init; }
    public int RowsFailed { get; init; }
    public string? Error { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
}

public sealed class ImportErrorRow
{
    public int RowNumber { get; init; }
    public string Field { get; init; } = "";
    public string Message { get; init; } = "";
}

public sealed class AudienceRow
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public string Name { get; init; } = "";
    public int Members { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

public sealed class CompanyRow
{
    public Guid Id { get; init; }
    public string Domain { get; init; } = "";
    public string? Name { get; init; }
}
