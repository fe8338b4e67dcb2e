using System.Buffers.Text;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Archestra.Edge.Upstreams.OAuth;

/// <summary>How the gateway identifies itself to an upstream's authorization server.</summary>
internal sealed record OAuthClientIdentity(string ClientId, string? ClientSecret, string AuthMethod);

/// <summary>Tokens from a token endpoint: the access token, when it expires, and the refresh token (rotated or not).</summary>
internal sealed record UpstreamTokens(string AccessToken, DateTimeOffset? ExpiresAt, string? RefreshToken, string? Scope);

/// <summary>A pending authorization: what the callback needs to finish it (PKCE verifier, state, where to return).</summary>
internal sealed record PendingUpstreamAuthorization(string State, string Verifier, Uri RedirectUri, Uri AuthorizationUrl);

/// <summary>
/// The gateway as an OAuth 2.1 client of an upstream: registration (RFC 7591) when no client is configured,
/// the authorization request with PKCE S256 and the resource indicator (RFC 8707), the code exchange and the refresh
/// (with rotation: a new refresh token replaces the old one), client authentication as the server supports it
/// (<c>client_secret_basic</c>, <c>client_secret_post</c>, <c>none</c>). Responses are bounded like metadata.
/// </summary>
internal static class UpstreamOAuthClient
{
    /// <summary>
    /// The client the gateway is at this authorization server, in the spec's order of preference: a pre-registered
    /// client; the gateway's own client ID metadata document (<paramref name="metadataDocument"/>, an https URL the
    /// server can fetch) where the server takes those; else one registered now (dynamic client registration).
    /// </summary>
    public static async Task<(OAuthClientIdentity? Client, string? Error)> IdentifyAsync(HttpClient http, UpstreamAuthorization authorization,
        string? clientId, string? clientSecret, Uri redirectUri, string clientName, CancellationToken cancellationToken, Uri? metadataDocument = null)
    {
        if (clientId is not null)
        {
            return (Configured(authorization, clientId, clientSecret), null);
        }

        if (authorization.ClientIdMetadataDocuments && metadataDocument is { Scheme: "https" })
        {
            return (new OAuthClientIdentity(metadataDocument.ToString(), null, "none"), null);
        }

        if (authorization.RegistrationEndpoint is not { } register)
        {
            return (null, $"the authorization server {authorization.Issuer} does not offer registration; configure oauth.client_id");
        }

        var body = new MemoryStream();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("client_name", clientName);
            writer.WriteStartArray("redirect_uris");
            writer.WriteStringValue(redirectUri.ToString());
            writer.WriteEndArray();
            writer.WriteStartArray("grant_types");
            writer.WriteStringValue("authorization_code");
            writer.WriteStringValue("refresh_token");
            writer.WriteEndArray();
            writer.WriteStartArray("response_types");
            writer.WriteStringValue("code");
            writer.WriteEndArray();
            writer.WriteString("token_endpoint_auth_method", "none");
            if (authorization.Scope is { } scope)
            {
                writer.WriteString("scope", scope);
            }

            writer.WriteEndObject();
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, register) { Content = new ByteArrayContent(body.ToArray()) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var (document, error) = await SendAsync(http, request, cancellationToken).ConfigureAwait(false);
        if (document is not { } registered)
        {
            return (null, $"registration at {register} failed: {error}");
        }

        if (!registered.TryGetProperty("client_id", out var id) || id.GetString() is not { Length: > 0 } assigned)
        {
            return (null, $"registration at {register} returned no client_id");
        }

        var secret = registered.TryGetProperty("client_secret", out var s) ? s.GetString() : null;
        return (new OAuthClientIdentity(assigned, secret, AuthMethodFor(authorization, secret)), null);
    }

    /// <summary>A client registered beforehand, authenticating as the server supports.</summary>
    public static OAuthClientIdentity Configured(UpstreamAuthorization authorization, string clientId, string? clientSecret)
        => new(clientId, clientSecret, AuthMethodFor(authorization, clientSecret));

