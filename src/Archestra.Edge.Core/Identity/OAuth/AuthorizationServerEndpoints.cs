using System.Net;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Contracts;
using Archestra.Edge.Gateway;
using Archestra.Edge.Hosting;
using Archestra.Edge.Identity.Jwt;
using Archestra.Edge.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Identity.OAuth;

/// <summary>
/// The OAuth endpoints: RFC 9728 protected resource metadata per profile, RFC 8414 authorization server metadata
/// (and the OIDC discovery alias), and — with the built-in server — registration and the authorize page (here), the
/// token and revocation endpoints and the JWKS (<c>AuthorizationServerEndpoints.Tokens.cs</c>).
/// </summary>
internal sealed partial class AuthorizationServerEndpoints(GatewayHost host, ILogger<AuthorizationServerEndpoints> logger)
{
    private const string CsrfCookie = "archestra_csrf";

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/oauth-protected-resource/v1/mcp/{profile}", (RequestDelegate)ProtectedResourceMetadataAsync);
        app.MapGet("/.well-known/oauth-authorization-server", (RequestDelegate)AuthorizationServerMetadataAsync);
        app.MapGet("/.well-known/openid-configuration", (RequestDelegate)AuthorizationServerMetadataAsync);
        app.MapPost("/oauth/register", (RequestDelegate)RegisterAsync);
        app.MapGet("/oauth/authorize", (RequestDelegate)AuthorizeAsync);
        app.MapPost("/oauth/authorize", (RequestDelegate)DecideAsync);
        app.MapPost("/oauth/token", (RequestDelegate)TokenAsync);
        app.MapPost("/oauth/revoke", (RequestDelegate)RevokeAsync);
        app.MapGet("/oauth/jwks", (RequestDelegate)JwksAsync);
    }

    private Task ProtectedResourceMetadataAsync(HttpContext context)
    {
        var runtime = host.Current;
        var name = context.Request.RouteValues["profile"] as string ?? string.Empty;
        var auth = runtime.Authenticator;
        if (!auth.Enabled || !runtime.Profiles.TryGetValue(name, out var profile))
        {
            return NotFoundAsync(context);
        }

        string[] servers = auth.Settings.OAuth switch
        {
            OAuthMode.Builtin => [auth.Issuer(context.Request)],
            OAuthMode.External => [auth.Settings.External!.Issuer],
            _ => [],
        };
        var metadata = new ProtectedResourceMetadata(auth.ResourceUrl(context.Request, name), servers, ["header"], ["mcp"], profile.Model.Title ?? $"Archestra Edge · {name}");
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, metadata, EdgeJsonContext.Relaxed.ProtectedResourceMetadata);
    }

    private Task AuthorizationServerMetadataAsync(HttpContext context)
    {
        var runtime = host.Current;
        var auth = runtime.Authenticator;
        if (auth.Settings.OAuth != OAuthMode.Builtin || runtime.Identity?.Keys is null)
        {
            return NotFoundAsync(context);
        }

        var issuer = auth.Issuer(context.Request);
        var settings = auth.Settings.Builtin;
        var metadata = new AuthorizationServerMetadata(
            Issuer: issuer,
            AuthorizationEndpoint: $"{issuer}/oauth/authorize",
            TokenEndpoint: $"{issuer}/oauth/token",
            JwksUri: $"{issuer}/oauth/jwks",
            RevocationEndpoint: $"{issuer}/oauth/revoke",
            RegistrationEndpoint: settings.DynamicClientRegistration ? $"{issuer}/oauth/register" : null,
            ResponseTypesSupported: ["code"],
            GrantTypesSupported: ["authorization_code", "refresh_token"],
            CodeChallengeMethodsSupported: ["S256"],
            TokenEndpointAuthMethodsSupported: ["none"],
            RevocationEndpointAuthMethodsSupported: ["none"],
            ScopesSupported: ["mcp"],
            IdTokenSigningAlgValuesSupported: [settings.SigningAlgorithm],
            SubjectTypesSupported: ["public"],
            ClientIdMetadataDocumentSupported: settings.ClientIdMetadataDocuments,
            AuthorizationResponseIssParameterSupported: true);
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, metadata, EdgeJsonContext.Relaxed.AuthorizationServerMetadata);
    }

    private async Task RegisterAsync(HttpContext context)
    {
        var identity = host.Current.Identity;
        if (identity?.Clients is not { } clients)
        {
            await NotFoundAsync(context).ConfigureAwait(false);
            return;
        }

        // Unauthenticated: each source address gets auth.oauth.builtin.registration_rate, and the body is read up to
        // a small bound (registration metadata is a few hundred bytes).
        var source = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (!clients.TryAdmitRegistration(source, out var retryAfter))
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await JsonResponse.WriteAsync(context, StatusCodes.Status429TooManyRequests,
                new OAuthErrorResponse("temporarily_unavailable", "too many registrations from this address; try again later"), EdgeJsonContext.Relaxed.OAuthErrorResponse).ConfigureAwait(false);
            return;
        }

        var body = await ReadBoundedAsync(context.Request, ClientRegistry.MaxRegistrationBytes, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            await OAuthErrorAsync(context, "invalid_client_metadata", $"the registration request is larger than {ClientRegistry.MaxRegistrationBytes} bytes").ConfigureAwait(false);
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            await OAuthErrorAsync(context, "invalid_client_metadata", "the body is not JSON").ConfigureAwait(false);
            return;
        }

        using (document)
        {
            var (client, error) = clients.Register(document.RootElement);
            if (client is null)
            {
                await OAuthErrorAsync(context, error!.StartsWith("redirect", StringComparison.Ordinal) ? "invalid_redirect_uri" : "invalid_client_metadata", error).ConfigureAwait(false);
                return;
            }

            var registered = new ClientRegistrationResponse(client.ClientId, identity.Time.GetUtcNow().ToUnixTimeSeconds(), client.Name, [.. client.RedirectUris],
                "none", ["authorization_code", "refresh_token"], ["code"]);
            await JsonResponse.WriteAsync(context, StatusCodes.Status201Created, registered, EdgeJsonContext.Relaxed.ClientRegistrationResponse).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// GET /oauth/authorize: checks the client and its redirect URI first (errors before that are shown, never
    /// redirected), then the rest (errors redirect back with <c>error=</c>), then shows the login and consent page.
    /// </summary>
    private async Task AuthorizeAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (runtime.Identity is not { Clients: { } clients, AuthorizationServer: { } server })
        {
            await NotFoundAsync(context).ConfigureAwait(false);
            return;
        }

        var query = context.Request.Query;
        var clientId = query["client_id"].ToString();
        var redirectUri = query["redirect_uri"].ToString();
        var (client, clientError) = clientId.Length == 0 ? (null, "client_id is missing") : await clients.FindAsync(clientId, context.RequestAborted).ConfigureAwait(false);
        if (client is null)
        {
            await PageAsync(context, StatusCodes.Status400BadRequest, "Unknown application", $"This sign-in link names an application the gateway does not know ({clientError}).").ConfigureAwait(false);
            return;
        }

        if (!client.Accepts(redirectUri))
        {
            Log.Refused(logger, clientId, "unregistered redirect_uri");
            await PageAsync(context, StatusCodes.Status400BadRequest, "Unregistered redirect", "This sign-in link would send you to an address the application did not register, so the gateway stops here.").ConfigureAwait(false);
            return;
        }

        var state = query["state"].ToString();
        var issuer = runtime.Authenticator.Issuer(context.Request);
        if (query["response_type"] != "code")
        {
            RedirectWithError(context, redirectUri, state, issuer, "unsupported_response_type", "only response_type=code is supported");
            return;
        }

        var challenge = query["code_challenge"].ToString();
        if (query["code_challenge_method"] != "S256" || challenge.Length is < 43 or > 128)
        {
            RedirectWithError(context, redirectUri, state, issuer, "invalid_request", "PKCE with code_challenge_method=S256 is required");
            return;
        }

        var resource = query["resource"].ToString();
        var profile = ProfileOfResource(runtime, context.Request, resource);
        if (profile is null)
        {
            RedirectWithError(context, redirectUri, state, issuer, "invalid_target", "resource must be the URL of a profile of this gateway");
            return;
        }

        var pending = server.Pending.Begin(client.ClientId, client.Name, redirectUri, challenge, state.Length == 0 ? null : state, runtime.Authenticator.ResourceUrl(context.Request, profile.Name), profile.Name, query["scope"].ToString() is { Length: > 0 } scope ? scope : null);
        context.Response.Cookies.Append(CsrfCookie, pending.Csrf, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/oauth",
            MaxAge = PendingAuthorizations.Lifetime,
        });
        await PageAsync(context, StatusCodes.Status200OK, "Sign in to Archestra Edge", ConsentForm(pending, profile, null), raw: true, redirectUri: pending.RedirectUri).ConfigureAwait(false);
    }

    /// <summary>POST /oauth/authorize: the user signs in with a personal token and approves, or denies.</summary>
    private async Task DecideAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (runtime.Identity is not { AuthorizationServer: { } server })
        {
            await NotFoundAsync(context).ConfigureAwait(false);
            return;
        }

        if (await ReadFormAsync(context).ConfigureAwait(false) is not { } form)
        {
            await PageAsync(context, StatusCodes.Status400BadRequest, "Not a sign-in form", "This request did not come from the gateway's sign-in page. Start again from the application.").ConfigureAwait(false);
            return;
        }

        var pending = server.Pending.Open(form["request_id"].ToString(), form["csrf"].ToString(), context.Request.Cookies[CsrfCookie]);
        if (pending is null)
        {
            await PageAsync(context, StatusCodes.Status400BadRequest, "Sign-in expired", "This sign-in request is unknown, expired, or was already used (or the form did not come from this page). Start again from the application.").ConfigureAwait(false);
            return;
        }

        context.Response.Cookies.Delete(CsrfCookie, new CookieOptions { Path = "/oauth" });
        var issuer = runtime.Authenticator.Issuer(context.Request);
        if (form["decision"] != "approve")
        {
            RedirectWithError(context, pending.RedirectUri, pending.State ?? string.Empty, issuer, "access_denied", "the user denied the request");
            return;
        }

        var check = runtime.Authenticator.CheckBearer(form["token"].ToString());
        var profile = runtime.Profiles[pending.Profile];
        string? problem = check.Outcome != AuthOutcome.Ok ? "That token is not valid (unknown, revoked or expired)."
            : check.Principal!.Kind != PrincipalKind.User ? "Sign in with a personal token (scope user:…), not a team or organisation token."
            : !check.Principal.MayUse(profile.Model) ? $"{check.Principal.Name} may not use the profile '{profile.Name}'."
            : null;
        if (problem is not null)
        {
            // A fresh request, so the page can be submitted again.
            var retry = server.Pending.Begin(pending.ClientId, pending.ClientName, pending.RedirectUri, pending.CodeChallenge, pending.State, pending.Resource, pending.Profile, pending.Scope);
            context.Response.Cookies.Append(CsrfCookie, retry.Csrf, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/oauth", MaxAge = PendingAuthorizations.Lifetime });
            await PageAsync(context, StatusCodes.Status200OK, "Sign in to Archestra Edge", ConsentForm(retry, profile, problem), raw: true, redirectUri: retry.RedirectUri).ConfigureAwait(false);
            return;
        }

        if (!server.Pending.MarkUsed(pending))
        {
            await PageAsync(context, StatusCodes.Status400BadRequest, "Sign-in expired", "This sign-in request was already used. Start again from the application.").ConfigureAwait(false);
            return;
        }

        var code = server.IssueCode(pending, check.Principal!.Id);
        runtime.Identity.Clients?.Touch(pending.ClientId);
        var target = new StringBuilder(pending.RedirectUri);
        target.Append(pending.RedirectUri.Contains('?', StringComparison.Ordinal) ? '&' : '?');
        target.Append("code=").Append(Uri.EscapeDataString(code));
        if (pending.State is { } state)
        {
            target.Append("&state=").Append(Uri.EscapeDataString(state));
        }

        target.Append("&iss=").Append(Uri.EscapeDataString(issuer));
        context.Response.Redirect(target.ToString());
    }

    /// <summary>The profile whose resource URL this is (a trailing slash tolerated).</summary>
    private static ProfileRuntime? ProfileOfResource(GatewayRuntime runtime, HttpRequest request, string resource)
    {
        var prefix = $"{runtime.Authenticator.BaseUrl(request)}/v1/mcp/";
        if (!resource.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var name = resource[prefix.Length..].TrimEnd('/');
        return runtime.Profiles.GetValueOrDefault(name);
    }

    private static void RedirectWithError(HttpContext context, string redirectUri, string state, string issuer, string error, string description)
    {
        var target = new StringBuilder(redirectUri);
        target.Append(redirectUri.Contains('?', StringComparison.Ordinal) ? '&' : '?');
        target.Append("error=").Append(error).Append("&error_description=").Append(Uri.EscapeDataString(description));
        if (state.Length > 0)
        {
            target.Append("&state=").Append(Uri.EscapeDataString(state));
        }

        target.Append("&iss=").Append(Uri.EscapeDataString(issuer));
        context.Response.Redirect(target.ToString());
    }

    private static string ConsentForm(PendingAuthorization pending, ProfileRuntime profile, string? problem)
    {
        var client = WebUtility.HtmlEncode(pending.ClientName ?? "An application");
        var clientId = WebUtility.HtmlEncode(pending.ClientId);
        var profileName = WebUtility.HtmlEncode(profile.Model.Title ?? profile.Name);
        var redirect = WebUtility.HtmlEncode(new Uri(pending.RedirectUri).GetLeftPart(UriPartial.Authority));
        var error = problem is null ? string.Empty : $"<p class=\"error\" role=\"alert\">{WebUtility.HtmlEncode(problem)}</p>";
        return $"""
            <p><strong>{client}</strong> <span class="muted">({clientId})</span> asks to use the MCP profile <strong>{profileName}</strong> on your behalf.
            It will be sent back to <code>{redirect}</code>.</p>
            {error}
            <form method="post" action="/oauth/authorize">
              <input type="hidden" name="request_id" value="{WebUtility.HtmlEncode(pending.Id)}">
              <input type="hidden" name="csrf" value="{pending.Csrf}">
              <label for="token">Your personal token (<code>archestra_…</code>, scope <code>user:…</code>)</label>
              <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" autofocus>
              <div class="buttons">
                <button type="submit" name="decision" value="approve">Sign in and allow</button>
                <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
              </div>
            </form>
            """;
    }

    private static Task PageAsync(HttpContext context, int status, string title, string body, bool raw = false, string? redirectUri = null)
        => Hosting.HtmlPage.WriteAsync(context, status, title, raw ? body : $"<p>{WebUtility.HtmlEncode(body)}</p>", Hosting.HtmlPage.FormTarget(redirectUri));

    private Task OAuthErrorAsync(HttpContext context, string error, string description)
    {
        Log.Refused(logger, error, description);
        return JsonResponse.WriteAsync(context, StatusCodes.Status400BadRequest, new OAuthErrorResponse(error, description), EdgeJsonContext.Relaxed.OAuthErrorResponse);
    }

    /// <summary>The whole body if it is at most <paramref name="limit"/> bytes, else null (nothing past the limit is read).</summary>
    private static async Task<byte[]?> ReadBoundedAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        var buffer = new byte[limit + 1];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer.AsSpan(0, length).ToArray();
            }

            length += read;
        }

        return null;
    }

    private static Task NotFoundAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.OAuthRequestRefused, LogLevel.Information, "OAuth request refused: {Error} ({Description})")]
        public static partial void Refused(ILogger logger, string error, string description);
    }
}
