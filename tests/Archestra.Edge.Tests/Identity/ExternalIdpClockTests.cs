using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Archestra.Edge.Testing;
using Archestra.Edge.Tests.Infrastructure;
using Jose;
using Microsoft.Extensions.Time.Testing;

namespace Archestra.Edge.Tests.Identity;

/// <summary>
/// The external IdP's keys over time, with the gateway in this process on a fake clock: a rotation is picked up
/// once, and tokens naming unknown keys cause at most one JWKS fetch per <c>jwks_refresh_interval</c> — counted
/// exactly, since no time passes that the test does not move.
/// </summary>
public sealed class ExternalIdpClockTests : IAsyncLifetime
{
    private const string Issuer = LoopbackIdentityProvider.Issuer;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RSA _rotated = RSA.Create(2048);
    private LoopbackIdentityProvider _idp = null!;
    private InProcessGateway _gateway = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync()
    {
        _idp = await LoopbackIdentityProvider.StartAsync();
        _idp.Publish("rsa-1", _rsa);
        _gateway = await InProcessGateway.StartAsync(_idp.GatewayConfig("RS256"), _time);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
        await _idp.DisposeAsync();
        _rsa.Dispose();
        _rotated.Dispose();
    }

    [Fact]
    public async Task ARotation_IsFetchedOnce_AndUnknownKeyIdsCostOneFetchPerRefreshInterval()
    {
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(Token(_rsa, "rsa-1")));
        Assert.Equal(1, _idp.Fetches);

        // The provider rotates. Within the refresh interval a token with the new key id is refused without a fetch...
        _idp.Publish("rsa-2", _rotated);
        var rotated = Token(_rotated, "rsa-2");
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(rotated));
        Assert.Equal(1, _idp.Fetches);

        // ...and once it has passed, the first one fetches the keys again, and every later one uses them.
        _time.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(rotated));
        }

        Assert.Equal(2, _idp.Fetches);

        // A flood of tokens naming keys nobody has: one fetch per interval, however many tokens.
        using var stranger = RSA.Create(2048);
        for (var interval = 0; interval < 3; interval++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(Token(stranger, $"made-up-{interval}-{i}")));
            }

            Assert.Equal(3 + interval, _idp.Fetches);
        }

        // The known keys kept working throughout.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(Token(_rsa, "rsa-1")));
    }

    private async Task<HttpStatusCode> StatusAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _gateway.ProfileUrl("platform-tools"))
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request);
        return response.StatusCode;
    }

    private string Token(RSA key, string kid)
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = "f3c1e7",
            ["email"] = "alice",
            ["groups"] = new JsonArray("platform"),
            ["aud"] = _gateway.ProfileUrl("platform-tools").ToString(),
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + 600,
        };
        return LoopbackIdentityProvider.Sign(claims, key, JwsAlgorithm.RS256, kid);
    }
}
