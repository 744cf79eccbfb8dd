using Microsoft.Extensions.Options;
using Prospector.Core.Email;
using Prospector.Core.Sequences;
using Prospector.Core.Templates;
using Prospector.Server.Email;
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
    TaskSteps tasks,
    WebhookStepRunner webhooks,
    SecretProtector secrets,
    PublicLinks links,
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

        // Enrollments of one sequence version share its definition: parse (and validate) it once per batch, not per send.
        var definitions = new Dictionary<string, SequenceDefinition>(StringComparer.Ordinal);
        var runnable = new List<(DispatchWork Work, SequenceDefinition Definition)>();
        foreach (var work in await store.LoadAsync(ids, ct))
        {
            if (work.Definition is null)
            {
                logger.LogWarning("Enrollment {EnrollmentId}: sequence {SequenceId} version {Version} not found", work.Id, work.SequenceId, work.SequenceVersion);
                await store.PauseAsync(work, "sequence_version_missing", $"version {work.SequenceVersion}", clock.GetUtcNow(), ct);
                continue;
            }

            if (!definitions.TryGetValue(work.Definition, out var definition))
            {
                try
                {
                    definition = SequenceParser.Deserialize(work.Definition);
                }
                catch (InvalidOperationException ex)
                {
                    // A stored definition that no longer validates holds only its own enrollments, not the batch.
                    logger.LogError("Enrollment {EnrollmentId}: sequence {SequenceId} version {Version} is invalid: {Reason}", work.Id, work.SequenceId, work.SequenceVersion, ex.Message);
                    await store.PauseAsync(work, "sequence_invalid", $"version {work.SequenceVersion}", clock.GetUtcNow(), ct);
                    continue;
                }

                definitions[work.Definition] = definition;
            }

            runnable.Add((work, definition));
        }

        // Claimed steps are independent (one enrollment each): run them side by side, each in its own transactions.
        if (o.Parallelism <= 1 || store.SingleWriter || runnable.Count <= 1)
        {
            foreach (var (work, definition) in runnable)
            {
                await RunStepAsync(work, definition, ct);
            }
        }
        else
        {
            await Parallel.ForEachAsync(
                runnable, new ParallelOptions { MaxDegreeOfParallelism = o.Parallelism, CancellationToken = ct },
                async (item, token) => await RunStepAsync(item.Work, item.Definition, token));
        }

        return ids.Count;
    }

    private async Task RunStepAsync(DispatchWork work, SequenceDefinition definition, CancellationToken ct)
    {
        var step = work.CurrentStep < definition.Steps.Count ? definition.Steps[work.CurrentStep] : null;
        switch (step)
        {
            case EmailStep email:
                await SendEmailAsync(work, definition, email, ct);
                return;
            case WebhookStep webhook:
                await webhooks.RunAsync(work, definition, webhook, ct);
                return;
            case { IsTask: true }:
                await tasks.RunAsync(work, definition, step, ct);
                return;
            case BranchStep:
                // A branch behind a wait: evaluated now, with what happened during the wait.
                var at = clock.GetUtcNow();
                var (next, branches) = StepContext.Advance(work, definition, work.CurrentStep, at, await FactsAsync(work, definition, ct));
                await store.AdvanceAsync(work, next, branches, at, ct);
                return;
            default:
                // Waits are folded into due times; past the last step the enrollment completes.
                var now = clock.GetUtcNow();
                var (after, taken) = StepContext.Advance(work, definition, work.CurrentStep + 1, now, await FactsAsync(work, definition, ct));
                await store.AdvanceAsync(work, after, taken, now, ct);
                return;
        }
    }

    // Events are read only for sequences that branch on them: most sequences have no branch, and this is a query per step.
    private async Task<EnrollmentFacts> FactsAsync(DispatchWork work, SequenceDefinition definition, CancellationToken ct)
        => StepContext.Facts(work, definition.Steps.Any(s => s is BranchStep { Condition: EventCondition })
            ? await store.FactEventsAsync(work.Id, ct)
            : new HashSet<string>(StringComparer.Ordinal));

    private async Task SendEmailAsync(DispatchWork work, SequenceDefinition definition, EmailStep step, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(work.Email))
        {
            // A prospect known only by LinkedIn: nothing to send to; the SDR decides (add an address, resume, or stop).
            await store.PauseAsync(work, "no_email", step.Id, clock.GetUtcNow(), ct);
            return;
        }

        var model = StepContext.Model(work);
        var render = StepContext.Text(work, step);
        string subject, body;
        try
        {
            subject = SequenceProgress.SubjectFor(step.Subject is null ? null : TemplateRenderer.Render(step.Subject, model, render), work.ThreadSubject);
            // One template gives both parts: an HTML template renders with data values HTML-encoded, a text one as text.
            body = TemplateRenderer.Render(step.Body, model, render with { Format = MessageComposer.BodyFormat(step.Body) });
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
                var (again, againBranches) = StepContext.Advance(work, definition, work.CurrentStep + 1, at, await FactsAsync(work, definition, ct));
                await store.MarkSentAsync(work, begin.SendId, step.Id, again, againBranches, null, null, at, ct);
                return;
            default:
                logger.LogInformation("Enrollment {EnrollmentId} step {StepId} not sent: {Status}", work.Id, step.Id, begin.Status);
                return;
        }

        var endpoint = new SmtpEndpoint(
            work.SmtpHost, work.SmtpPort, Enum.Parse<TransportSecurity>(work.SmtpSecurity, ignoreCase: true),
            work.SmtpUsername, secrets.Unprotect(work.SmtpPasswordProtected));
        var composed = await ComposeAsync(work, step, body, begin.SendId, ct);
        var email = new OutgoingEmail(
            begin.MessageId, work.FromName, work.FromAddress,
            string.Join(' ', new[] { work.FirstName, work.LastName }.Where(n => !string.IsNullOrWhiteSpace(n))), work.Email!,
            subject, composed.TextBody, composed.HtmlBody,
            InReplyTo: begin.PreviousMessageIds.Count > 0 ? begin.PreviousMessageIds[^1] : null,
            References: begin.PreviousMessageIds,
            Headers: composed.Headers);

        // From here on the send row says 'sending': whatever happens, it is never sent twice automatically.
        var result = await sender.SendAsync(endpoint, email, CancellationToken.None);
        var now = clock.GetUtcNow();
        logger.LogInformation("Send {SendId} (enrollment {EnrollmentId}, step {StepId}, attempt {Attempt}): {Outcome} {SmtpStatus}",
            begin.SendId, work.Id, step.Id, begin.Attempt, result.Outcome, result.SmtpStatusCode);
        switch (result.Outcome)
        {
            case SendOutcome.Sent:
                var first = work.ThreadMessageId is null;
                var (next, branches) = StepContext.Advance(work, definition, work.CurrentStep + 1, now, await FactsAsync(work, definition, ct));
                await store.MarkSentAsync(work, begin.SendId, step.Id, next, branches, first ? begin.MessageId : null, first ? subject : null, now, ct);
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

    // Signature, footer, List-Unsubscribe and tracking: the links carry the send row's id, signed with the instance's key.
    private async Task<ComposedEmail> ComposeAsync(DispatchWork work, EmailStep step, string body, Guid sendId, CancellationToken ct)
    {
        var signer = await links.SignerAsync(ct);
        return MessageComposer.Compose(body, new ComposeOptions(
            work.Signature,
            AppendSignature: !MessageComposer.PlacesSignature(step.Body),
            WorkspaceSettings.Parse(work.WorkspaceSettings).Footer(work.PostalAddress),
            links.UnsubscribeUrl(signer, sendId),
            UnsubscribeMailto: work.FromAddress,
            OpenPixelUrl: work.TrackOpens ? links.OpenPixelUrl(signer, sendId) : null,
            ClickUrl: work.TrackClicks && links.BaseUrl is not null ? target => links.ClickUrl(signer, sendId, target) : null));
    }

    private async Task PauseForTemplateAsync(DispatchWork work, EmailStep step, string reason, CancellationToken ct)
        // Nothing was sent; the enrollment waits for the SDR to fix the template or the prospect's data.
        => await store.PauseAsync(work, "template_error", $"{step.Id}: {reason}", clock.GetUtcNow(), ct);
}
