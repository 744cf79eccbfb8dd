using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Prospector.Core.Email;
using Prospector.Core.Inbound;
using Prospector.Core.Qualification;
using Prospector.Server.Hosting;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Engine;

/// <summary>
/// Reads a mailbox's new messages over IMAP, classifies each, matches it to the enrollment it answers and applies
/// the effects (stop, suppress, qualify, queue for the CRM). The cursor is saved after each message, and applying a
/// message twice does nothing, so a crash anywhere only re-reads.
/// </summary>
public sealed class MailboxSync(
    MailboxStore mailboxes,
    InboundStore inbound,
    CrmStore crm,
    IMailboxReader reader,
    SecretProtector secrets,
    TimeProvider clock,
    IOptions<MailboxSyncOptions> options,
    IOptions<CrmOptions> crmOptions,
    ILogger<MailboxSync> logger)
{
    /// <summary>Syncs one mailbox. Returns the CRM outbox rows created (for the caller to push) and how many messages were read.</summary>
    public async Task<(int Read, IReadOnlyList<Guid> CrmOutboxIds)> SyncAsync(MailboxRow mailbox, CancellationToken ct)
    {
        var endpoint = new ImapEndpoint(
            mailbox.ImapHost!, mailbox.ImapPort ?? 993, Enum.Parse<TransportSecurity>(mailbox.ImapSecurity ?? nameof(TransportSecurity.SslOnConnect), ignoreCase: true),
            mailbox.ImapUsername ?? mailbox.FromAddress, secrets.Unprotect(mailbox.ImapPasswordProtected) ?? "", mailbox.ImapFolder);
        var cursor = await mailboxes.GetCursorAsync(mailbox.Id, ct);
        var batch = await reader.FetchNewAsync(endpoint, cursor, mailbox.CreatedAt - options.Value.InitialLookback, options.Value.MaxMessagesPerRun, ct);
        if (batch.UidValidityChanged)
        {
            logger.LogWarning("Mailbox {MailboxId}: UIDVALIDITY changed, re-reading recent mail", mailbox.Id);
        }

        var connected = await crm.GetConnectionAsync(mailbox.WorkspaceId, ct) is not null;
        var outbox = new List<Guid>();
        foreach (var message in batch.Messages)
        {
            var classification = InboundClassifier.Classify(message.Message);
            var match = await inbound.MatchAsync(mailbox.WorkspaceId, classification.ReferencedMessageIds, ct);
            (int, bool, string)? qualification = null;
            (string, string)? crmEvent = null;
            if (classification.Kind == InboundKind.HumanReply && match is not null)
            {
                // The prospect's title, or a "title" custom field from older imports.
                var title = match.Title ?? Prospector.Core.Sequences.StepInputs.ParseCustom(match.CustomFields).GetValueOrDefault("title");
                var result = LeadQualifier.Evaluate(
                    new QualificationInput(classification.Kind, classification.ReplyText, match.Email, match.CompanyDomain, title),
                    crmOptions.Value.QualificationThreshold);
                qualification = (result.Score, result.Qualified, JsonSerializer.Serialize(result.Reasons, JsonDefaults.Web));
                if (result.Qualified && connected)
                {
                    crmEvent = ("lead.qualified", LeadPayload(match, result, classification, message.Message.Date).ToJsonString());
                }
            }

            var applied = await inbound.ApplyAsync(
                new InboundApplication(mailbox.Id, mailbox.WorkspaceId, batch.Cursor.UidValidity, message.Uid, classification, match, qualification, crmEvent,
                    message.Message.Date == default ? clock.GetUtcNow() : message.Message.Date),
                clock.GetUtcNow(), ct);
            if (!applied.AlreadyProcessed)
            {
                logger.LogInformation("Mailbox {MailboxId} uid {Uid}: {Kind} ({Reason}), enrollment {EnrollmentId}",
                    mailbox.Id, message.Uid, classification.Kind, classification.Reason, match?.EnrollmentId);
            }

            if (applied.CrmOutboxId is { } id)
            {
                outbox.Add(id);
            }

            await mailboxes.SaveCursorAsync(mailbox.Id, batch.Cursor with { LastUid = message.Uid }, clock.GetUtcNow(), ct);
        }

        if (batch.Messages.Count == 0)
        {
            // Nothing to apply, but a first sync or a UIDVALIDITY change still moves the cursor.
            await mailboxes.SaveCursorAsync(mailbox.Id, batch.Cursor, clock.GetUtcNow(), ct);
        }

        return (batch.Messages.Count, outbox);
    }

    private static JsonObject LeadPayload(MatchedEnrollment match, QualificationResult result, InboundClassification classification, DateTimeOffset repliedAt)
        => new()
        {
            ["enrollment_id"] = match.EnrollmentId,
            ["sequence"] = new JsonObject { ["id"] = match.SequenceId, ["name"] = match.SequenceName },
            ["prospect"] = new JsonObject
            {
                ["id"] = match.ProspectId,
                ["email"] = match.Email,
                ["first_name"] = match.FirstName,
                ["last_name"] = match.LastName,
                ["company"] = match.Company,
                ["company_domain"] = match.CompanyDomain,
                ["custom_fields"] = JsonNode.Parse(match.CustomFields),
            },
            ["qualification"] = new JsonObject
            {
                ["score"] = result.Score,
                ["threshold"] = result.Threshold,
                ["reasons"] = JsonSerializer.SerializeToNode(result.Reasons, JsonDefaults.Web),
            },
            ["reply"] = new JsonObject { ["text"] = classification.ReplyText, ["received_at"] = repliedAt },
        };
}

/// <summary>JSON settings shared by stored documents and payloads.</summary>
internal static class JsonDefaults
{
    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}
