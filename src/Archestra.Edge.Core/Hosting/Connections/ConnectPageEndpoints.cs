using Archestra.Edge.Contracts;
using Archestra.Edge.Gateway;
using Archestra.Edge.Identity;
using Archestra.Edge.Model;
using Archestra.Edge.Upstreams.OAuth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Hosting.Connections;

/// <summary>
/// <c>/connect</c>: where a user connects their own accounts at upstream servers that want OAuth. They sign in with a
/// personal token, as on the consent page; the page lists the servers that take personal connections, with connect,
/// reconnect and disconnect. Connecting sends the browser to the server's authorization server (PKCE S256, the
/// resource indicator, the gateway as client: pre-registered, its own client ID metadata document, or registered
/// now) and back to <c>/connect/callback</c>, where the code becomes the user's connection, sealed in the state store.
/// Disconnecting revokes the tokens at the authorization server (RFC 7009) and forgets them.
/// </summary>
internal sealed partial class ConnectPageEndpoints(GatewayHost host, ILogger<ConnectPageEndpoints> logger)
{
    public const string MetadataDocumentPath = "/connect/client-metadata.json";

    private const string Title = "Connected accounts";

    /// <summary>Clients registered (RFC 7591) for the page's redirect URI, per server and authorization server; at most one per configured server.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, OAuthClientIdentity> _registered = new(StringComparer.Ordinal);

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/connect", (RequestDelegate)PageAsync);
        app.MapPost("/connect/sign-in", (RequestDelegate)SignInAsync);
        app.MapPost("/connect/sign-out", (RequestDelegate)SignOutAsync);
        app.MapGet("/connect/start", (RequestDelegate)StartAsync);
        app.MapGet("/connect/callback", (RequestDelegate)CallbackAsync);
        app.MapPost("/connect/disconnect", (RequestDelegate)DisconnectAsync);
        app.MapGet(MetadataDocumentPath, (RequestDelegate)MetadataDocumentAsync);
    }

    /// <summary>The gateway's client ID metadata document: its client_id is this document's own URL.</summary>
    public static ClientMetadataDocument MetadataDocument(string baseUrl)
        => new($"{baseUrl}{MetadataDocumentPath}", "Archestra Edge", baseUrl, [$"{baseUrl}/connect/callback", "http://127.0.0.1/callback"],
            ["authorization_code", "refresh_token"], ["code"], "none");

    private Task MetadataDocumentAsync(HttpContext context)
    {
        context.Response.Headers.CacheControl = "public, max-age=300";
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, MetadataDocument(BaseUrl(host.Current)), EdgeJsonContext.Relaxed.ClientMetadataDocument);
    }

    private async Task PageAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (await UnavailableAsync(context, runtime).ConfigureAwait(false))
        {
            return;
        }

        var wanted = context.Request.Query["server"].ToString();
        var scope = context.Request.Query["scope"].ToString();
        if (SignedIn(context, runtime) is not { } user)
        {
            await HtmlPage.WriteAsync(context, StatusCodes.Status200OK, "Sign in to connect accounts", ConnectPageHtml.SignIn(wanted, scope, null)).ConfigureAwait(false);
            return;
        }

        var connections = runtime.Connections!;
        var rows = Servers(runtime).Select(server => ConnectPageHtml.Row.Of(server, user, connections)).ToList();
        var notice = context.Request.Query["connected"] is { Count: 1 } connected ? $"Connected {connected}."
            : context.Request.Query["disconnected"] is { Count: 1 } disconnected ? $"Disconnected {disconnected}."
            : null;
        var problem = context.Request.Query["problem"].ToString() is { Length: > 0 and < 500 } p ? p : null;
        await HtmlPage.WriteAsync(context, StatusCodes.Status200OK, Title,
            ConnectPageHtml.List(user, rows, wanted, scope, ConnectPageCookies.Csrf(context), notice, problem)).ConfigureAwait(false);
    }

    private async Task SignInAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (await UnavailableAsync(context, runtime).ConfigureAwait(false))
        {
            return;
        }

        if (await HtmlPage.ReadFormAsync(context).ConfigureAwait(false) is not { } form)
        {
            await HtmlPage.WriteAsync(context, StatusCodes.Status400BadRequest, "Not a sign-in form", "<p>This request did not come from the connect page.</p>").ConfigureAwait(false);
            return;
        }

        var token = form["token"].ToString().Trim();
        var check = runtime.Authenticator.CheckBearer(token);
        var problem = check.Outcome != AuthOutcome.Ok ? "That token is not valid (unknown, revoked or expired)."
            : check.Principal!.Kind != PrincipalKind.User ? "Sign in with a personal token (scope user:…), not a team or organisation token."
            : null;
        if (problem is not null)
        {
            await HtmlPage.WriteAsync(context, StatusCodes.Status200OK, "Sign in to connect accounts",
                ConnectPageHtml.SignIn(form["server"].ToString(), form["scope"].ToString(), problem)).ConfigureAwait(false);
            return;
        }

        ConnectPageCookies.SignIn(context, runtime.Connections!.Vault, token, runtime.TimeProvider.GetUtcNow());
        context.Response.Redirect(PageUrl(form["server"].ToString(), form["scope"].ToString()));
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
    }

    private Task SignOutAsync(HttpContext context)
    {
        ConnectPageCookies.SignOut(context);
        context.Response.Redirect("/connect");
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        return Task.CompletedTask;
    }

    /// <summary>GET /connect/start: the browser goes to the server's authorization server (a link, not a form: form-action would stop the redirect).</summary>
    private async Task StartAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (await UnavailableAsync(context, runtime).ConfigureAwait(false))
        {
            return;
        }

        var query = context.Request.Query;
        var name = query["server"].ToString();
        if (SignedIn(context, runtime) is not { } user || !ConnectPageCookies.CsrfMatches(context, query["csrf"]))
        {
            context.Response.Redirect(PageUrl(name, query["scope"].ToString()));
            return;
        }

        if (Servers(runtime).FirstOrDefault(s => s.Name == name) is not { } server)
        {
            await HtmlPage.WriteAsync(context, StatusCodes.Status404NotFound, Title, "<p>No server of this gateway takes personal connections by that name.</p>").ConfigureAwait(false);
            return;
        }

        var connections = runtime.Connections!;
        var oauth = server.Remote!.OAuth!;
        var (authorization, discoveryError) = await AuthorizationDiscovery.DiscoverAsync(connections.Http, server.Remote.Url, context.RequestAborted).ConfigureAwait(false);
        if (authorization is null)
        {
            await FailAsync(context, server.Name, $"cannot find how {server.Name} is authorized: {discoveryError}").ConfigureAwait(false);
            return;
        }

        var baseUrl = BaseUrl(runtime);
        var redirect = new Uri($"{baseUrl}/connect/callback");
        var key = $"{server.Name}\n{authorization.Issuer}\n{redirect}";
        OAuthClientIdentity? client;
        if (oauth.ClientId is null && _registered.TryGetValue(key, out var known))
        {
            client = known;
        }
        else
        {
            (client, var clientError) = await UpstreamOAuthClient.IdentifyAsync(connections.Http, authorization, oauth.ClientId, oauth.ClientSecret, redirect,
                $"Archestra Edge ({server.Name})", context.RequestAborted, new Uri($"{baseUrl}{MetadataDocumentPath}")).ConfigureAwait(false);
            if (client is null)
            {
                await FailAsync(context, server.Name, clientError!).ConfigureAwait(false);
                return;
            }

            if (oauth.ClientId is null && _registered.Count < runtime.Snapshot.Servers.Length * 2)
            {
                _registered[key] = client;
            }
        }

        // The scope asked: the configured one, else the discovered one; a step-up adds what the server asked for.
        var asked = query["scope"].ToString() is { Length: > 0 and < 1024 } wider ? Union(oauth.Scope ?? authorization.Scope, wider) : oauth.Scope;
        var pending = UpstreamOAuthClient.BeginAuthorization(authorization, client, redirect, asked);
        ConnectPageCookies.Begin(context, connections.Vault, new ConnectPageCookies.Pending(server.Name, user.Id, pending.State, pending.Verifier, redirect.ToString(),
            new UpstreamConnection(authorization, client, new UpstreamTokens("-", null, null, null)), runtime.TimeProvider.GetUtcNow() + ConnectPageCookies.PendingLifetime));
        context.Response.Redirect(pending.AuthorizationUrl.AbsoluteUri);
    }

    /// <summary>GET /connect/callback: the authorization server's answer becomes the user's connection.</summary>
    private async Task CallbackAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (await UnavailableAsync(context, runtime).ConfigureAwait(false))
        {
            return;
        }

        var connections = runtime.Connections!;
        var query = context.Request.Query;
        var pending = ConnectPageCookies.Resume(context, connections.Vault, runtime.TimeProvider.GetUtcNow());
        if (pending is null || query["state"] != pending.State)
        {
            await HtmlPage.WriteAsync(context, StatusCodes.Status400BadRequest, Title,
                "<p>This answer is not for a connection being made in this browser (unknown, expired or already finished). <a href=\"/connect\">Start again</a>.</p>").ConfigureAwait(false);
            return;
        }

        ConnectPageCookies.End(context);
        var authorization = pending.Connection.Authorization;
        if (query["error"] is { Count: 1 } error)
        {
            await FailAsync(context, pending.Server, $"{pending.Server}'s authorization server answered {error}{(query["error_description"] is { Count: 1 } why ? $": {why}" : string.Empty)}").ConfigureAwait(false);
            return;
        }

        // RFC 9207: an answer that names another issuer is a mix-up (another server's answer sent here).
        if (query["iss"] is { Count: 1 } iss && iss.ToString().TrimEnd('/') != authorization.Issuer.ToString().TrimEnd('/'))
        {
            await FailAsync(context, pending.Server, $"the answer names the issuer {iss}, not {authorization.Issuer}").ConfigureAwait(false);
            return;
        }

        if (query["code"].ToString() is not { Length: > 0 } code)
        {
            await FailAsync(context, pending.Server, "the authorization server's answer carried no code").ConfigureAwait(false);
            return;
        }

        var started = new PendingUpstreamAuthorization(pending.State, pending.Verifier, new Uri(pending.RedirectUri), authorization.AuthorizationEndpoint);
        var (tokens, tokenError) = await UpstreamOAuthClient.ExchangeCodeAsync(connections.Http, authorization, pending.Connection.Client, started, code, context.RequestAborted).ConfigureAwait(false);
        if (tokens is null)
        {
            await FailAsync(context, pending.Server, $"the authorization server did not issue tokens: {tokenError}").ConfigureAwait(false);
            return;
        }

        var owner = ConnectionOwner.OfUser(pending.User);
        connections.Save(pending.Server, owner, pending.Connection with { Tokens = tokens });
        Log.Connected(logger, pending.Server, owner);
        context.Response.Redirect($"/connect?connected={Uri.EscapeDataString(pending.Server)}");
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
    }

    private async Task DisconnectAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (await UnavailableAsync(context, runtime).ConfigureAwait(false))
        {
            return;
        }

        var form = await HtmlPage.ReadFormAsync(context).ConfigureAwait(false);
        if (form is null || SignedIn(context, runtime) is not { } user || !ConnectPageCookies.CsrfMatches(context, form["csrf"]))
        {
            context.Response.Redirect("/connect");
            context.Response.StatusCode = StatusCodes.Status303SeeOther;
            return;
        }

        var server = form["server"].ToString();
        var owner = ConnectionOwner.OfUser(user.Id);
        var (found, problem) = await runtime.Connections!.RemoveAsync(server, owner, context.RequestAborted).ConfigureAwait(false);
        if (found)
        {
            Log.Removed(logger, server, owner, problem ?? "revoked at the authorization server");
        }

        context.Response.Redirect($"/connect?disconnected={Uri.EscapeDataString(server)}{(problem is null ? string.Empty : $"&problem={Uri.EscapeDataString($"The tokens were forgotten here, but not revoked upstream: {problem}.")}")}");
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
    }

    /// <summary>The signed-in user (their personal token checked again), or null.</summary>
    private static Principal? SignedIn(HttpContext context, GatewayRuntime runtime)
        => ConnectPageCookies.SignedInToken(context, runtime.Connections!.Vault, runtime.TimeProvider.GetUtcNow()) is { } token
            && runtime.Authenticator.CheckBearer(token) is { Outcome: AuthOutcome.Ok, Principal: { Kind: PrincipalKind.User } user }
                ? user
                : null;

    /// <summary>The servers a user may connect an account of their own to.</summary>
    private static IEnumerable<ServerModel> Servers(GatewayRuntime runtime)
        => runtime.Snapshot.Servers.Where(static s => s.Remote?.OAuth is { ClientCredentials: false } oauth && oauth.Owners.Contains(ConnectionOwner.User));

    /// <summary>Without users or a connection store there is nothing to sign in to: the page says why.</summary>
    private static async Task<bool> UnavailableAsync(HttpContext context, GatewayRuntime runtime)
    {
        var why = runtime.Connections is null ? "This gateway keeps no OAuth connections: storage.encryption_key is not set."
            : !runtime.Authenticator.Enabled ? "This gateway authenticates nobody (no auth: section), so there are no personal connections; an administrator connects servers for the organisation with archestra-edge connections connect."
            : null;
        if (why is null)
        {
            return false;
        }

        await HtmlPage.WriteAsync(context, StatusCodes.Status404NotFound, Title, $"<p>{System.Net.WebUtility.HtmlEncode(why)}</p>").ConfigureAwait(false);
        return true;
    }

    private Task FailAsync(HttpContext context, string server, string problem)
    {
        Log.Refused(logger, server, problem);
        context.Response.Redirect($"/connect?server={Uri.EscapeDataString(server)}&problem={Uri.EscapeDataString($"{server} was not connected: {problem}")}");
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        return Task.CompletedTask;
    }

    /// <summary>The gateway's own address (never the request's Host): the callback and the metadata document must not follow a forged one.</summary>
    private static string BaseUrl(GatewayRuntime runtime) => runtime.Connections?.ConnectBase() ?? runtime.Snapshot.Listener.PublicBase ?? runtime.Snapshot.Listener.LocalBase;

    private static string PageUrl(string server, string scope)
        => server.Length == 0 ? "/connect" : $"/connect?server={Uri.EscapeDataString(server)}{(scope.Length == 0 ? string.Empty : $"&scope={Uri.EscapeDataString(scope)}")}";

    private static string Union(string? a, string b)
        => string.Join(' ', (a ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries).Union(b.Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal));

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.ConnectionMade, LogLevel.Information, "Connected upstream '{Server}' for {Owner}")]
        public static partial void Connected(ILogger logger, string server, string owner);

        [LoggerMessage(Observability.EventIds.ConnectionRemoved, LogLevel.Information, "Removed the connection of upstream '{Server}' for {Owner} ({Revocation})")]
        public static partial void Removed(ILogger logger, string server, string owner, string revocation);

        [LoggerMessage(Observability.EventIds.ConnectionRefused, LogLevel.Information, "A connection of upstream '{Server}' was not made: {Problem}")]
        public static partial void Refused(ILogger logger, string server, string problem);
    }
}
