namespace Prospector.Storage.Stores;

// Row shapes read by Dapper. Classes with init properties (not positional records) because SQLite hands back
// Int64 for every integer and Dapper's constructor matching wants exact types.

public sealed class ApiKeyRow
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public string Name { get; init; } = "";
    public string Role { get; init; } = "";
    public string Prefix { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
}

public sealed class WorkspaceRow
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string? PostalAddress { get; init; }
    public string Settings { get; init; } = "{}";
    public DateTimeOffset CreatedAt { get; init; }
    public string State { get; init; } = "active";
}

public sealed class OwnerRow
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public string Name { get; init; } = "";
    public string? Email { get; init; }
    public string State { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

public sealed class MailboxRow
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public string Name { get; init; } = "";
    public string FromAddress { get; init; } = "";
    public string FromName { get; init; } = "";
    public int DailyCap { get; init; }
    public string SmtpHost { get; init; } = "";
    public int SmtpPort { get; init; }
    public string SmtpSecurity { get; init; } = "";
    public string? SmtpUsername { get; init; }
    public string? SmtpPasswordProtected { get; init; }
    public string? ImapHost { get; init; }
    public int? ImapPort { get; init; }
    public string? ImapSecurity { get; init; }
    public string? ImapUsername { get; init; }
    public string? ImapPasswordProtected { get; init; }
    public string ImapFolder { get; init; } = "INBOX";
    public DateTimeOffset CreatedAt { get; init; }
    public Guid? OwnerId { get; init; }
    public string? Signature { get; init; }
    public string TimeZone { get; init; } = "UTC";
    public int WindowStartMinute { get; init; } = 480;
    public int WindowEndMinute { get; init; } = 1080;
    public string WindowDays { get; init; } = "mon,tue,wed,thu,fri";
    public string State { get; init; } = "active";
    public DateTimeOffset? UpdatedAt { get; init; }
    public int? HourlyCap { get; init; }
    public int MinGapSeconds { get; init; }
    public int? RampStart { get; init; }
    public int? RampStep { get; init; }
    public DateTimeOffset? RampStartedAt { get; init; }
}

public sealed class SequenceRow
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public string Name { get; init; } = "";
    public string State { get; init; } = "";
    public int Version { get; init; }
    public string Definition { get; init; } = "";
    public Guid? OwnerId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public bool TrackOpens { get; init; }
    public bool TrackClicks { get; init; }
}

public sealed class ProspectRow
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public string? Email { get; init; }
    public string? EmailNormalized { get; init; }
    public string? LinkedinUrl { get; init; }
    public string? LinkedinUrlNormalized { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Title { get; init; }
    public string? Phone { get; init; }
    public string? Company { get; init; }
    public string? CompanyDomain { get; init; }
    public Guid? CompanyId { get; init; }
    public string? Country { get; init; }
    public string? TimeZone { get; init; }
    public Guid? OwnerId { get; init; }
    public string CustomFields { get; init; } = "{}";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

public sealed class EnrollmentRow
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public Guid SequenceId { get; init; }
    public int SequenceVersion { get; init; }
    public Guid ProspectId { get; init; }
    public Guid MailboxId { get; init; }
    public string State { get; init; } = "";
    public string? StopReason { get; init; }
    public int CurrentStep { get; init; }
    public DateTimeOffset? NextDueAt { get; init; }
    public string? ThreadMessageId { get; init; }
    public string? ThreadSubject { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

public sealed class SendRow
{
    public Guid Id { get; init; }
    public Guid EnrollmentId { get; init; }
    public string StepId { get; init; } = "";
    public Guid MailboxId { get; init; }
    public string MessageId { get; init; } = "";
    public string State { get; init; } = "";
    public int Attempts { get; init; }
    public string? Subject { get; init; }
    public int? SmtpStatus { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? SentAt { get; init; }
}

public sealed class EventRow
{
    public long Id { get; init; }
    public Guid EnrollmentId { get; init; }
    public string Type { get; init; } = "";
    public string? Detail { get; init; }
    public DateTimeOffset OccurredAt { get; init; }
}

public sealed class QualificationRow
{
    public Guid Id { get; init; }
    public Guid EnrollmentId { get; init; }
    public int Score { get; init; }
    public bool Qualified { get; init; }
    public string Reasons { get; init; } = "[]";
    public DateTimeOffset CreatedAt { get; init; }
}

public sealed class CrmConnectionRow
{
    public Guid WorkspaceId { get; init; }
    public string Kind { get; init; } = "";
    public string Endpoint { get; init; } = "";
    public string SecretProtected { get; init; } = "";
    public DateTimeOffset UpdatedAt { get; init; }
}

public sealed class CrmOutboxRow
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public Guid EnrollmentId { get; init; }
    public string EventType { get; init; } = "";
    public string Payload { get; init; } = "";
    public string State { get; init; } = "";
    public int Attempts { get; init; }
    public DateTimeOffset NextAttemptAt { get; init; }
    public int? LastStatus { get; init; }
    public string? LastError { get; init; }
    public string? ExternalId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }
}
