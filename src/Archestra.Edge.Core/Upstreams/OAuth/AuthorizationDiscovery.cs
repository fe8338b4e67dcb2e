using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Archestra.Edge.Upstreams.OAuth;

/// <summary>Where and how an upstream MCP server wants its callers authorized, as discovered.</summary>
internal sealed record UpstreamAuthorization(
    Uri Resource,
    Uri Issuer,
    Uri AuthorizationEndpoint,
    Uri TokenEndpoint,
    Uri? RegistrationEndpoint,
    IReadOnlyList<string> TokenEndpointAuthMethods,
    string? Scope,
    bool ClientIdMetadataDocuments)
{
    /// <summary>Where tokens are revoked (RFC 7009), if the authorization server says.</summary>
    public Uri? RevocationEndpoint { get; init; }
}

/// <summary>
/// Finds an upstream's authorization server as the MCP authorization spec says: the server's 401 and its
/// <c>WWW-Authenticate</c> challenge (<c>resource_metadata</c>, <c>scope</c>) → RFC 9728 protected-resource metadata
/// (the challenge's URL, else the well-known URL with the path, else at the root) → RFC 8414 authorization-server
/// metadata or OpenID discovery (path-inserted and appended variants). Without protected-resource metadata, the
/// 2025-03-26 rules: the authorization server is the MCP server's origin, its metadata at the well-known URL there,
/// else the default endpoints <c>/authorize</c>, <c>/token</c>, <c>/register</c>. Every document is bounded by the
/// client (<see cref="CreateClient"/>: 64 KiB, 10 s, no redirects followed), and only https (or loopback http) is spoken.
/// </summary>
internal static class AuthorizationDiscovery
{
    internal const int MaxDocumentBytes = 64 * 1024;

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The HTTP client of every OAuth exchange with an upstream: over <paramref name="handler"/> (which must not follow
    /// redirects), answers buffered up to <see cref="MaxDocumentBytes"/> (more is an error) within 10 seconds.
    /// </summary>
    public static HttpClient CreateClient(HttpMessageHandler handler)
        => new(handler, disposeHandler: false) { MaxResponseContentBufferSize = MaxDocumentBytes, Timeout = s_timeout };

    public static async Task<(UpstreamAuthorization? Found, string? Error)> DiscoverAsync(HttpClient http, Uri server, CancellationToken cancellationToken)
    {
        if (!Allowed(server))
        {
            return (null, $"'{server}' is neither https nor a loopback http address");
        }

        var (resourceMetadataUrl, scope) = await ChallengeAsync(http, server, cancellationToken).ConfigureAwait(false);
        JsonElement? resourceMetadata = null;
        foreach (var candidate in resourceMetadataUrl is { } given ? [given] : ProtectedResourceCandidates(server))
        {
            if (await GetJsonAsync(http, candidate, cancellationToken).ConfigureAwait(false) is { } document)
            {
                resourceMetadata = document;
                break;
            }
        }

        Uri issuer;
        Uri resource = Canonical(server);
        if (resourceMetadata is { } prm)
        {
            if (!prm.TryGetProperty("authorization_servers", out var servers) || servers.ValueKind != JsonValueKind.Array
                || servers.GetArrayLength() == 0 || servers[0].GetString() is not { } first || !Uri.TryCreate(first, UriKind.Absolute, out var parsed) || !Allowed(parsed))
            {
                return (null, "the protected-resource metadata names no usable authorization server");
            }

            issuer = parsed;
            if (prm.TryGetProperty("resource", out var named) && named.GetString() is { } text && Uri.TryCreate(text, UriKind.Absolute, out var declared))
            {
                resource = declared;
            }

            if (scope is null && prm.TryGetProperty("scopes_supported", out var supported) && supported.ValueKind == JsonValueKind.Array)
            {
                var scopes = supported.EnumerateArray().Select(static s => s.GetString()).Where(static s => !string.IsNullOrEmpty(s)).ToArray();
                scope = scopes.Length > 0 ? string.Join(' ', scopes) : null;
            }
        }
        else
        {
            issuer = new Uri(server.GetLeftPart(UriPartial.Authority));
        }

        foreach (var candidate in AuthorizationServerCandidates(issuer))
        {
            if (await GetJsonAsync(http, candidate, cancellationToken).ConfigureAwait(false) is not { } metadata)
            {
                continue;
            }

            var authorize = UriOf(metadata, "authorization_endpoint");
            var token = UriOf(metadata, "token_endpoint");
            if (authorize is null || token is null)
            {
                return (null, $"the authorization server metadata at {candidate} lacks its endpoints");
            }

            var methods = metadata.TryGetProperty("token_endpoint_auth_methods_supported", out var m) && m.ValueKind == JsonValueKind.Array
                ? m.EnumerateArray().Select(static e => e.GetString() ?? string.Empty).ToArray()
                : ["client_secret_basic"];
            var cimd = metadata.TryGetProperty("client_id_metadata_document_supported", out var c) && c.ValueKind == JsonValueKind.True;
            return (new UpstreamAuthorization(resource, issuer, authorize, token, UriOf(metadata, "registration_endpoint"), methods, scope, cimd)
            {
                RevocationEndpoint = UriOf(metadata, "revocation_endpoint"),
            }, null);
        }

        if (resourceMetadata is not null)
        {
            return (null, $"no authorization server metadata found for {issuer}");
        }

        // 2025-03-26: no metadata anywhere; the server's origin serves the default endpoints.
        var origin = issuer;
        return (new UpstreamAuthorization(resource, origin, new Uri(origin, "/authorize"), new Uri(origin, "/token"), new Uri(origin, "/register"),
            ["client_secret_basic", "client_secret_post", "none"], scope, false), null);
    }

    /// <summary>The challenge of an unauthenticated request: where the resource metadata is, and the scope asked for.</summary>
    private static async Task<(Uri? ResourceMetadata, string? Scope)> ChallengeAsync(HttpClient http, Uri server, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, server)
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"archestra-edge","version":"1"}}}""",
                System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Unauthorized)
            {
                return (null, null);
            }

            return Challenge.Parse(response.Headers.WwwAuthenticate) is var (metadata, scope, _)
                ? (metadata is not null && Uri.TryCreate(metadata, UriKind.Absolute, out var url) && Allowed(url) ? url : null, scope)
                : (null, null);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return (null, null);
        }
    }

    /// <summary>RFC 9728 §3: the well-known URL with the resource's path inserted, then at the root.</summary>
    internal static IEnumerable<Uri> ProtectedResourceCandidates(Uri server)
    {
        var origin = server.GetLeftPart(UriPartial.Authority);
        var path = server.AbsolutePath.TrimEnd('/');
        if (path.Length > 0)
        {
            yield return new Uri($"{origin}/.well-known/oauth-protected-resource{path}");
        }

        yield return new Uri($"{origin}/.well-known/oauth-protected-resource");
    }

    /// <summary>RFC 8414 (path inserted) and OpenID discovery (inserted, then appended) for an issuer with a path; the root forms without.</summary>
    internal static IEnumerable<Uri> AuthorizationServerCandidates(Uri issuer)
    {
        var origin = issuer.GetLeftPart(UriPartial.Authority);
        var path = issuer.AbsolutePath.TrimEnd('/');
        if (path.Length > 0)
        {
            yield return new Uri($"{origin}/.well-known/oauth-authorization-server{path}");
            yield return new Uri($"{origin}/.well-known/openid-configuration{path}");
            yield return new Uri($"{origin}{path}/.well-known/openid-configuration");
        }
        else
        {
            yield return new Uri($"{origin}/.well-known/oauth-authorization-server");
            yield return new Uri($"{origin}/.well-known/openid-configuration");
        }
    }

    /// <summary>A JSON object from <paramref name="url"/>, or null (not found, not JSON, too big, not an object).</summary>
    internal static async Task<JsonElement?> GetJsonAsync(HttpClient http, Uri url, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null; // unreachable, too big, too slow, or not JSON
        }
    }

    /// <summary>https anywhere; http only to a loopback address (local development and tests).</summary>
    internal static bool Allowed(Uri url)
        => url.Scheme == Uri.UriSchemeHttps || (url.Scheme == Uri.UriSchemeHttp && url.IsLoopback);

    /// <summary>The resource indicator for a server URL (RFC 8707): no fragment, no query.</summary>
    internal static Uri Canonical(Uri server) => new(server.GetLeftPart(UriPartial.Path));

    private static Uri? UriOf(JsonElement metadata, string name)
        => metadata.TryGetProperty(name, out var value) && value.GetString() is { } text && Uri.TryCreate(text, UriKind.Absolute, out var url) && Allowed(url) ? url : null;
}

/// <summary>The parts of a <c>WWW-Authenticate: Bearer …</c> challenge a client acts on.</summary>
internal static class Challenge
{
    public static (string? ResourceMetadata, string? Scope, string? Error)? Parse(HttpHeaderValueCollection<AuthenticationHeaderValue> headers)
    {
        foreach (var header in headers)
        {
            if (!string.Equals(header.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var parameters = Parameters(header.Parameter ?? string.Empty);
            return (parameters.GetValueOrDefault("resource_metadata"), parameters.GetValueOrDefault("scope"), parameters.GetValueOrDefault("error"));
        }

        return null;
    }

    /// <summary><c>name="value", name=token</c> pairs (RFC 9110 auth-params; quoted strings may hold commas).</summary>
    internal static Dictionary<string, string> Parameters(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && text[i] is ' ' or ',')
            {
                i++;
            }

            var eq = text.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            var name = text[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < text.Length && text[i] == '"')
            {
                var builder = new System.Text.StringBuilder();
                i++;
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                    }

                    builder.Append(text[i++]);
                }

                i++;
                value = builder.ToString();
            }
            else
            {
                var end = text.IndexOf(',', i);
                end = end < 0 ? text.Length : end;
                value = text[i..end].Trim();
                i = end;
            }

            result.TryAdd(name, value);
        }

        return result;
    }
}
