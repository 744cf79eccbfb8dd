using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Email;
using Prospector.Core.Sequences;
using Prospector.Core.Templates;
using Prospector.Server.Email;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>Render a sequence (or one step) for a prospect: a version (default the newest), a sender mailbox (default the first active one).</summary>
public sealed record PreviewRequest(Guid ProspectId, string? StepId = null, int? Version = null, Guid? MailboxId = null);

/// <summary>The rendered steps of one version for one prospect.</summary>
public sealed record PreviewResponse(Guid SequenceId, int Version, Guid ProspectId, Guid? MailboxId, IReadOnlyList<StepPreview> Steps);

/// <summary>
/// One rendered step. Emails: <see cref="Subject"/>, <see cref="TextBody"/>, <see cref="HtmlBody"/>; LinkedIn, call and
/// manual steps: <see cref="Text"/> (and <see cref="Title"/>); webhooks: <see cref="Url"/> and <see cref="Payload"/>;
/// branches: <see cref="Branch"/>; waits: <see cref="Wait"/>. Render errors are listed in <see cref="Errors"/>, per field.
/// </summary>
public sealed record StepPreview(string Id, string Type)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Subject { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TextBody { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? HtmlBody { get; init; }

    /// <summary>The list headers the email would carry (List-Unsubscribe, List-Unsubscribe-Post).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Title { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Text { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Url { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Payload { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public BranchPreview? Branch { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public WaitPreview? Wait { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<PreviewError>? Errors { get; init; }
}

/// <summary>A branch: its condition, whether it holds for the prospect now, and the step id it would go to (or "end").</summary>
public sealed record BranchPreview(string Condition, bool Holds, string GoesTo);

/// <summary>A wait's duration (days are business days when <see cref="BusinessDays"/>).</summary>
public sealed record WaitPreview(int Days, int Hours, int Minutes, int Seconds, bool BusinessDays);

/// <summary>A field of a step that could not be rendered, and why.</summary>
public sealed record PreviewError(string Field, string Message);

/// <summary>POST /api/sequences/{id}/preview.</summary>
public static class SequencePreviewApi
{
    /// <summary>Maps the preview route on the sequences group.</summary>
    public static RouteGroupBuilder MapSequencePreviewApi(this RouteGroupBuilder sequences)
    {
        sequences.MapPost("/{id:guid}/preview", PreviewAsync);
        return sequences;
    }

