namespace Prospector.Storage.Stores;

/// <summary>An SDR task (linkedin_*, call, manual_task steps) with the enrollment it belongs to.</summary>
public sealed class TaskRow
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public Guid EnrollmentId { get; init; }
    public Guid SequenceId { get; init; }
    public Guid ProspectId { get; init; }
    public string StepId { get; init; } = "";
    public Guid? OwnerId { get; init; }
    public string Type { get; init; } = "";
    public string Title { get; init; } = "";
    public string? Body { get; init; }
    public string State { get; init; } = "";
    public string? Outcome { get; init; }
    public DateTimeOffset DueAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
}
