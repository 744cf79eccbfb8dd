using Microsoft.AspNetCore.Http.HttpResults;
using Prospector.Core;
using Prospector.Core.Email;
using Prospector.Server.Security;
using Prospector.Storage.Stores;

namespace Prospector.Server.Apis;

/// <summary>Workspace switches. Omitted members keep their value.</summary>
/// <param name="AllowActiveInOtherSequences">Enrolling a prospect already active in another sequence.</param>
/// <param name="FooterEnabled">Every email ends with the footer (postal address and opt-out); on by default.</param>
/// <param name="FooterText">The footer's opt-out wording, <c>{unsubscribe}</c> marking the link; empty restores the default.</param>
public sealed record WorkspaceSettingsPatch(bool? AllowActiveInOtherSequences = null, bool? FooterEnabled = null, string? FooterText = null);

/// <summary>A partial update of the caller's workspace. An empty <see cref="PostalAddress"/> clears it.</summary>
public sealed record PatchWorkspaceRequest(string? Name = null, string? PostalAddress = null, WorkspaceSettingsPatch? Settings = null);

/// <summary>A new workspace (operator only).</summary>
public sealed record CreateWorkspaceRequest(string Name, string? PostalAddress = null);

/// <summary>Workspace switches as shown.</summary>
public sealed record WorkspaceSettingsResponse(bool AllowActiveInOtherSequences, bool FooterEnabled, string FooterText);

/// <summary>A workspace.</summary>
public sealed record WorkspaceResponse(Guid Id, string Name, string? PostalAddress, WorkspaceSettingsResponse Settings, DateTimeOffset CreatedAt, string State)
{
    private static WorkspaceSettingsResponse SettingsOf(WorkspaceSettings s)
        => new(s.AllowActiveInOtherSequences, s.FooterEnabled, s.FooterText ?? MessageComposer.DefaultFooterText);

    internal static WorkspaceResponse From(WorkspaceRow w)
        => new(w.Id, w.Name, w.PostalAddress, SettingsOf(WorkspaceSettings.Parse(w.Settings)), w.CreatedAt, w.State);
}

/// <summary>A workspace just created, with its first admin key (shown this once).</summary>
public sealed record CreatedWorkspaceResponse(WorkspaceResponse Workspace, CreatedApiKeyResponse AdminKey);

/// <summary>The caller's workspace, and creating workspaces (the instance operator: admin keys of the default workspace).</summary>
public static class WorkspacesApi
{
    /// <summary>Maps /api/workspace and /api/workspaces.</summary>
    public static RouteGroupBuilder MapWorkspacesApi(this RouteGroupBuilder api)
    {
        api.MapGet("/workspace", GetAsync).WithTags("Workspace");
        api.MapPatch("/workspace", PatchAsync).WithTags("Workspace").RequireAdmin();
        api.MapPost("/workspaces", CreateAsync).WithTags("Workspace").RequireOperator();
        api.MapPost("/workspace/pause", (HttpContext http, WorkspaceStore store, DispatchStore dispatch, TimeProvider clock, CancellationToken ct)
            => SetPausedAsync(true, http, store, dispatch, clock, ct)).WithTags("Workspace").RequireAdmin();
        api.MapPost("/workspace/resume", (HttpContext http, WorkspaceStore store, DispatchStore dispatch, TimeProvider clock, CancellationToken ct)
            => SetPausedAsync(false, http, store, dispatch, clock, ct)).WithTags("Workspace").RequireAdmin();
        return api;
    }

    // Pausing holds every step of the workspace where it is; resuming first spreads what fell due meanwhile (the
    // catch-up policy, applied while nothing can be claimed yet), then lets the dispatcher claim again.
    private static async Task<Results<Ok<WorkspaceResponse>, ProblemHttpResult>> SetPausedAsync(
        bool paused, HttpContext http, WorkspaceStore store, DispatchStore dispatch, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = http.User.GetWorkspaceId();
        if (await store.GetAsync(workspaceId, ct) is not { } current)
        {
            return Problems.NotFound("workspace");
        }

        if (current.State == (paused ? "paused" : "active"))
        {
            return Problems.Conflict($"the workspace is already {current.State}");
        }

        if (!paused)
        {
            await dispatch.CatchUpAsync(workspaceId, CatchUpScope.Workspace, workspaceId, clock.GetUtcNow(), ct);
        }

        if (!await store.SetPausedAsync(workspaceId, paused, ct))
        {
            return Problems.Conflict("the workspace's state changed meanwhile");
        }

        return TypedResults.Ok(WorkspaceResponse.From((await store.GetAsync(workspaceId, ct))!));
    }

