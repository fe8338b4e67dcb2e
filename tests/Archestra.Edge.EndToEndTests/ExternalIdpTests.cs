using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;
using Archestra.Edge.Testing;
using Jose;

namespace Archestra.Edge.EndToEndTests;

/// <summary>JWTs from an external identity provider, validated locally against its JWKS (served here over loopback).</summary>
public sealed class ExternalIdpTests(ExternalIdpTests.Fixture fixture) : IClassFixture<ExternalIdpTests.Fixture>
{
    private const string Issuer = LoopbackIdentityProvider.Issuer;

    private readonly RSA _rsa = fixture.Rsa;
    private readonly ECDsa _ec = fixture.Ec;
    private readonly GatewayProcess _gateway = fixture.Gateway;

    /// <summary>One gateway for the class: its tests run one after another against it, as clients of one running service do.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        internal RSA Rsa { get; } = RSA.Create(2048);

        internal ECDsa Ec { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        internal LoopbackIdentityProvider Idp { get; private set; } = null!;

        internal GatewayProcess Gateway { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Idp = await LoopbackIdentityProvider.StartAsync();
            Idp.Publish("rsa-1", Rsa);
            Idp.Publish("ec-1", Ec);
            Gateway = await GatewayProcess.StartAsync(Idp.GatewayConfig("RS256, ES256"));
        }

        public async Task DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Idp.DisposeAsync();
            Rsa.Dispose();
            Ec.Dispose();
        }
    }

    private string Resource => _gateway.ProfileUrl("platform-tools").ToString();

    [Fact]
    public async Task ValidTokens_FromTheProvider_AreAccepted_WithTeamsFromTheirGroups()
    {
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(Rs256(Claims())));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(JWT.Encode(Claims().ToJsonString(), _ec, JwsAlgorithm.ES256, Header("ec-1"))));

        // A user the config does not know is admitted through a group that is a team of the config...
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(Rs256(Claims(email: "dave@acme.test", groups: ["platform", "not-a-team"]))));

        // ...and refused with 403 when none of its groups may use the profile.
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(Rs256(Claims(email: "erin@acme.test", groups: ["data"]))));
    }

    [Fact]
    public async Task Attacks_AreRefusedWith401()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var genuine = Rs256(Claims());
        var parts = genuine.Split('.');
        var forgeries = new Dictionary<string, string>
        {
            ["alg none"] = JWT.Encode(Claims().ToJsonString(), null, JwsAlgorithm.none, Header("rsa-1")),
            ["HS256 keyed with the RSA public key"] = JWT.Encode(Claims().ToJsonString(), Encoding.UTF8.GetBytes(_rsa.ExportSubjectPublicKeyInfoPem()), JwsAlgorithm.HS256, Header("rsa-1")),
            ["expired"] = Rs256(Claims(expires: now - 3600)),
            ["not yet valid"] = Rs256(Claims(notBefore: now + 3600)),
            ["wrong issuer"] = Rs256(Claims(issuer: "https://evil.example.test")),
            ["wrong audience"] = Rs256(Claims(audience: "https://other.example.test/v1/mcp/platform-tools")),
            ["tampered signature"] = $"{parts[0]}.{parts[1]}.{parts[2][..^4]}AAAA",
            ["signed by an unknown key"] = JWT.Encode(Claims().ToJsonString(), RSA.Create(2048), JwsAlgorithm.RS256, Header("rsa-1")),
            ["ES256 header on the RSA key"] = JWT.Encode(Claims().ToJsonString(), _ec, JwsAlgorithm.ES256, Header("rsa-1")),
        };

        foreach (var (name, token) in forgeries)
        {
            Assert.True(await StatusAsync(token) == HttpStatusCode.Unauthorized, name);
        }
    }

    // Key rotation and the refresh interval are timed on a fake clock, with the gateway in the test process:
    // Archestra.Edge.Tests/Identity/ExternalIdpClockTests.

    private async Task<HttpStatusCode> StatusAsync(string token)
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("platform-tools")) { BearerToken = token };
        using var response = await client.SendAsync("""{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        return response.StatusCode;
    }

    private string Rs256(JsonObject claims) => JWT.Encode(claims.ToJsonString(), _rsa, JwsAlgorithm.RS256, Header("rsa-1"));

    private static Dictionary<string, object> Header(string kid) => new() { ["kid"] = kid };

    private JsonObject Claims(string email = "alice", string[]? groups = null, long? expires = null, long? notBefore = null, string? issuer = null, string? audience = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var groupArray = new JsonArray();
        foreach (var group in groups ?? ["platform"])
        {
            groupArray.Add(group);
        }

        return new JsonObject
        {
            ["iss"] = issuer ?? Issuer,
            ["sub"] = "f3c1e7",
            ["email"] = email,
            ["groups"] = groupArray,
            ["aud"] = audience ?? Resource,
            ["iat"] = now,
            ["nbf"] = notBefore ?? now,
            ["exp"] = expires ?? now + 600,
        };
    }
}
