using Archestra.Edge.Identity.Jwt;
using Archestra.Edge.Identity.OAuth;
using Archestra.Edge.Model;
using Archestra.Edge.Storage;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Identity;

/// <summary>
/// What identity needs beyond the config: the state stores, the token store, the built-in server's signing keys
/// and the external provider's key cache. One per gateway process (it outlives config reloads).
/// </summary>
internal sealed class IdentityServices : IDisposable
{
    private readonly HttpMessageHandler _http;

    public IdentityServices(GatewaySnapshot snapshot, StateStores? stores, TimeProvider time, ILoggerFactory loggerFactory, Fleet.FleetNode? fleet = null)
    {
        var logger = loggerFactory.CreateLogger("Archestra.Edge.Identity");
        Time = time;
        Stores = stores;
        Tokens = new TokenStore(stores?.Tokens(), snapshot.Auth.Tokens, time, logger);
        _http = new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(5), PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (snapshot.Auth.OAuth == OAuthMode.Builtin && stores is not null)
        {
            var builtin = snapshot.Auth.Builtin;
            Keys = new SigningKeys(stores.SigningKeys, builtin.SigningAlgorithm, builtin.AccessTokenTtl, time, logger);
            Clients = new ClientRegistry(stores.Clients, builtin, time, logger);
            AuthorizationServer = new AuthorizationServer(stores.Grants, Keys, builtin, time, logger, new GrantStore(stores.Grants, builtin.AccessTokenTtl, time, logger, Tokens.Refresh), fleet?.ConsentKey);
        }

        if (snapshot.Auth.External is { } external)
        {
            Jwks = new JwksCache(external.JwksUri, external.JwksCacheTtl, external.JwksRefreshInterval, time, _http, logger);
        }
    }

    public TimeProvider Time { get; }

    private string? _listenBase;

    /// <summary>
    /// The base URL of the first address the gateway listens on (a wildcard host read as <c>localhost</c>), known once
    /// Kestrel has bound it; the issuer when <c>server.public_url</c> is not set. Never taken from a request.
    /// </summary>
    public string? ListenBase => Volatile.Read(ref _listenBase);

    /// <summary>Records the bound address once, at start-up.</summary>
    public void SetListenAddress(string address)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri))
        {
            return;
        }

        var host = Configuration.Validation.ConfigCompiler.IsWildcardHost(uri.Host) ? "localhost" : uri.Host;
        var port = uri.IsDefaultPort ? string.Empty : $":{uri.Port}";
        Interlocked.CompareExchange(ref _listenBase, $"{uri.Scheme}://{host}{port}", null);
    }

    /// <summary>The local state (null for a host without it: declared tokens only, no built-in server).</summary>
    public StateStores? Stores { get; }

    public TokenStore Tokens { get; }

    /// <summary>The built-in authorization server's keys (null unless it is on).</summary>
    public SigningKeys? Keys { get; }

    /// <summary>OAuth clients of the built-in server (null unless it is on).</summary>
    public ClientRegistry? Clients { get; }

    /// <summary>Codes, tokens and consent of the built-in server (null unless it is on).</summary>
    public AuthorizationServer? AuthorizationServer { get; }

    /// <summary>The external provider's keys (null unless it is configured).</summary>
    public JwksCache? Jwks { get; }

    public void Dispose()
    {
        Tokens.Dispose();
        Keys?.Dispose();
        Jwks?.Dispose();
        Clients?.Dispose();
        _http.Dispose();
    }
}