    private static async Task<Results<Ok<WorkspaceResponse>, ProblemHttpResult>> GetAsync(HttpContext http, WorkspaceStore store, CancellationToken ct)
        => await store.GetAsync(http.User.GetWorkspaceId(), ct) is { } w ? TypedResults.Ok(WorkspaceResponse.From(w)) : Problems.NotFound("workspace");

    private static async Task<Results<Ok<WorkspaceResponse>, ValidationProblem, ProblemHttpResult>> PatchAsync(
        PatchWorkspaceRequest request, HttpContext http, WorkspaceStore store, CancellationToken ct)
    {
        var errors = new List<ValidationError>();
        if (request.Name is not null)
        {
            Fields.Text(request.Name, "name", 200, required: true, errors);
        }

        PostalAddress(request.PostalAddress, errors);
        if (request.Settings?.FooterText is { } footerText)
        {
            if (footerText.Length > 1000)
            {
                errors.Add(new("settings.footerText", "at most 1000 characters"));
            }
            else if (footerText.Contains('\0', StringComparison.Ordinal))
            {
                errors.Add(new("settings.footerText", "must not contain NUL"));
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var workspaceId = http.User.GetWorkspaceId();
        if (await store.GetAsync(workspaceId, ct) is not { } current)
        {
            return Problems.NotFound("workspace");
        }

        var settings = WorkspaceSettings.Parse(current.Settings);
        if (request.Settings?.AllowActiveInOtherSequences is { } allow)
        {
            settings = settings with { AllowActiveInOtherSequences = allow };
        }

        if (request.Settings?.FooterEnabled is { } footer)
        {
            settings = settings with { FooterEnabled = footer };
        }

        if (request.Settings?.FooterText is { } text)
        {
            settings = settings with { FooterText = text.Trim() is { Length: > 0 } t ? t : null };
        }

        var postal = request.PostalAddress is null ? current.PostalAddress : request.PostalAddress.Trim() is { Length: > 0 } p ? p : null;
        await store.UpdateAsync(workspaceId, request.Name?.Trim() ?? current.Name, postal, settings, ct);
        return TypedResults.Ok(WorkspaceResponse.From((await store.GetAsync(workspaceId, ct))!));
    }

    private static async Task<Results<Created<CreatedWorkspaceResponse>, ValidationProblem>> CreateAsync(
        CreateWorkspaceRequest request, HttpContext http, WorkspaceStore store, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<ValidationError>();
        Fields.Text(request.Name, "name", 200, required: true, errors);
        PostalAddress(request.PostalAddress, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var key = ApiKeys.Generate();
        var now = clock.GetUtcNow();
        var postal = request.PostalAddress?.Trim() is { Length: > 0 } p ? p : null;
        var (workspaceId, keyId) = await store.CreateWithAdminKeyAsync(
            request.Name.Trim(), postal, "first admin key", ApiKeys.DisplayPrefix(key), ApiKeys.Hash(key), http.User.GetApiKeyId(), now, ct);
        var workspace = (await store.GetAsync(workspaceId, ct))!;
        return TypedResults.Created("/api/workspace", new CreatedWorkspaceResponse(
            WorkspaceResponse.From(workspace), new CreatedApiKeyResponse(keyId, "first admin key", ApiRoles.Admin, ApiKeys.DisplayPrefix(key), now, key)));
    }

    // The postal address goes into email footers (CAN-SPAM): several lines are fine, NUL is not.
    private static void PostalAddress(string? value, List<ValidationError> errors)
    {
        if (value is { Length: > 1000 })
        {
            errors.Add(new("postalAddress", "at most 1000 characters"));
        }
        else if (value is not null && value.Contains('\0', StringComparison.Ordinal))
        {
            errors.Add(new("postalAddress", "must not contain NUL"));
        }
    }
}
