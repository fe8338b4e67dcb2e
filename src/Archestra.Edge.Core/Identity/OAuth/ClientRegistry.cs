using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Archestra.Edge.Model;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Identity.OAuth;

/// <summary>An OAuth client of the built-in server: registered (RFC 7591) or described by its metadata document.</summary>
internal sealed record OAuthClient(string ClientId, string? Name, ImmutableArray<string> RedirectUris, string Kind)
{
    /// <summary>
    /// Exact redirect URI matching, except that a loopback <c>http</c> URI matches on any port (RFC 8252 §7.3: native
    /// apps listen on an ephemeral port).
    /// </summary>
    public bool Accepts(string redirectUri)
    {
        foreach (var registered in RedirectUris)
        {
            if (registered == redirectUri)
            {
                return true;
            }

            if (Uri.TryCreate(registered, UriKind.Absolute, out var a) && Uri.TryCreate(redirectUri, UriKind.Absolute, out var b)
                && a.Scheme == Uri.UriSchemeHttp && b.Scheme == Uri.UriSchemeHttp && ClientRegistry.IsLoopbackHost(a.Host) && a.Host == b.Host
                && a.AbsolutePath == b.AbsolutePath && a.Query == b.Query && string.IsNullOrEmpty(b.Fragment))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// Clients of the built-in authorization server. Dynamic registration stores them in SQLite. A client id that is
/// an https URL is a client ID metadata document: fetched (no redirects, 64 KiB, 5 s, never from a loopback,
/// private or link-local address unless the config allows it), checked to name itself, and cached for 5 minutes.
/// </summary>
internal sealed partial class ClientRegistry : IDisposable
{
    private const int MaxDocumentBytes = 64 * 1024;
    private const int MaxCachedDocuments = 1_000;

    /// <summary>The largest registration request read (RFC 7591 metadata is a few hundred bytes).</summary>
    internal const int MaxRegistrationBytes = 16 * 1024;

    /// <summary>At most this many redirect URIs per client, each at most <see cref="MaxRedirectUriLength"/> characters.</summary>
    internal const int MaxRedirectUris = 10;

    internal const int MaxRedirectUriLength = 2_048;

    /// <summary>A registered client that never completes a sign-in is deleted after this long.</summary>
    internal static readonly TimeSpan UnusedClientLifetime = TimeSpan.FromHours(24);

    /// <summary>A client that signed in at least once is deleted when it has not been used for this long.</summary>
    internal static readonly TimeSpan IdleClientLifetime = TimeSpan.FromDays(90);
    private static readonly TimeSpan s_documentCache = TimeSpan.FromMinutes(5);

    private readonly IClientRepository _clients;
    private readonly BuiltinAuthorizationServerSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _metadata;
    private readonly ConcurrentDictionary<string, (OAuthClient Client, DateTimeOffset FetchedAt)> _documents = new(StringComparer.Ordinal);
    private readonly Gateway.Limits.RateLimiter _registrations;

    public ClientRegistry(IClientRepository clients, BuiltinAuthorizationServerSettings settings, TimeProvider time, ILogger logger)
    {
        _clients = clients;
        _settings = settings;
        _time = time;
        _logger = logger;
        _registrations = new Gateway.Limits.RateLimiter(settings.RegistrationRate, time);
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ConnectCallback = (context, cancellationToken) => ConnectGuardedAsync(context, settings.AllowPrivateMetadataHosts, cancellationToken),
        };
        _metadata = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5), MaxResponseContentBufferSize = MaxDocumentBytes };
    }

    /// <summary>Takes one registration for a client address (<c>registration_rate</c>); false when it must wait.</summary>
    public bool TryAdmitRegistration(string source, out TimeSpan retryAfter) => _registrations.TryAcquire(source, out retryAfter);