    /// <summary>The authorization URL to send the user to, with a fresh state and PKCE verifier.</summary>
    public static PendingUpstreamAuthorization BeginAuthorization(UpstreamAuthorization authorization, OAuthClientIdentity client, Uri redirectUri, string? scope)
    {
        var verifier = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var state = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));
        var query = new StringBuilder();
        void Add(string name, string value) => query.Append(query.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        var existing = authorization.AuthorizationEndpoint.Query;
        Add("response_type", "code");
        Add("client_id", client.ClientId);
        Add("redirect_uri", redirectUri.ToString());
        Add("code_challenge", challenge);
        Add("code_challenge_method", "S256");
        Add("state", state);
        Add("resource", authorization.Resource.ToString());
        if ((scope ?? authorization.Scope) is { } asked)
        {
            Add("scope", asked);
        }

        var url = existing.Length > 1
            ? new Uri(authorization.AuthorizationEndpoint.AbsoluteUri + "&" + query.ToString(1, query.Length - 1))
            : new Uri(authorization.AuthorizationEndpoint.GetLeftPart(UriPartial.Path) + query);
        return new PendingUpstreamAuthorization(state, verifier, redirectUri, url);
    }

    public static Task<(UpstreamTokens? Tokens, string? Error)> ExchangeCodeAsync(HttpClient http, UpstreamAuthorization authorization, OAuthClientIdentity client,
        PendingUpstreamAuthorization pending, string code, CancellationToken cancellationToken)
        => TokenAsync(http, authorization, client,
            [new("grant_type", "authorization_code"), new("code", code), new("redirect_uri", pending.RedirectUri.ToString()), new("code_verifier", pending.Verifier), new("resource", authorization.Resource.ToString())],
            previousRefresh: null, cancellationToken);

    /// <summary>A machine connection's tokens (<c>client_credentials</c>): the client authenticates, nobody is asked.</summary>
    public static Task<(UpstreamTokens? Tokens, string? Error)> ClientCredentialsAsync(HttpClient http, UpstreamAuthorization authorization, OAuthClientIdentity client,
        string? scope, CancellationToken cancellationToken)
    {
        List<KeyValuePair<string, string>> form = [new("grant_type", "client_credentials"), new("resource", authorization.Resource.ToString())];
        if ((scope ?? authorization.Scope) is { } asked)
        {
            form.Add(new("scope", asked));
        }

        return TokenAsync(http, authorization, client, form, previousRefresh: null, cancellationToken);
    }

    public static Task<(UpstreamTokens? Tokens, string? Error)> RefreshAsync(HttpClient http, UpstreamAuthorization authorization, OAuthClientIdentity client,
        string refreshToken, CancellationToken cancellationToken)
        => TokenAsync(http, authorization, client,
            [new("grant_type", "refresh_token"), new("refresh_token", refreshToken), new("resource", authorization.Resource.ToString())],
            refreshToken, cancellationToken);

    /// <summary>
    /// Tells the authorization server the connection's tokens are no longer wanted (RFC 7009): the refresh token (which
    /// ends the grant at most servers), then the access token. Best effort: an error or a server without a revocation
    /// endpoint is reported, and the connection is forgotten here either way.
    /// </summary>
    public static async Task<string?> RevokeAsync(HttpClient http, UpstreamConnection connection, CancellationToken cancellationToken)
    {
        if (connection.Authorization.RevocationEndpoint is not { } endpoint)
        {
            return "the authorization server offers no revocation endpoint";
        }

        string? problem = null;
        foreach (var (token, hint) in new[] { (connection.Tokens.RefreshToken, "refresh_token"), (connection.Tokens.AccessToken, "access_token") })
        {
            if (token is null)
            {
                continue;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint);
            List<KeyValuePair<string, string>> form = [new("token", token), new("token_type_hint", hint)];
            Authenticate(request, connection.Client, form);
            request.Content = new FormUrlEncodedContent(form);
            try
            {
                using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    problem ??= $"revoking the {hint.Replace('_', ' ')} answered HTTP {(int)response.StatusCode}";
                }
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                problem ??= $"cannot reach {endpoint}: {(ex is OperationCanceledException ? "no answer within 10 seconds" : ex.Message)}";
            }
        }

        return problem;
    }

    private static async Task<(UpstreamTokens? Tokens, string? Error)> TokenAsync(HttpClient http, UpstreamAuthorization authorization, OAuthClientIdentity client,
        List<KeyValuePair<string, string>> form, string? previousRefresh, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, authorization.TokenEndpoint);
        Authenticate(request, client, form);
        request.Content = new FormUrlEncodedContent(form);
        var (document, error) = await SendAsync(http, request, cancellationToken).ConfigureAwait(false);
        if (document is not { } tokens)
        {
            return (null, error);
        }

        if (!tokens.TryGetProperty("access_token", out var access) || access.GetString() is not { Length: > 0 } accessToken)
        {
            return (null, "the token response has no access_token");
        }

        DateTimeOffset? expires = tokens.TryGetProperty("expires_in", out var e) && e.TryGetInt64(out var seconds) && seconds > 0
            ? DateTimeOffset.UtcNow.AddSeconds(seconds)
            : null;
        var refresh = tokens.TryGetProperty("refresh_token", out var r) && r.GetString() is { Length: > 0 } rotated ? rotated : previousRefresh;
        var scope = tokens.TryGetProperty("scope", out var s) ? s.GetString() : null;
        return (new UpstreamTokens(accessToken, expires, refresh, scope), null);
    }

    /// <summary>Client authentication at the token and revocation endpoints, as the client was set up to do it.</summary>
    private static void Authenticate(HttpRequestMessage request, OAuthClientIdentity client, List<KeyValuePair<string, string>> form)
    {
        switch (client.AuthMethod)
        {
            case "client_secret_basic":
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                    Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(client.ClientId)}:{Uri.EscapeDataString(client.ClientSecret ?? string.Empty)}")));
                break;
            case "client_secret_post":
                form.Add(new("client_id", client.ClientId));
                form.Add(new("client_secret", client.ClientSecret ?? string.Empty));
                break;
            default:
                form.Add(new("client_id", client.ClientId));
                break;
        }
    }

    private static async Task<(JsonElement? Document, string? Error)> SendAsync(HttpClient http, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            JsonDocument? document = null;
            try
            {
                document = JsonDocument.Parse(body);
            }
            catch (JsonException) when (!response.IsSuccessStatusCode)
            {
                // An error page, not an OAuth error: the status says enough.
            }

            using (document)
            {
                var root = document?.RootElement ?? default;
                if (!response.IsSuccessStatusCode || root.ValueKind != JsonValueKind.Object)
                {
                    var reason = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var code) ? code.GetString() : null;
                    return (null, $"HTTP {(int)response.StatusCode}{(reason is null ? string.Empty : $" ({reason})")}");
                }

                return (root.Clone(), null);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return (null, ex is OperationCanceledException ? "no answer within 10 seconds" : ex.Message);
        }
    }

    /// <summary>A secret goes in the header when the server takes it so (the OAuth default), else in the form; no secret, no authentication.</summary>
    private static string AuthMethodFor(UpstreamAuthorization authorization, string? secret)
        => secret is null ? "none"
            : authorization.TokenEndpointAuthMethods.Contains("client_secret_basic") ? "client_secret_basic"
            : authorization.TokenEndpointAuthMethods.Contains("client_secret_post") ? "client_secret_post"
            : "client_secret_basic";
}
