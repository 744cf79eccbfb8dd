using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Prospector.Storage.Stores;

namespace Prospector.Server.Security;

/// <summary>The roles an API key can have.</summary>
public static class ApiRoles
{
    /// <summary>Everything, including keys, owners, mailboxes, workspace settings and the CRM connection.</summary>
    public const string Admin = "admin";

    /// <summary>Reads everything; writes sequences, prospects, audiences, imports, enrollments, tasks.</summary>
    public const string Sdr = "sdr";

    /// <summary>Read-only (GET) everywhere.</summary>
    public const string Viewer = "viewer";

    /// <summary>Every role, most powerful first.</summary>
    public static IReadOnlyList<string> All { get; } = [Admin, Sdr, Viewer];

    /// <summary>True for a known role name.</summary>
    public static bool IsValid(string? role) => role is Admin or Sdr or Viewer;
}

/// <summary>
/// Who may call what. Every route under <c>/api</c> carries <see cref="ByMethod"/> (set once on the group):
/// reads (GET, HEAD, OPTIONS) are open to every role, any other method needs sdr or admin. Routes that only an admin
/// may use add <see cref="ApiAccessExtensions.RequireAdmin{TBuilder}"/>; policies add up, so an admin route is also method-checked.
/// A new route therefore refuses viewers' writes without anyone remembering to say so.
/// </summary>
public static class ApiPolicies
{
    /// <summary>The default rule of the /api group: the method decides which roles pass.</summary>
    public const string ByMethod = "api:by-method";

    /// <summary>Admin keys only.</summary>
    public const string Admin = "api:admin";

    /// <summary>Admin keys of the instance's first (default) workspace: the operator of the instance.</summary>
    public const string Operator = "api:operator";

    internal static void Add(AuthorizationOptions options)
    {
        options.AddPolicy(ByMethod, p => p.RequireAuthenticatedUser().AddRequirements(new MethodRoleRequirement()));
        options.AddPolicy(Admin, p => p.RequireAuthenticatedUser().RequireRole(ApiRoles.Admin));
        options.AddPolicy(Operator, p => p.RequireAuthenticatedUser().RequireRole(ApiRoles.Admin).AddRequirements(new OperatorRequirement()));
    }
}

/// <summary>Endpoint conventions for access rules.</summary>
public static class ApiAccessExtensions
{
    /// <summary>Only admin keys may call these endpoints (on top of the group's method rule).</summary>
    public static TBuilder RequireAdmin<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
        => builder.RequireAuthorization(ApiPolicies.Admin);

    /// <summary>Only admin keys of the default workspace (the instance operator) may call these endpoints.</summary>
    public static TBuilder RequireOperator<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
        => builder.RequireAuthorization(ApiPolicies.Operator);

    /// <summary>The caller key's role.</summary>
    public static string? GetRole(this ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.Role);

    /// <summary>The caller key's id.</summary>
    public static Guid GetApiKeyId(this ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("not authenticated"));
}

/// <summary>Reads need any role; other methods need sdr or admin.</summary>
public sealed class MethodRoleRequirement : AuthorizationHandler<MethodRoleRequirement>, IAuthorizationRequirement
{
    /// <summary>True for the methods a viewer may use.</summary>
    public static bool IsRead(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);

    /// <inheritdoc />
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, MethodRoleRequirement requirement)
    {
        // Endpoint routing passes the HttpContext as the resource. Without it nothing is known about the method: refuse.
        var role = context.User.GetRole();
        if (context.Resource is HttpContext http && ApiRoles.IsValid(role) && (role != ApiRoles.Viewer || IsRead(http.Request.Method)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>The caller's key belongs to the default workspace.</summary>
public sealed class OperatorRequirement : IAuthorizationRequirement;

/// <summary>Checks <see cref="OperatorRequirement"/> against the oldest workspace (which never changes once created).</summary>
public sealed class OperatorHandler(WorkspaceStore workspaces) : AuthorizationHandler<OperatorRequirement>
{
    private Guid? _defaultWorkspace;

    /// <inheritdoc />
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, OperatorRequirement requirement)
    {
        _defaultWorkspace ??= await workspaces.GetDefaultIdAsync(CancellationToken.None);
        if (context.User.FindFirstValue(WorkspaceClaims.WorkspaceId) is { } ws && Guid.TryParse(ws, out var id) && id == _defaultWorkspace)
        {
            context.Succeed(requirement);
        }
    }
}

/// <summary>Writes refusals as ProblemDetails that say which rule the key failed.</summary>
public sealed class ProblemAuthorizationResultHandler(IProblemDetailsService problems) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    /// <inheritdoc />
    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        var failed = authorizeResult.AuthorizationFailure?.FailedRequirements.ToArray() ?? [];
        var role = context.User.GetRole() ?? "none";
        var detail = failed.Any(r => r is OperatorRequirement)
            ? "only admin keys of the instance's default workspace may do this"
            : failed.Any(r => r is RolesAuthorizationRequirement)
                ? $"this needs an admin key; this key's role is '{role}'"
                : $"a '{role}' key may only read (GET); this needs an sdr or admin key";
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = StatusCodes.Status403Forbidden, Title = "Forbidden", Detail = detail },
        });
    }
}