    /// <summary>Registers a public client (RFC 7591). Returns the client, or an error description.</summary>
    public (OAuthClient? Client, string? Error) Register(JsonElement request)
    {
        if (!_settings.DynamicClientRegistration)
        {
            return (null, "dynamic client registration is disabled");
        }

        if (request.ValueKind != JsonValueKind.Object || !request.TryGetProperty("redirect_uris", out var uris) || uris.ValueKind != JsonValueKind.Array || uris.GetArrayLength() == 0)
        {
            return (null, "redirect_uris is required");
        }

        if (uris.GetArrayLength() > MaxRedirectUris)
        {
            return (null, $"redirect_uris lists more than {MaxRedirectUris} URIs");
        }

        var redirects = ImmutableArray.CreateBuilder<string>();
        foreach (var uri in uris.EnumerateArray())
        {
            var text = uri.ValueKind == JsonValueKind.String ? uri.GetString()! : string.Empty;
            if (text.Length > MaxRedirectUriLength)
            {
                return (null, $"a redirect URI is longer than {MaxRedirectUriLength} characters");
            }

            if (!IsAcceptableRedirect(text))
            {
                return (null, $"redirect URI '{text}' is not allowed: https, http on a loopback address, or an app's own scheme");
            }

            redirects.Add(text);
        }

        if (request.TryGetProperty("token_endpoint_auth_method", out var method) && method.ValueKind == JsonValueKind.String && method.GetString() != "none")
        {
            return (null, "only public clients (token_endpoint_auth_method: none) are supported; PKCE protects the code");
        }

        var name = request.TryGetProperty("client_name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        var client = new OAuthClient($"client_{Utilities.SecureRandom.HexString(12)}", name is { Length: > 200 } ? name[..200] : name, redirects.ToImmutable(), "registered");
        // Expired registrations go first; then the table's bound holds whatever the sources.
        PruneExpired();
        if (_clients.Count() >= _settings.MaxClients)
        {
            Log.RegistrationFull(_logger, _settings.MaxClients);
            return (null, "the gateway holds as many registered clients as it may; try again later");
        }

        _clients.Add(client, _time.GetUtcNow());
        Log.Registered(_logger, client.ClientId, client.Name ?? "(unnamed)");
        return (client, null);
    }

    /// <summary>Notes that a registered client signed a user in: it is kept while it is used.</summary>
    public void Touch(string clientId)
    {
        if (IsMetadataDocumentId(clientId))
        {
            return;
        }

        _clients.Touch(clientId, _time.GetUtcNow());
    }

    /// <summary>Deletes registrations never used within a day, and those unused for 90 days.</summary>
    public int PruneExpired()
    {
        var now = _time.GetUtcNow();
        return _clients.Prune(now - UnusedClientLifetime, now - IdleClientLifetime);
    }

    /// <summary>The client with this id: registered, or (an https URL) described by its metadata document.</summary>
    public async Task<(OAuthClient? Client, string? Error)> FindAsync(string clientId, CancellationToken cancellationToken)
    {
        if (IsMetadataDocumentId(clientId))
        {
            return await FetchDocumentAsync(clientId, cancellationToken).ConfigureAwait(false);
        }

        return _clients.Find(clientId) is { } client ? (client, null) : (null, "unknown client_id");
    }

    public bool IsMetadataDocumentId(string clientId)
        => Uri.TryCreate(clientId, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || (_settings.AllowPrivateMetadataHosts && uri.Scheme == Uri.UriSchemeHttp))
        && uri.AbsolutePath.Length > 1;

    private async Task<(OAuthClient?, string?)> FetchDocumentAsync(string clientId, CancellationToken cancellationToken)
    {
        if (!_settings.ClientIdMetadataDocuments)
        {
            return (null, "client ID metadata documents are disabled");
        }

        if (_documents.TryGetValue(clientId, out var cached) && _time.GetUtcNow() - cached.FetchedAt < s_documentCache)
        {
            return (cached.Client, null);
        }

        try
        {
            using var response = await _metadata.GetAsync(new Uri(clientId), cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"the client metadata document answered HTTP {(int)response.StatusCode}");
            }

            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("client_id", out var id) || id.ValueKind != JsonValueKind.String || id.GetString() != clientId)
            {
                return (null, "the client metadata document does not name itself as client_id");
            }

            var redirects = ImmutableArray.CreateBuilder<string>();
            if (root.TryGetProperty("redirect_uris", out var uris) && uris.ValueKind == JsonValueKind.Array)
            {
                foreach (var uri in uris.EnumerateArray())
                {
                    if (uri.ValueKind == JsonValueKind.String && IsAcceptableRedirect(uri.GetString()!))
                    {
                        redirects.Add(uri.GetString()!);
                    }
                }
            }

            if (redirects.Count == 0)
            {
                return (null, "the client metadata document lists no acceptable redirect_uris");
            }

            var name = root.TryGetProperty("client_name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            var client = new OAuthClient(clientId, name, redirects.ToImmutable(), "metadata");
            if (_documents.Count >= MaxCachedDocuments)
            {
                // Bounded: expired entries go first; a flood of distinct documents empties the cache (they are refetched).
                var now = _time.GetUtcNow();
                foreach (var (key, entry) in _documents)
                {
                    if (now - entry.FetchedAt >= s_documentCache)
                    {
                        _documents.TryRemove(key, out _);
                    }
                }

                if (_documents.Count >= MaxCachedDocuments)
                {
                    _documents.Clear();
                }
            }

            _documents[clientId] = (client, _time.GetUtcNow());
            return (client, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or IOException)
        {
            return (null, $"cannot fetch the client metadata document: {ex.Message}");
        }
    }

    /// <summary>https anywhere; http only to loopback; or a native app's own scheme (never javascript:, data:, file:).</summary>
    internal static bool IsAcceptableRedirect(string uri)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || !string.IsNullOrEmpty(parsed.Fragment))
        {
            return false;
        }

