using System.Text.Json;
using Microsoft.Extensions.Options;
using Prospector.Core.Email;
using Prospector.Core.Sequences;
using Prospector.Core.Templates;
using Prospector.Server.Hosting;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Engine;

/// <summary>
/// Claims due enrollments in batches from our own table and runs each one's due step. One code path for every
/// trigger (the polling loop, the recurring Hangfire job, tests).
/// </summary>
public sealed class Dispatcher(
    DispatchStore store,
    IEmailSender sender,
    SecretProtector secrets,
    TimeProvider clock,
    IOptions<DispatcherOptions> options,
    ILogger<Dispatcher> logger)
{
    /// <summary>Claims one batch and runs it. Returns how many enrollments were claimed.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var o = options.Value;
        var ids = await store.ClaimDueAsync(now, now + o.Lease, o.BatchSize, ct);
        if (ids.Count == 0)
        {
            return 0;
        }

        // Enrollments of one sequence share its definition: parse (and validate) it once per batch, not per send.
        var definitions = new Dictionary<string, SequenceDefinition>(StringComparer.Ordinal);
        foreach (var work in await store.LoadAsync(ids, ct))
        {
            if (!definitions.TryGetValue(work.Definition, out var definition))
            {
                definition = SequenceParser.Deserialize(work.Definition);
                definitions[work.Definition] = definition;
            }

            await RunStepAsync(work, definition, ct);
        }

        return ids.Count;
    }

    private async Task RunStepAsync(DispatchWork work, SequenceDefinition definition, CancellationToken ct)
    {
        if (work.CurrentStep < definition.Steps.Count && definition.Steps[work.CurrentStep] is EmailStep email)
        {
            await SendEmailAsync(work, definition, email, ct);
            return;
        }

        // Waits are folded into due times and other step types arrive with their channels; past the last step the
        // enrollment completes.
        var now = clock.GetUtcNow();
        await store.AdvanceAsync(work, SequenceProgress.Next(definition, work.CurrentStep + 1, now), now, ct);
    }

    private async Task SendEmailAsync(DispatchWork work, SequenceDefinition definition, EmailStep step, CancellationToken ct)
    {
        var model = new TemplateModel(
            work.Email, work.FirstName, work.LastName, work.Company, work.CompanyDomain,
            JsonSerializer.Deserialize<Dictionary<string, string>>(work.CustomFields) ?? [], work.FromName);
        string subject, body;
        try
        {
            subject = SequenceProgress.SubjectFor(step.Subject is null ? null : TemplateRenderer.Render(step.Subject, model), work.ThreadSubject);
            body = TemplateRenderer.Render(step.Body, model);
        }
        catch (TemplateException ex)
        {
            logger.LogWarning("Enrollment {EnrollmentId} step {StepId}: template failed: {Reason}", work.Id, step.Id, ex.Message);
            await PauseForTemplateAsync(work, step, ex.Message, ct);
            return;
        }

        var sendId = Guid.CreateVersion7(clock.GetUtcNow());
        var messageId = $"{sendId:N}@{Core.Prospects.EmailAddress.Domain(work.FromAddress)}";
        var begin = await store.BeginSendAsync(work, step.Id, sendId, messageId, subject, clock.GetUtcNow(), ct);
        switch (begin.Status)
        {
            case BeginSendStatus.Proceed:
                break;
            case BeginSendStatus.AlreadySent:
                var at = clock.GetUtcNow();
                await store.MarkSentAsync(work, begin.SendId, step.Id, SequenceProgress.Next(definition, work.CurrentStep + 1, at), null, null, at, ct);
                return;
            default:
                logger.LogInformation("Enrollment {EnrollmentId} step {StepId} not sent: {Status}", work.Id, step.Id, begin.Status);
                return;
        }

        var endpoint = new SmtpEndpoint(
            work.SmtpHost, work.SmtpPort, Enum.Parse<TransportSecurity>(work.SmtpSecurity, ignoreCase: true),
            work.SmtpUsername, secrets.Unprotect(work.SmtpPasswordProtected));
        var email = new OutgoingEmail(
            begin.MessageId, work.FromName, work.FromAddress,
            string.Join(' ', new[] { work.FirstName, work.LastName }.Where(n => !string.IsNullOrWhiteSpace(n))), work.Email,
            subject, body, HtmlBody: null,
            InReplyTo: begin.PreviousMessageIds.Count > 0 ? begin.PreviousMessageIds[^1] : null,
            References: begin.PreviousMessageIds,
            Headers: new Dictionary<string, string>(StringComparer.Ordinal));

        // From here on the send row says 'sending': whatever happens, it is never sent twice automatically.
        var result = await sender.SendAsync(endpoint, email, CancellationToken.None);
        var now = clock.GetUtcNow();
        logger.LogInformation("Send {SendId} (enrollment {EnrollmentId}, step {StepId}, attempt {Attempt}): {Outcome} {SmtpStatus}",
            begin.SendId, work.Id, step.Id, begin.Attempt, result.Outcome, result.SmtpStatusCode);
        switch (result.Outcome)
        {
            case SendOutcome.Sent:
                var first = work.ThreadMessageId is null;
                await store.MarkSentAsync(work, begin.SendId, step.Id, SequenceProgress.Next(definition, work.CurrentStep + 1, now),
                    first ? begin.MessageId : null, first ? subject : null, now, ct);
                break;
            case SendOutcome.Transient when begin.Attempt < options.Value.MaxAttempts:
                var delay = options.Value.RetryDelay * Math.Pow(2, begin.Attempt - 1);
                await store.MarkRetryAsync(work, begin.SendId, now + delay, result.SmtpStatusCode, result.Detail, now, ct);
                break;
            case SendOutcome.Transient:
                await store.MarkEndedAsync(work, begin.SendId, SendStates.Failed, EnrollmentStates.Failed, "transient_retries_exhausted", false, result.SmtpStatusCode, result.Detail, now, ct);
                break;
            case SendOutcome.RecipientRejected:
                await store.MarkEndedAsync(work, begin.SendId, SendStates.Failed, EnrollmentStates.Bounced, "hard_bounce", true, result.SmtpStatusCode, result.Detail, now, ct);
                break;
            case SendOutcome.Rejected:
                await store.MarkEndedAsync(work, begin.SendId, SendStates.Failed, EnrollmentStates.Failed, "message_rejected", false, result.SmtpStatusCode, result.Detail, now, ct);
                break;
            default:
                await store.MarkEndedAsync(work, begin.SendId, SendStates.Unknown, EnrollmentStates.Paused, "send_unknown", false, result.SmtpStatusCode, result.Detail, now, ct);
                break;
        }
    }

    private async Task PauseForTemplateAsync(DispatchWork work, EmailStep step, string reason, CancellationToken ct)
        // Nothing was sent; the enrollment waits for the SDR to fix the template or the prospect's data.
        => await store.PauseAsync(work, "template_error", $"{step.Id}: {reason}", clock.GetUtcNow(), ct);
}