    private static async Task<Results<Ok<PreviewResponse>, ValidationProblem, ProblemHttpResult>> PreviewAsync(
        Guid id, PreviewRequest request, HttpContext http, SequenceStore store, WorkspaceStore workspaces, PublicLinks links, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        var sequence = await store.GetAsync(workspaceId, id, ct);
        if (sequence is null)
        {
            return Problems.NotFound("sequence");
        }

        var errors = new List<ValidationError>();
        var version = request.Version ?? sequence.Version;
        var stored = await store.GetVersionAsync(workspaceId, id, version, ct);
        if (stored is null)
        {
            errors.Add(new("version", $"the sequence has no version {version}"));
        }

        var context = await store.PreviewContextAsync(workspaceId, id, request.ProspectId, request.MailboxId, ct);
        if (context is null)
        {
            errors.Add(new("prospectId", "no such prospect in this workspace"));
        }
        else if (request.MailboxId is not null && context.Mailbox is null)
        {
            errors.Add(new("mailboxId", "no such mailbox in this workspace"));
        }

        var definition = stored is null ? null : SequenceParser.Deserialize(stored.Definition);
        if (definition is not null && request.StepId is not null && definition.IndexOf(request.StepId) < 0)
        {
            errors.Add(new("stepId", $"version {version} has no step '{request.StepId}'"));
        }

        if (errors.Count > 0 || definition is null || context is null)
        {
            return Problems.Validation(errors);
        }

        // The footer and list headers as live sends get them; links carry the placeholder token "preview" (they do nothing).
        var workspace = await workspaces.GetAsync(workspaceId, ct);
        var footer = WorkspaceSettings.Parse(workspace?.Settings).Footer(workspace?.PostalAddress);
        var unsubscribeUrl = links.BaseUrl is null ? null : links.BaseUrl + "/u/preview";
        var steps = SequencePreviewer.Render(definition, context, request.StepId, footer, unsubscribeUrl);
        return TypedResults.Ok(new PreviewResponse(id, version, request.ProspectId, context.Mailbox?.Id, steps));
    }
}

/// <summary>Renders steps with the live renderer and the same spintax key as live sends ("prospectId:stepId").</summary>
internal static class SequencePreviewer
{
    public static IReadOnlyList<StepPreview> Render(
        SequenceDefinition definition, PreviewContext context, string? onlyStepId, FooterSettings? footer = null, string? unsubscribeUrl = null)
    {
        var p = context.Prospect;
        var prospect = new ProspectSnapshot(
            p.Id, p.Email, p.FirstName, p.LastName, p.Title, p.LinkedinUrl, p.Phone, p.Country, p.Company, p.CompanyDomain,
            StepInputs.ParseCustom(p.CustomFields), p.OwnerName, p.OwnerEmail);
        var model = StepInputs.Model(prospect, new SenderSnapshot(context.Mailbox?.FromName ?? string.Empty, context.Mailbox?.FromAddress, context.Mailbox?.Signature));
        var facts = StepInputs.Facts(prospect, context.EnrollmentFacts);

        // Follow-ups without a subject reply in the thread of the first email: "Re: <its rendered subject>".
        string? threadSubject = null;
        if (definition.Steps.OfType<EmailStep>().FirstOrDefault() is { Subject: { } rootSubject } root)
        {
            threadSubject = TryRender(rootSubject, model, new RenderOptions(TemplateFormat.Text, SpinKey(p.Id, root.Id)), out _);
        }

        var result = new List<StepPreview>();
        for (var i = 0; i < definition.Steps.Count; i++)
        {
            var step = definition.Steps[i];
            if (onlyStepId is not null && step.Id != onlyStepId)
            {
                continue;
            }

            var errors = new List<PreviewError>();
            var text = new RenderOptions(TemplateFormat.Text, SpinKey(p.Id, step.Id));
            string? Render(string? source, string field, RenderOptions? options = null)
            {
                if (source is null)
                {
                    return null;
                }

                var output = TryRender(source, model, options ?? text, out var error);
                if (error is not null)
                {
                    errors.Add(new(field, error));
                }

                return output;
            }

            var preview = new StepPreview(step.Id, step.Type);
            switch (step)
            {
                case EmailStep email:
                    var subject = Render(email.Subject, "subject");
                    // Both parts exactly as composed for sending: one template, signature, footer.
                    var body = Render(email.Body, "body", text with { Format = MessageComposer.BodyFormat(email.Body) });
                    var composed = body is null ? null : MessageComposer.Compose(body, new ComposeOptions(
                        context.Mailbox?.Signature, !MessageComposer.PlacesSignature(email.Body),
                        footer ?? new FooterSettings(Enabled: false), unsubscribeUrl, context.Mailbox?.FromAddress));
                    preview = preview with
                    {
                        Subject = email.Subject is null ? SequenceProgress.SubjectFor(null, threadSubject) : subject,
                        TextBody = composed?.TextBody,
                        HtmlBody = composed?.HtmlBody,
                        Headers = composed?.Headers,
                    };
                    break;
                case WaitStep wait:
                    preview = preview with { Wait = new WaitPreview(wait.Days, wait.Time.Hours, wait.Time.Minutes, wait.Time.Seconds, wait.BusinessDays) };
                    break;
                case LinkedInVisitStep visit:
                    preview = preview with { Text = Render(visit.Instructions, "instructions") };
                    break;
                case LinkedInInviteStep invite:
                    var note = Render(invite.Note, "note");
                    if (note is not null && note.Length > LinkedInInviteStep.MaxNoteLength)
                    {
                        errors.Add(new("note", string.Create(CultureInfo.InvariantCulture,
                            $"the note is {note.Length} characters once rendered; LinkedIn allows {LinkedInInviteStep.MaxNoteLength}")));
                    }

                    preview = preview with { Text = note };
                    break;
                case LinkedInMessageStep message:
                    preview = preview with { Text = Render(message.Body, "body") };
                    break;
                case CallStep call:
                    preview = preview with { Text = Render(call.Script, "script") };
                    break;
                case ManualTaskStep manual:
                    preview = preview with { Title = Render(manual.Title, "title"), Text = Render(manual.Instructions, "instructions") };
                    break;
                case WebhookStep webhook:
                    preview = preview with { Url = webhook.Url.ToString(), Payload = Render(webhook.Payload, "payload", text with { Format = TemplateFormat.Json }) };
                    break;
                case BranchStep branch:
                    var holds = BranchEvaluator.Holds(branch.Condition, facts);
                    var goesTo = holds ? branch.Then : branch.Else ?? (i + 1 < definition.Steps.Count ? definition.Steps[i + 1].Id : StepTargets.End);
                    preview = preview with { Branch = new BranchPreview(Describe(branch.Condition), holds, goesTo) };
                    break;
            }

            result.Add(errors.Count > 0 ? preview with { Errors = errors } : preview);
        }

        return result;
    }

    /// <summary>The spintax key live sends use too.</summary>
    public static string SpinKey(Guid prospectId, string stepId) => StepInputs.SpinKey(prospectId, stepId);

    private static string? TryRender(string source, TemplateModel model, RenderOptions options, out string? error)
    {
        try
        {
            error = null;
            return TemplateRenderer.Render(source, model, options);
        }
        catch (TemplateException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    private static string Describe(BranchCondition condition) => condition switch
    {
        EventCondition e => e.Event switch
        {
            BranchEvent.Replied => "replied",
            BranchEvent.Opened => "opened",
            BranchEvent.Clicked => "clicked",
            BranchEvent.LinkedInConnected => "linkedin_connected",
            _ => "email_found",
        },
        FieldCondition f => f.Operator switch
        {
            FieldOperator.Exists => $"{f.Field} exists",
            FieldOperator.Missing => $"{f.Field} missing",
            FieldOperator.Equals => $"{f.Field} equals '{f.Value}'",
            FieldOperator.NotEquals => $"{f.Field} not_equals '{f.Value}'",
            _ => $"{f.Field} contains '{f.Value}'",
        },
        _ => condition.ToString() ?? string.Empty,
    };
}