        return parsed.Scheme switch
        {
            "https" => true,
            "http" => IsLoopbackHost(parsed.Host),
            "javascript" or "data" or "file" or "vbscript" or "about" or "blob" or "ftp" or "ws" or "wss" => false,
            _ => parsed.Scheme.Contains('.', StringComparison.Ordinal) || parsed.Scheme.Length > 2,
        };
    }

    internal static bool IsLoopbackHost(string host) => host is "localhost" or "127.0.0.1" or "[::1]" or "::1";

    /// <summary>Connects only to public addresses (unless allowed): the SSRF guard of metadata fetches, applied after DNS.</summary>
    private static async ValueTask<Stream> ConnectGuardedAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken cancellationToken)
    {
        var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken).ConfigureAwait(false);
        foreach (var address in addresses)
        {
            if (!allowPrivate && IsPrivate(address))
            {
                continue;
            }

            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException)
            {
                socket.Dispose();
            }
        }

        throw new HttpRequestException($"refused to fetch from {context.DnsEndPoint.Host}: no public address (loopback, private and link-local addresses are not fetched)");
    }

    internal static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast)
        {
            return true;
        }

        var bytes = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return bytes[0] is 10 or 0 or 127 || (bytes[0] == 172 && bytes[1] is >= 16 and <= 31) || (bytes[0] == 192 && bytes[1] == 168)
                || (bytes[0] == 169 && bytes[1] == 254) || (bytes[0] == 100 && bytes[1] is >= 64 and <= 127) || bytes[0] >= 224;
        }

        return (bytes[0] & 0xFE) == 0xFC; // fc00::/7 unique local
    }

    public void Dispose() => _metadata.Dispose();

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.OAuthClientRegistered, LogLevel.Information, "Registered OAuth client {ClientId} ({Name})")]
        public static partial void Registered(ILogger logger, string clientId, string name);

        [LoggerMessage(Observability.EventIds.OAuthRegistrationFull, LogLevel.Warning, "Client registration refused: {Max} registered clients is the bound (auth.oauth.builtin.max_clients)")]
        public static partial void RegistrationFull(ILogger logger, int max);
    }
}
