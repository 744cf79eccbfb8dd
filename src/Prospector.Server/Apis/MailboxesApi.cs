using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Email;
using Prospector.Core.Prospects;
using Prospector.Email.Connections;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>SMTP settings of a mailbox. The password is write-only.</summary>
public sealed record SmtpSettingsRequest(string Host, int Port, string? Security = null, string? Username = null, string? Password = null);

/// <summary>IMAP settings of a mailbox. The password is write-only.</summary>
public sealed record ImapSettingsRequest(string Host, int Port, string? Security = null, string? Username = null, string? Password = null, string? Folder = null);

/// <summary>When a mailbox may send, in its time zone: <c>"08:30"</c> to <c>"17:30"</c> on the given days (<c>mon</c>..<c>sun</c>).</summary>
public sealed record SendingWindow(string Start, string End, string[] Days);

/// <summary>
/// Ramp-up of a new mailbox: <see cref="StartPerDay"/> sends on the day it starts (default: today), +<see cref="StepPerDay"/>
/// each day after, up to the daily cap. In a PATCH, <c>startPerDay: 0</c> removes it.
/// </summary>
public sealed record RampUpSettings(int StartPerDay, int StepPerDay, DateTimeOffset? StartedAt = null);

/// <summary>A new sender mailbox. Caps: <see cref="DailyCap"/> per local day, optional <see cref="HourlyCap"/> per rolling hour, <see cref="MinGapSeconds"/> between two sends.</summary>
public sealed record CreateMailboxRequest(
    string Name, string FromAddress, SmtpSettingsRequest Smtp, string? FromName = null, int? DailyCap = null, ImapSettingsRequest? Imap = null,
    string? Signature = null, string? TimeZone = null, SendingWindow? SendingWindow = null, Guid? OwnerId = null,
    int? HourlyCap = null, int? MinGapSeconds = null, RampUpSettings? RampUp = null);

/// <summary>A partial SMTP update: omitted members keep their value; a password given replaces the stored one; an empty username clears it.</summary>
public sealed record SmtpSettingsPatch(string? Host = null, int? Port = null, string? Security = null, string? Username = null, string? Password = null);

/// <summary>A partial IMAP update (host and port are required when the mailbox had no IMAP yet).</summary>
public sealed record ImapSettingsPatch(
    string? Host = null, int? Port = null, string? Security = null, string? Username = null, string? Password = null, string? Folder = null);

/// <summary>
/// A partial mailbox update: omitted members keep their value. An empty <see cref="Signature"/> clears it;
/// <c>hourlyCap: 0</c> removes the hourly cap, <c>rampUp.startPerDay: 0</c> the ramp-up.
/// </summary>
public sealed record PatchMailboxRequest(
    string? Name = null, string? FromAddress = null, string? FromName = null, int? DailyCap = null, string? Signature = null, string? TimeZone = null,
    SendingWindow? SendingWindow = null, Guid? OwnerId = null, SmtpSettingsPatch? Smtp = null, ImapSettingsPatch? Imap = null,
    int? HourlyCap = null, int? MinGapSeconds = null, RampUpSettings? RampUp = null);

/// <summary>A mailbox as the API shows it: never any password.</summary>
public sealed record MailboxResponse(
    Guid Id, string Name, string FromAddress, string FromName, int DailyCap,
    string SmtpHost, int SmtpPort, string SmtpSecurity, string? SmtpUsername, bool SmtpPasswordSet,
    string? ImapHost, int? ImapPort, string? ImapSecurity, string? ImapUsername, bool ImapPasswordSet, string ImapFolder, DateTimeOffset CreatedAt,
    string? Signature, string TimeZone, SendingWindow SendingWindow, Guid? OwnerId, string State, DateTimeOffset? UpdatedAt,
    int? HourlyCap, int MinGapSeconds, RampUpSettings? RampUp)
{
    internal static MailboxResponse From(MailboxRow m) => new(
        m.Id, m.Name, m.FromAddress, m.FromName, m.DailyCap, m.SmtpHost, m.SmtpPort, m.SmtpSecurity, m.SmtpUsername, m.SmtpPasswordProtected is not null,
        m.ImapHost, m.ImapPort, m.ImapSecurity, m.ImapUsername, m.ImapPasswordProtected is not null, m.ImapFolder, m.CreatedAt,
        m.Signature, m.TimeZone,
        new SendingWindow(MailboxesApi.Clock(m.WindowStartMinute), MailboxesApi.Clock(m.WindowEndMinute), m.WindowDays.Split(',', StringSplitOptions.RemoveEmptyEntries)),
        m.OwnerId, m.State, m.UpdatedAt, m.HourlyCap, m.MinGapSeconds,
        m is { RampStart: { } start, RampStartedAt: { } since } ? new RampUpSettings(start, m.RampStep ?? 0, since) : null);
}

