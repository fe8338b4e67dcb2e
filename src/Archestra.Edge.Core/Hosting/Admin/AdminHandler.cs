using System.Text.Json;
using Archestra.Edge.Contracts;
using Archestra.Edge.Gateway;
using Archestra.Edge.Identity.OAuth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Hosting.Admin;

/// <summary>
/// The admin API: status, tokens (list, create, revoke), OAuth grants (list, revoke), the signing key rotation, and
/// the OAuth connections to upstreams (list without tokens; remove, revoking them upstream),
/// each behind <see cref="AdminAccess"/>. Constructed once; every request reads the current runtime.
/// </summary>
internal sealed partial class AdminHandler(GatewayHost host, ILogger<AdminHandler> logger)
{
    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/admin/status", (RequestDelegate)StatusAsync);
        app.MapGet("/admin/tokens", (RequestDelegate)ListTokensAsync);
        app.MapPost("/admin/tokens", (RequestDelegate)CreateTokenAsync);
        app.MapDelete("/admin/tokens/{id}", (RequestDelegate)RevokeTokenAsync);
        app.MapPost("/admin/keys/rotate", (RequestDelegate)RotateKeysAsync);
        app.MapGet("/admin/grants", (RequestDelegate)ListGrantsAsync);
        app.MapDelete("/admin/grants/{id}", (RequestDelegate)RevokeGrantAsync);
        app.MapGet("/admin/connections", (RequestDelegate)ListConnectionsAsync);
        app.MapDelete("/admin/connections/{server}/{owner}", (RequestDelegate)RemoveConnectionAsync);
    }

    private async Task StatusAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (await AdminAccess.AllowedAsync(context, runtime).ConfigureAwait(false))
        {
            await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, StatusReport.Of(runtime), EdgeJsonContext.Relaxed.GatewayStatus).ConfigureAwait(false);
        }
    }

    private async Task ListTokensAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (!await AdminAccess.AllowedAsync(context, runtime).ConfigureAwait(false))
        {
            return;
        }

        var tokens = runtime.Identity?.Tokens.List() ?? [];
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, new TokenList([.. tokens.Select(TokenView.From)]), EdgeJsonContext.Relaxed.TokenList).ConfigureAwait(false);
    }

    private async Task CreateTokenAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (!await AdminAccess.AllowedAsync(context, runtime).ConfigureAwait(false))
        {
            return;
        }

        if (runtime.Identity is not { Stores: not null } identity)
        {
            await AdminAccess.RefuseAsync(context, StatusCodes.Status409Conflict, "tokens can only be created when auth: is configured (they are stored in data_dir)").ConfigureAwait(false);
            return;
        }

        CreateTokenRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(context.Request.Body, EdgeJsonContext.Default.CreateTokenRequest, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            await AdminAccess.RefuseAsync(context, StatusCodes.Status400BadRequest, $"the body is not a token request ({{\"scope\", \"name\", \"profiles\", \"expires\"}}): {ex.Message}").ConfigureAwait(false);
            return;
        }

        var (request, error) = TokenRequest.Validate(body?.Name, body?.Scope, body?.Profiles ?? [], body?.Expires, runtime.Snapshot, identity.Time);
        if (request is null)
        {
            await AdminAccess.RefuseAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        var (record, secret) = identity.Tokens.Create(request.Name, request.Scope, request.Profiles, request.Expires);
        Log.Created(logger, record.Id, record.Name, record.Scope.ToString());
        await JsonResponse.WriteAsync(context, StatusCodes.Status201Created, new CreatedToken(secret, record), EdgeJsonContext.Relaxed.CreatedToken).ConfigureAwait(false);
    }

    private async Task RevokeTokenAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (!await AdminAccess.AllowedAsync(context, runtime).ConfigureAwait(false))
        {
            return;
        }

        var id = context.Request.RouteValues["id"] as string ?? string.Empty;
        if (runtime.Identity?.Tokens.Revoke(id) != true)
        {
            await AdminAccess.RefuseAsync(context, StatusCodes.Status404NotFound, $"no active token '{id}' (tokens declared in the config are revoked by removing them from it)").ConfigureAwait(false);
            return;
        }

        Log.Revoked(logger, id);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>The built-in authorization server's live grants (<c>?user=</c> narrows to one user).</summary>
    private async Task ListGrantsAsync(HttpContext context)
    {
        if (await AuthorizationServerAsync(context).ConfigureAwait(false) is not { } server)
        {
            return;
        }

        var user = context.Request.Query["user"].ToString();
        var grants = server.Grants.ListGrants(user.Length == 0 ? null : user);
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, new GrantList(grants), EdgeJsonContext.Relaxed.GrantList).ConfigureAwait(false);
    }

    /// <summary>Revokes one grant (by id), or every grant of a user (<c>DELETE /admin/grants/user:alice</c>): refresh and access tokens stop at once.</summary>
    private async Task RevokeGrantAsync(HttpContext context)
    {
        if (await AuthorizationServerAsync(context).ConfigureAwait(false) is not { } server)
        {
            return;
        }

        var id = context.Request.RouteValues["id"] as string ?? string.Empty;
        var revoked = id.StartsWith("user:", StringComparison.Ordinal)
            ? server.Grants.RevokeGrants(grant: null, user: id["user:".Length..])
            : server.Grants.RevokeGrants(grant: id, user: null);
        if (revoked == 0)
        {
            await AdminAccess.RefuseAsync(context, StatusCodes.Status404NotFound, $"no active grant '{id}'").ConfigureAwait(false);
            return;
        }

        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, new RevokedCount(revoked), EdgeJsonContext.Relaxed.RevokedCount).ConfigureAwait(false);
    }

    private async Task ListConnectionsAsync(HttpContext context)
    {
        if (await ConnectionsAsync(context).ConfigureAwait(false) is not { } connections)
        {
            return;
        }

        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, new ConnectionList(connections.Describe()), EdgeJsonContext.Relaxed.ConnectionList).ConfigureAwait(false);
    }

    /// <summary><c>DELETE /admin/connections/github/user:alice</c>: the tokens revoked at the authorization server (RFC 7009) and forgotten.</summary>
    private async Task RemoveConnectionAsync(HttpContext context)
    {
        if (await ConnectionsAsync(context).ConfigureAwait(false) is not { } connections)
        {
            return;
        }

        var server = context.Request.RouteValues["server"] as string ?? string.Empty;
        var owner = context.Request.RouteValues["owner"] as string ?? string.Empty;
        var (found, problem) = await connections.RemoveAsync(server, owner, context.RequestAborted).ConfigureAwait(false);
        if (!found)
        {
            await AdminAccess.RefuseAsync(context, StatusCodes.Status404NotFound, $"no connection of '{owner}' to '{server}'").ConfigureAwait(false);
            return;
        }

        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, new RemovedConnection(server, owner, problem is null, problem), EdgeJsonContext.Relaxed.RemovedConnection).ConfigureAwait(false);
    }

    private async Task<Upstreams.OAuth.UpstreamConnections?> ConnectionsAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (!await AdminAccess.AllowedAsync(context, runtime).ConfigureAwait(false))
        {
            return null;
        }

        if (runtime.Connections is null)
        {
            await AdminAccess.RefuseAsync(context, StatusCodes.Status409Conflict, "this gateway keeps no OAuth connections (storage.encryption_key is not set)").ConfigureAwait(false);
        }

        return runtime.Connections;
    }

    private async Task RotateKeysAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (!await AdminAccess.AllowedAsync(context, runtime).ConfigureAwait(false))
        {
            return;
        }

        if (runtime.Identity?.Keys is not { } keys)
        {
            await AdminAccess.RefuseAsync(context, StatusCodes.Status409Conflict, "the built-in authorization server is not on").ConfigureAwait(false);
            return;
        }

        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, new RotatedKey(keys.Rotate()), EdgeJsonContext.Relaxed.RotatedKey).ConfigureAwait(false);
    }

    /// <summary>The built-in authorization server, for a caller allowed to manage it; null when the refusal has been written.</summary>
    private async Task<AuthorizationServer?> AuthorizationServerAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (!await AdminAccess.AllowedAsync(context, runtime).ConfigureAwait(false))
        {
            return null;
        }

        if (runtime.Identity?.AuthorizationServer is not { } server)
        {
            await AdminAccess.RefuseAsync(context, StatusCodes.Status409Conflict, "the built-in authorization server is not on").ConfigureAwait(false);
            return null;
        }

        return server;
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.TokenCreated, LogLevel.Information, "Token {Id} ({Name}, {Scope}) created through the admin API")]
        public static partial void Created(ILogger logger, string id, string name, string scope);

        [LoggerMessage(Observability.EventIds.TokenRevoked, LogLevel.Information, "Token {Id} revoked through the admin API")]
        public static partial void Revoked(ILogger logger, string id);
    }
}
