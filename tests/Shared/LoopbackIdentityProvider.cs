using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Jose;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Testing;

/// <summary>
/// An external identity provider's JWKS endpoint on a loopback port: the keys it publishes can change while a test
/// runs (a rotation), and every fetch is counted. Shared by the in-process and the end-to-end tests.
/// </summary>
internal sealed class LoopbackIdentityProvider : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, JsonObject> _published = new(StringComparer.Ordinal);
    private int _fetches;

    private LoopbackIdentityProvider(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The issuer its tokens name.</summary>
    public const string Issuer = "https://idp.example.test/realms/acme";

    public string JwksUri => $"{_app.Urls.First()}/jwks";

    /// <summary>
    /// A gateway config that trusts this provider: teams <c>platform</c> and <c>data</c>, user <c>alice</c> (platform),
    /// the profile <c>platform-tools</c> for the platform team, users from <c>email</c>, teams from <c>groups</c>, keys
    /// cached 10 minutes and re-fetched for an unknown key id at most every 5 s.
    /// </summary>
    public string GatewayConfig(string algorithms) => $$"""
        teams: [platform, data]
        users:
          alice: { teams: [platform] }
        servers:
          edge: { builtin: archestra }
        profiles:
          platform-tools:
            access: { teams: [platform] }
            tools: [{ server: edge }]
        auth:
          oauth:
            authorization_server: external
            external:
              issuer: {{Issuer}}
              jwks_uri: {{JwksUri}}
              algorithms: [{{algorithms}}]
              claims: { user: email, teams: groups }
              jwks_cache_ttl: 10m
              jwks_refresh_interval: 5s
        """;

    /// <summary>How many times the JWKS was fetched.</summary>
    public int Fetches => Volatile.Read(ref _fetches);

    public static async Task<LoopbackIdentityProvider> StartAsync()
    {
        var provider = new LoopbackIdentityProvider(LoopbackApp.Create());
        provider._app.MapGet("/jwks", (RequestDelegate)(context =>
        {
            Interlocked.Increment(ref provider._fetches);
            context.Response.ContentType = "application/json";
            var keys = new JsonArray();
            foreach (var key in provider._published.OrderBy(k => k.Key, StringComparer.Ordinal))
            {
                keys.Add(key.Value.DeepClone());
            }

            return context.Response.WriteAsync(new JsonObject { ["keys"] = keys }.ToJsonString());
        }));
        await provider._app.StartAsync();
        return provider;
    }

    public void Publish(string kid, RSA rsa)
    {
        var p = rsa.ExportParameters(false);
        _published[kid] = new JsonObject { ["kty"] = "RSA", ["kid"] = kid, ["use"] = "sig", ["alg"] = "RS256", ["n"] = Base64Url.Encode(p.Modulus!), ["e"] = Base64Url.Encode(p.Exponent!) };
    }

    public void Publish(string kid, ECDsa ec)
    {
        var p = ec.ExportParameters(false);
        _published[kid] = new JsonObject { ["kty"] = "EC", ["kid"] = kid, ["use"] = "sig", ["crv"] = "P-256", ["x"] = Base64Url.Encode(p.Q.X!), ["y"] = Base64Url.Encode(p.Q.Y!) };
    }

    /// <summary>Signs <paramref name="claims"/> as this provider would, naming <paramref name="kid"/> in the header.</summary>
    public static string Sign(JsonObject claims, object key, JwsAlgorithm algorithm, string kid)
        => JWT.Encode(claims.ToJsonString(), key, algorithm, new Dictionary<string, object> { ["kid"] = kid });

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
