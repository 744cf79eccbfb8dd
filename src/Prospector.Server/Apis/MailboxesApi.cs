using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Email;
using Prospector.Core.Prospects;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>SMTP settings of a mailbox. The password is write-only.</summary>
public sealed record SmtpSettingsRequest(string Host, int Port, string? Security = null, string? Username = null, string? Password = null);

/// <summary>IMAP settings of a mailbox. The password is write-only.</summary>
public sealed record ImapSettingsRequest(string Host, int Port, string? Security = null, string? Username = null, string? Password = null, string? Folder = null);

/// <summary>A new sender mailbox.</summary>
public sealed record CreateMailboxRequest(string Name, string FromAddress, SmtpSettingsRequest Smtp, string? FromName = null, int? DailyCap = null, ImapSettingsRequest? Imap = null);

/// <summary>A mailbox as the API shows it: never any password.</summary>
public sealed record MailboxResponse(
    Guid Id, string Name, string FromAddress, string FromName, int DailyCap,
    string SmtpHost, int SmtpPort, string SmtpSecurity, string? SmtpUsername, bool SmtpPasswordSet,
    string? ImapHost, int? ImapPort, string? ImapSecurity, string? ImapUsername, bool ImapPasswordSet, string ImapFolder, DateTimeOffset CreatedAt)
{
    internal static MailboxResponse From(MailboxRow m) => new(
        m.Id, m.Name, m.FromAddress, m.FromName, m.DailyCap, m.SmtpHost, m.SmtpPort, m.SmtpSecurity, m.SmtpUsername, m.SmtpPasswordProtected is not null,
        m.ImapHost, m.ImapPort, m.ImapSecurity, m.ImapUsername, m.ImapPasswordProtected is not null, m.ImapFolder, m.CreatedAt);
}

/// <summary>Sender mailboxes: SMTP for sending, IMAP for reading replies and bounces.</summary>
public static class MailboxesApi
{
    /// <summary>Maps /api/mailboxes.</summary>
    public static RouteGroupBuilder MapMailboxesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/mailboxes").WithTags("Mailboxes");
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        return api;
    }

    private static async Task<Results<Created<MailboxResponse>, ValidationProblem>> CreateAsync(
        CreateMailboxRequest request, HttpContext http, MailboxStore store, SecretProtector secrets, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<ValidationError>();
        Text(request.Name, "name", 200, required: true, errors);
        Text(request.FromName, "fromName", 200, required: false, errors);
        if (!EmailAddress.IsValid(request.FromAddress))
        {
            errors.Add(new("fromAddress", "is not a valid email address"));
        }

        if (request.DailyCap is < 1 or > 10_000)
        {
            errors.Add(new("dailyCap", "must be between 1 and 10000"));
        }

        var smtpSecurity = Endpoint("smtp", request.Smtp.Host, request.Smtp.Port, request.Smtp.Security, request.Smtp.Username, errors);
        var imapSecurity = request.Imap is { } imap ? Endpoint("imap", imap.Host, imap.Port, imap.Security, imap.Username, errors) : default;
        Text(request.Imap?.Folder, "imap.folder", 200, required: false, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var now = clock.GetUtcNow();
        var row = new MailboxRow
        {
            Id = Guid.CreateVersion7(now),
            WorkspaceId = http.User.GetWorkspaceId(),
            Name = request.Name.Trim(),
            FromAddress = request.FromAddress.Trim(),
            FromName = request.FromName?.Trim() ?? request.Name.Trim(),
            DailyCap = request.DailyCap ?? 50,
            SmtpHost = request.Smtp.Host.Trim(),
            SmtpPort = request.Smtp.Port,
            SmtpSecurity = smtpSecurity.ToString(),
            SmtpUsername = request.Smtp.Username,
            SmtpPasswordProtected = secrets.Protect(request.Smtp.Password),
            ImapHost = request.Imap?.Host.Trim(),
            ImapPort = request.Imap?.Port,
            ImapSecurity = request.Imap is null ? null : imapSecurity.ToString(),
            ImapUsername = request.Imap?.Username ?? (request.Imap is null ? null : request.FromAddress.Trim()),
            ImapPasswordProtected = secrets.Protect(request.Imap?.Password),
            ImapFolder = request.Imap?.Folder ?? "INBOX",
            CreatedAt = now,
        };
        await store.CreateAsync(row, ct);
        return TypedResults.Created($"/api/mailboxes/{row.Id}", MailboxResponse.From(row));
    }

    private static async Task<Ok<MailboxResponse[]>> ListAsync(HttpContext http, MailboxStore store, CancellationToken ct)
        => TypedResults.Ok((await store.ListAsync(http.User.GetWorkspaceId(), ct)).Select(MailboxResponse.From).ToArray());

    private static async Task<Results<Ok<MailboxResponse>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, MailboxStore store, CancellationToken ct)
        => await store.GetAsync(http.User.GetWorkspaceId(), id, ct) is { } m ? TypedResults.Ok(MailboxResponse.From(m)) : Problems.NotFound("mailbox");

    private static TransportSecurity Endpoint(string prefix, string host, int port, string? security, string? username, List<ValidationError> errors)
    {
        Text(host, $"{prefix}.host", 253, required: true, errors);
        if (Uri.CheckHostName(host?.Trim()) == UriHostNameType.Unknown)
        {
            errors.Add(new($"{prefix}.host", "is not a host name or IP address"));
        }

        if (port is < 1 or > 65535)
        {
            errors.Add(new($"{prefix}.port", "must be between 1 and 65535"));
        }

        Text(username, $"{prefix}.username", 320, required: false, errors);
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

    private static void Text(string? value, string path, int max, bool required, List<ValidationError> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                errors.Add(new(path, "is required"));
            }
        }
        else if (value.Length > max)
        {
            errors.Add(new(path, $"at most {max} characters"));
        }
        else if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            errors.Add(new(path, "must not contain CR, LF or NUL"));
        }
    }
}
