using Archestra.Edge.Contracts;
using Archestra.Edge.Hosting;
using Archestra.Edge.Identity.Jwt;
using Archestra.Edge.Model;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Identity.OAuth;

/// <summary>The token endpoint (code and refresh grants), RFC 7009 revocation and the JWKS of the built-in server.</summary>
internal sealed partial class AuthorizationServerEndpoints
{
    private async Task TokenAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (runtime.Identity is not { AuthorizationServer: { } server })
        {
            await NotFoundAsync(context).ConfigureAwait(false);
            return;
        }

        if (await ReadFormAsync(context).ConfigureAwait(false) is not { } form)
        {
            await OAuthErrorAsync(context, "invalid_request", $"the token request must be application/x-www-form-urlencoded, with at most {MaxFormFields} fields").ConfigureAwait(false);
            return;
        }

        var issuer = runtime.Authenticator.Issuer(context.Request);
        var clientId = form["client_id"].ToString();
        bool UserAllowed(string user, string resource)
        {
            var profile = ProfileOfResource(runtime, context.Request, resource);
            return profile is not null && runtime.Snapshot.Identity.Users.ContainsKey(user)
                && new Principal(PrincipalKind.User, user, runtime.Snapshot.Identity.TeamsOf(user), "oauth").MayUse(profile.Model);
        }

        (IssuedTokens? Tokens, string? Error, string? Description) result = form["grant_type"].ToString() switch
        {
            "authorization_code" => server.RedeemCode(issuer, form["code"].ToString(), clientId, form["redirect_uri"].ToString(), form["code_verifier"].ToString(), UserAllowed),
            "refresh_token" => server.Refresh(issuer, form["refresh_token"].ToString(), clientId, UserAllowed),
            _ => (null, "unsupported_grant_type", "authorization_code and refresh_token are supported"),
        };

        if (result.Tokens is null)
        {
            await OAuthErrorAsync(context, result.Error!, result.Description!).ConfigureAwait(false);
            return;
        }

        var tokens = result.Tokens;
        context.Response.Headers.Pragma = "no-cache";
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK,
            new TokenResponse(tokens.AccessToken, "Bearer", tokens.ExpiresIn, tokens.RefreshToken, tokens.Scope), EdgeJsonContext.Relaxed.TokenResponse).ConfigureAwait(false);
    }

    /// <summary>
    /// RFC 7009 token revocation for public clients: <c>token</c> (a refresh token or an access token of this
    /// server) and <c>client_id</c>. The token's grant is revoked if it is that client's; the answer is 200 whether or
    /// not it was, so the endpoint says nothing about tokens it is shown.
    /// </summary>
    private async Task RevokeAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (runtime.Identity is not { AuthorizationServer: { } server })
        {
            await NotFoundAsync(context).ConfigureAwait(false);
            return;
        }

        if (await ReadFormAsync(context).ConfigureAwait(false) is not { } form)
        {
            await OAuthErrorAsync(context, "invalid_request", $"the revocation request must be application/x-www-form-urlencoded, with at most {MaxFormFields} fields").ConfigureAwait(false);
            return;
        }

        var token = form["token"].ToString();
        var clientId = form["client_id"].ToString();
        if (token.Length == 0 || clientId.Length == 0)
        {
            await OAuthErrorAsync(context, "invalid_request", "token and client_id are required").ConfigureAwait(false);
            return;
        }

        if (token.StartsWith(TokenSecrets.RefreshPrefix, StringComparison.Ordinal))
        {
            server.Grants.RevokeByClient(clientId, token, accessTokenGrant: null);
        }
        else if (runtime.Authenticator.ReadBuiltinToken(context.Request, token) is { } claims
            && JsonWebToken.Text(claims.Payload, "client_id") == clientId && JsonWebToken.Text(claims.Payload, "sid") is { } grant)
        {
            server.Grants.RevokeByClient(clientId, refreshToken: null, grant);
        }

        context.Response.Headers.CacheControl = "no-store";
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    /// <summary>The most fields an OAuth form may have (a token request has at most six).</summary>
    internal const int MaxFormFields = 64;

    /// <summary>
    /// Reads an <c>application/x-www-form-urlencoded</c> body within bounds (fields, key and value lengths; the body
    /// itself is bounded by <c>limits.max_request_bytes</c>). Null for another content type or a body past a bound:
    /// the caller answers with the protocol's error, never a 500.
    /// </summary>
    private static Task<FormCollection?> ReadFormAsync(HttpContext context) => Hosting.HtmlPage.ReadFormAsync(context, MaxFormFields);

    private async Task JwksAsync(HttpContext context)
    {
        if (host.Current.Identity?.Keys is not { } keys)
        {
            await NotFoundAsync(context).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "public, max-age=300";
        await context.Response.Body.WriteAsync(keys.JwksJson()).ConfigureAwait(false);
    }
}