/// <summary>One protocol's connection test. <see cref="FailedStep"/>: connect, tls, auth, select (null when it worked).</summary>
public sealed record ConnectionStepResult(bool Succeeded, string? FailedStep, string Message);

/// <summary>A mailbox connection test: SMTP always, IMAP when configured.</summary>
public sealed record MailboxTestResponse(bool Succeeded, ConnectionStepResult Smtp, ConnectionStepResult? Imap);

/// <summary>Sender mailboxes: SMTP for sending, IMAP for reading replies and bounces. Writes are admin only.</summary>
public static partial class MailboxesApi
{
    private static readonly string[] WeekDays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    /// <summary>Maps /api/mailboxes.</summary>
    public static RouteGroupBuilder MapMailboxesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/mailboxes").WithTags("Mailboxes");
        group.MapPost("/", CreateAsync).RequireAdmin();
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapPatch("/{id:guid}", PatchAsync).RequireAdmin();
        group.MapDelete("/{id:guid}", ArchiveAsync).RequireAdmin();
        group.MapPost("/{id:guid}/test", TestAsync);
        group.MapPost("/{id:guid}/pause", (Guid id, HttpContext http, MailboxStore store, DispatchStore dispatch, TimeProvider clock, CancellationToken ct)
            => SetPausedAsync(id, true, http, store, dispatch, clock, ct));
        group.MapPost("/{id:guid}/resume", (Guid id, HttpContext http, MailboxStore store, DispatchStore dispatch, TimeProvider clock, CancellationToken ct)
            => SetPausedAsync(id, false, http, store, dispatch, clock, ct));
        return api;
    }

    internal static string Clock(int minutes) => $"{minutes / 60:00}:{minutes % 60:00}";

    private static async Task<Results<Created<MailboxResponse>, ValidationProblem>> CreateAsync(
        CreateMailboxRequest request, HttpContext http, MailboxStore store, OwnerStore owners, SecretProtector secrets, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var workspaceId = http.User.GetWorkspaceId();
        var window = request.SendingWindow;
        var errors = new List<ValidationError>();
        HeaderSafe(errors, (request.Name, "name"), (request.FromName, "fromName"), (request.FromAddress, "fromAddress"),
            (request.Smtp.Username, "smtp.username"), (request.Imap?.Username, "imap.username"), (request.Imap?.Folder, "imap.folder"));
        var row = new MailboxRow
        {
            Id = Guid.CreateVersion7(now),
            WorkspaceId = workspaceId,
            Name = request.Name?.Trim() ?? "",
            FromAddress = request.FromAddress?.Trim() ?? "",
            FromName = request.FromName?.Trim() ?? request.Name?.Trim() ?? "",
            DailyCap = request.DailyCap ?? 50,
            SmtpHost = request.Smtp.Host?.Trim() ?? "",
            SmtpPort = request.Smtp.Port,
            SmtpSecurity = request.Smtp.Security ?? "ssl",
            SmtpUsername = Blank(request.Smtp.Username),
            SmtpPasswordProtected = secrets.Protect(request.Smtp.Password),
            ImapHost = request.Imap?.Host?.Trim(),
            ImapPort = request.Imap?.Port,
            ImapSecurity = request.Imap is null ? null : request.Imap.Security ?? "ssl",
            ImapUsername = request.Imap is null ? null : Blank(request.Imap.Username) ?? request.FromAddress?.Trim(),
            ImapPasswordProtected = secrets.Protect(request.Imap?.Password),
            ImapFolder = Blank(request.Imap?.Folder) ?? "INBOX",
            CreatedAt = now,
            Signature = Blank(request.Signature),
            TimeZone = request.TimeZone?.Trim() ?? "UTC",
            OwnerId = request.OwnerId,
            HourlyCap = request.HourlyCap,
            MinGapSeconds = request.MinGapSeconds ?? 0,
            RampStart = request.RampUp?.StartPerDay,
            RampStep = request.RampUp?.StepPerDay,
            RampStartedAt = request.RampUp is null ? null : request.RampUp.StartedAt?.ToUniversalTime() ?? now,
        };
        row = await ValidateAsync(row, window, request.OwnerId is not null, owners, errors, ct);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors.Distinct());
        }

        await store.CreateAsync(row, ct);
        return TypedResults.Created($"/api/mailboxes/{row.Id}", MailboxResponse.From(row));
    }

    private static async Task<Results<Ok<Page<MailboxResponse>>, ValidationProblem>> ListAsync(
        HttpContext http, MailboxStore store, CancellationToken ct, string? state = null, Guid? after = null, int limit = 100)
    {
        if (state is not (null or "active" or "paused" or "archived"))
        {
            return Problems.Validation([new ValidationError("state", "must be 'active', 'paused' or 'archived'")]);
        }

        limit = Math.Clamp(limit, 1, 1000);
        var rows = await store.ListAsync(http.User.GetWorkspaceId(), state, after, limit, ct);
        return TypedResults.Ok(new Page<MailboxResponse>(rows.Select(MailboxResponse.From).ToArray(), rows.Count == limit ? rows[^1].Id : null));
    }

    private static async Task<Results<Ok<MailboxResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, MailboxStore store, CancellationToken ct)
        => await store.GetAsync(http.User.GetWorkspaceId(), id, ct) is { } m ? TypedResults.Ok(MailboxResponse.From(m)) : Problems.NotFound("mailbox");

    private static async Task<Results<Ok<MailboxResponse>, ValidationProblem, ProblemHttpResult>> PatchAsync(
        Guid id, PatchMailboxRequest request, HttpContext http, MailboxStore store, OwnerStore owners, SecretProtector secrets, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        if (await store.GetAsync(workspaceId, id, ct) is not { } m)
        {
            return Problems.NotFound("mailbox");
        }

        var errors = new List<ValidationError>();
        var smtp = request.Smtp;
        var imap = request.Imap;
        HeaderSafe(errors, (request.Name, "name"), (request.FromName, "fromName"), (request.FromAddress, "fromAddress"),
            (smtp?.Username, "smtp.username"), (imap?.Username, "imap.username"), (imap?.Folder, "imap.folder"));
        var hadImap = m.ImapHost is not null;
        if (imap is not null && !hadImap && (imap.Host is null || imap.Port is null))
        {
            errors.Add(new(imap.Host is null ? "imap.host" : "imap.port", "is required: this mailbox has no IMAP settings yet"));
        }

        SendingWindow? window = request.SendingWindow;
        var ramp = request.RampUp;
        var keepRamp = ramp is { StartPerDay: not 0 };
        var row = new MailboxRow
        {
            Id = m.Id,
            WorkspaceId = m.WorkspaceId,
            Name = request.Name?.Trim() ?? m.Name,
            FromAddress = request.FromAddress?.Trim() ?? m.FromAddress,
            FromName = request.FromName?.Trim() ?? m.FromName,
            DailyCap = request.DailyCap ?? m.DailyCap,
            SmtpHost = smtp?.Host?.Trim() ?? m.SmtpHost,
            SmtpPort = smtp?.Port ?? m.SmtpPort,
            SmtpSecurity = smtp?.Security ?? m.SmtpSecurity,
            SmtpUsername = smtp?.Username is { } su ? Blank(su) : m.SmtpUsername,
            SmtpPasswordProtected = smtp?.Password is { } sp ? secrets.Protect(sp) : m.SmtpPasswordProtected,
            ImapHost = imap?.Host?.Trim() ?? m.ImapHost,
            ImapPort = imap?.Port ?? m.ImapPort,
            ImapSecurity = imap?.Security ?? m.ImapSecurity ?? (imap is null ? null : "ssl"),
            ImapUsername = imap?.Username is { } iu ? Blank(iu) : m.ImapUsername ?? (imap is null ? null : request.FromAddress?.Trim() ?? m.FromAddress),
            ImapPasswordProtected = imap?.Password is { } ip ? secrets.Protect(ip) : m.ImapPasswordProtected,
            ImapFolder = Blank(imap?.Folder) ?? m.ImapFolder,
            CreatedAt = m.CreatedAt,
            Signature = request.Signature is null ? m.Signature : Blank(request.Signature),
            TimeZone = request.TimeZone?.Trim() ?? m.TimeZone,
            OwnerId = request.OwnerId ?? m.OwnerId,
            WindowStartMinute = m.WindowStartMinute,
            WindowEndMinute = m.WindowEndMinute,
            WindowDays = m.WindowDays,
            State = m.State,
            UpdatedAt = clock.GetUtcNow(),
            HourlyCap = request.HourlyCap is { } hourly ? hourly == 0 ? null : hourly : m.HourlyCap,
            MinGapSeconds = request.MinGapSeconds ?? m.MinGapSeconds,
            // A ramp-up given replaces the stored one; startPerDay 0 removes it.
            RampStart = ramp is null ? m.RampStart : keepRamp ? ramp.StartPerDay : null,
            RampStep = ramp is null ? m.RampStep : keepRamp ? ramp.StepPerDay : null,
            RampStartedAt = ramp is null ? m.RampStartedAt : keepRamp ? ramp.StartedAt?.ToUniversalTime() ?? clock.GetUtcNow() : null,
        };
        if (request.Name is { } name && string.IsNullOrWhiteSpace(name))
        {
            errors.Add(new("name", "is required"));
        }

        row = await ValidateAsync(row, window, request.OwnerId is not null, owners, errors, ct);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors.Distinct());
        }

        return await store.UpdateAsync(row, ct) ? TypedResults.Ok(MailboxResponse.From(row)) : Problems.NotFound("mailbox");
    }

    // Pausing holds the mailbox's email steps where they are (SDRs may do it: a deliverability scare cannot wait for an
    // admin); resuming first spreads what fell due meanwhile (the catch-up policy), then lets claims take it again.
    private static async Task<Results<Ok<MailboxResponse>, ProblemHttpResult>> SetPausedAsync(
        Guid id, bool paused, HttpContext http, MailboxStore store, DispatchStore dispatch, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        if (await store.GetAsync(workspaceId, id, ct) is not { } m)
        {
            return Problems.NotFound("mailbox");
        }

        if (m.State != (paused ? "active" : "paused"))
        {
            return Problems.Conflict($"only {(paused ? "an active" : "a paused")} mailbox can be {(paused ? "paused" : "resumed")}; this one is {m.State}");
        }

        var now = clock.GetUtcNow();
        if (!paused)
        {
            await dispatch.CatchUpAsync(workspaceId, CatchUpScope.Mailbox, id, now, ct);
        }

        return await store.SetPausedAsync(workspaceId, id, paused, now, ct) switch
        {
            true => TypedResults.Ok(MailboxResponse.From((await store.GetAsync(workspaceId, id, ct))!)),
            false => Problems.NotFound("mailbox"),
            null => Problems.Conflict("the mailbox's state changed meanwhile"),
        };
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ArchiveAsync(Guid id, HttpContext http, MailboxStore store, TimeProvider clock, CancellationToken ct)
        => await store.ArchiveAsync(http.User.GetWorkspaceId(), id, clock.GetUtcNow(), ct) ? TypedResults.NoContent() : Problems.NotFound("mailbox");

    private static async Task<Results<Ok<MailboxTestResponse>, ProblemHttpResult>> TestAsync(
        Guid id, HttpContext http, MailboxStore store, SecretProtector secrets, MailboxConnectionTester tester, CancellationToken ct)
    {
        if (await store.GetAsync(http.User.GetWorkspaceId(), id, ct) is not { } m)
        {
            return Problems.NotFound("mailbox");
        }

        var smtp = await tester.TestSmtpAsync(
            new SmtpEndpoint(m.SmtpHost, m.SmtpPort, Enum.Parse<TransportSecurity>(m.SmtpSecurity), m.SmtpUsername, secrets.Unprotect(m.SmtpPasswordProtected)), ct);
        ConnectionTestResult? imap = null;
        if (m is { ImapHost: { } host, ImapPort: { } port })
        {
            imap = await tester.TestImapAsync(
                new ImapEndpoint(host, port, Enum.Parse<TransportSecurity>(m.ImapSecurity ?? nameof(TransportSecurity.SslOnConnect)), m.ImapUsername ?? m.FromAddress,
                    secrets.Unprotect(m.ImapPasswordProtected) ?? "", m.ImapFolder), ct);
        }

        return TypedResults.Ok(new MailboxTestResponse(smtp.Succeeded && imap?.Succeeded != false, Step(smtp), imap is null ? null : Step(imap)));

        static ConnectionStepResult Step(ConnectionTestResult r) => new(r.Succeeded, r.FailedStep?.ToString().ToLowerInvariant(), r.Message);
    }

    // Validates the merged values (create, or stored values overlaid with a patch) and returns the row with the
    // normalised security names and sending window.
    private static async Task<MailboxRow> ValidateAsync(
        MailboxRow m, SendingWindow? window, bool ownerGiven, OwnerStore owners, List<ValidationError> errors, CancellationToken ct)
    {
        Fields.Text(m.Name, "name", 200, required: true, errors);
        Fields.Text(m.FromName, "fromName", 200, required: false, errors);
        if (!EmailAddress.IsValid(m.FromAddress) || Fields.HasLineBreakOrNul(m.FromAddress))
        {
            errors.Add(new("fromAddress", "is not a valid email address"));
        }

        if (m.DailyCap is < 1 or > 10_000)
        {
            errors.Add(new("dailyCap", "must be between 1 and 10000"));
        }

        if (m.HourlyCap is { } hourlyCap && (hourlyCap < 1 || hourlyCap > m.DailyCap))
        {
            errors.Add(new("hourlyCap", "must be between 1 and the daily cap (0 in a PATCH removes it)"));
        }

        if (m.MinGapSeconds is < 0 or > 86_400)
        {
            errors.Add(new("minGapSeconds", "must be between 0 and 86400"));
        }

        if (m.RampStart is { } rampStart && (rampStart < 1 || rampStart > m.DailyCap))
        {
            errors.Add(new("rampUp.startPerDay", "must be between 1 and the daily cap (0 in a PATCH removes the ramp-up)"));
        }

        if (m.RampStep is < 0 or > 10_000)
        {
            errors.Add(new("rampUp.stepPerDay", "must be between 0 and 10000"));
        }

        if (m.Signature is { Length: > 10_000 })
        {
            errors.Add(new("signature", "at most 10000 characters"));
        }
        else if (m.Signature is not null && m.Signature.Contains('\0', StringComparison.Ordinal))
        {
            errors.Add(new("signature", "must not contain NUL"));
        }

        if (!TimeZoneInfo.TryFindSystemTimeZoneById(m.TimeZone, out var zone) || !zone.HasIanaId)
        {
            errors.Add(new("timeZone", "is not a known IANA time zone (e.g. Europe/Paris, America/New_York, UTC)"));
        }

        var smtpSecurity = Endpoint("smtp", m.SmtpHost, m.SmtpPort, m.SmtpSecurity, m.SmtpUsername, errors);
        var imapSecurity = m.ImapHost is not null ? Endpoint("imap", m.ImapHost, m.ImapPort ?? 0, m.ImapSecurity, m.ImapUsername, errors) : default;
        if (m.ImapHost is not null)
        {
            Fields.Text(m.ImapFolder, "imap.folder", 200, required: true, errors);
        }

        var (start, end, days) = (m.WindowStartMinute, m.WindowEndMinute, m.WindowDays);
        if (window is not null)
        {
            (start, end, days) = Window(window, errors);
        }

        if (ownerGiven && m.OwnerId is { } ownerId && !await owners.IsAssignableAsync(m.WorkspaceId, ownerId, ct))
        {
            errors.Add(new("ownerId", "no active owner with this id in this workspace"));
        }

        return new MailboxRow
        {
            Id = m.Id, WorkspaceId = m.WorkspaceId, Name = m.Name, FromAddress = m.FromAddress, FromName = m.FromName, DailyCap = m.DailyCap,
            SmtpHost = m.SmtpHost, SmtpPort = m.SmtpPort, SmtpSecurity = smtpSecurity.ToString(), SmtpUsername = m.SmtpUsername,
            SmtpPasswordProtected = m.SmtpPasswordProtected, ImapHost = m.ImapHost, ImapPort = m.ImapPort,
            ImapSecurity = m.ImapHost is null ? null : imapSecurity.ToString(), ImapUsername = m.ImapUsername, ImapPasswordProtected = m.ImapPasswordProtected,
            ImapFolder = m.ImapFolder, CreatedAt = m.CreatedAt, OwnerId = m.OwnerId, Signature = m.Signature, TimeZone = m.TimeZone,
            WindowStartMinute = start, WindowEndMinute = end, WindowDays = days, State = m.State, UpdatedAt = m.UpdatedAt,
            HourlyCap = m.HourlyCap, MinGapSeconds = m.MinGapSeconds, RampStart = m.RampStart, RampStep = m.RampStep, RampStartedAt = m.RampStartedAt,
        };
    }

    private static (int Start, int End, string Days) Window(SendingWindow window, List<ValidationError> errors)
    {
        var start = Minutes(window.Start, "sendingWindow.start", errors);
        var end = Minutes(window.End, "sendingWindow.end", errors);
        if (start is { } s && end is { } e && s >= e)
        {
            errors.Add(new("sendingWindow.end", "must be after start"));
        }

        if (window.Days is null || window.Days.Length == 0)
        {
            errors.Add(new("sendingWindow.days", "give at least one day"));
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < window.Days.Length; i++)
            {
                var day = window.Days[i]?.Trim().ToLowerInvariant() ?? "";
                if (!WeekDays.Contains(day))
                {
                    errors.Add(new($"sendingWindow.days[{i}]", "must be one of: mon, tue, wed, thu, fri, sat, sun"));
                }
                else if (!seen.Add(day))
                {
                    errors.Add(new($"sendingWindow.days[{i}]", "is given twice"));
                }
            }
        }

        var days = string.Join(',', WeekDays.Where(d => window.Days?.Any(x => string.Equals(x?.Trim(), d, StringComparison.OrdinalIgnoreCase)) == true));
        return (start ?? 0, end ?? 0, days);
    }

    private static int? Minutes(string? value, string path, List<ValidationError> errors)
    {
        if (value is not null && ClockPattern().Match(value) is { Success: true } match)
        {
            var minutes = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) * 60 + int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
            if (minutes <= 24 * 60)
            {
                return minutes;
            }
        }

        errors.Add(new(path, "must be a time HH:mm (00:00 to 24:00)"));
        return null;
    }

    private static TransportSecurity Endpoint(string prefix, string host, int port, string? security, string? username, List<ValidationError> errors)
    {
        Fields.Text(host, $"{prefix}.host", 253, required: true, errors);
        if (Uri.CheckHostName(host?.Trim()) == UriHostNameType.Unknown)
        {
            errors.Add(new($"{prefix}.host", "is not a host name or IP address"));
        }

        if (port is < 1 or > 65535)
        {
            errors.Add(new($"{prefix}.port", "must be between 1 and 65535"));
        }

        Fields.Text(username, $"{prefix}.username", 320, required: false, errors);
        switch (security?.Trim().ToLowerInvariant())
        {
            case null or "" or "ssl" or "tls" or "sslonconnect":
                return TransportSecurity.SslOnConnect;
            case "starttls":
                return TransportSecurity.StartTls;
            case "none":
                return TransportSecurity.None;
            default:
                errors.Add(new($"{prefix}.security", "must be one of: ssl, starttls, none"));
                return default;
        }
    }

    // Checked on the values as sent, before any trimming: a header value must never carry a line break.
    private static void HeaderSafe(List<ValidationError> errors, params (string? Value, string Path)[] values)
    {
        foreach (var (value, path) in values)
        {
            if (value is not null && Fields.HasLineBreakOrNul(value))
            {
                errors.Add(new(path, "must not contain CR, LF or NUL"));
            }
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    [GeneratedRegex("^([0-2][0-9]):([0-5][0-9])$")]
    private static partial Regex ClockPattern();
}
