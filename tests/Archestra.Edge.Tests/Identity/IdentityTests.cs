using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Archestra.Edge.Identity;
using Archestra.Edge.Identity.Jwt;
using Archestra.Edge.Identity.OAuth;
using Archestra.Edge.Model;
using Archestra.Edge.Upstreams;
using Jose;

namespace Archestra.Edge.Tests.Identity;

public sealed class IdentityTests
{
    private static readonly IdentityModel s_identity = new(
        new[] { "platform", "data" }.ToFrozenSet(),
        new Dictionary<string, ImmutableArray<string>> { ["alice"] = ["platform"], ["bob"] = ["data", "platform"], ["zoe"] = [] }.ToFrozenDictionary(),
        new Dictionary<string, CredentialModel>
        {
            ["github"] = new("github", "org", new Dictionary<string, string> { ["platform"] = "team-platform", ["data"] = "team-data" }.ToFrozenDictionary(),
                new Dictionary<string, string> { ["alice"] = "alice-own" }.ToFrozenDictionary()),
            ["strict"] = new("strict", null, FrozenDictionary<string, string>.Empty, new Dictionary<string, string> { ["alice"] = "only-alice" }.ToFrozenDictionary()),
        }.ToFrozenDictionary());

    [Theory]
    [InlineData("user:alice", "alice-own")]
    [InlineData("user:bob", "team-data")] // the first of the user's teams that has a value
    [InlineData("user:zoe", "org")]
    [InlineData("team:platform", "team-platform")]
    [InlineData("org", "org")]
    public void Credentials_AreTheUsers_ThenTheirTeams_ThenTheDefault(string scope, string expected)
    {
        Assert.True(TokenScope.TryParse(scope, out var parsed));
        var server = Server("github");
        var principal = new Principal(parsed.Kind, parsed.Id, parsed.Kind == PrincipalKind.User ? s_identity.TeamsOf(parsed.Id) : [], "test");
        var (selection, error) = Credentials.Select(server, principal, s_identity);
        Assert.False(error.IsError);
        Assert.Equal($"Bearer {expected}", Credentials.Fill(server, selection).Remote!.Headers[0].Value);
    }

    [Fact]
    public void MissingCredential_SaysWhoHasNone()
    {
        var (_, error) = Credentials.Select(Server("strict"), new Principal(PrincipalKind.User, "bob", ["data"], "test"), s_identity);
        Assert.Equal(UpstreamErrorKind.CredentialMissing, error.Kind);
        Assert.Contains("user:bob", error.Message, StringComparison.Ordinal);
        var (catalog, _) = Credentials.ForCatalog(Server("strict"), s_identity);
        Assert.Equal("strict=user:alice;", catalog.Key); // no default: the first user value, always the same one
    }

    [Fact]
    public void ProfileAccess_ByOrgTeamsUsers_AndTokenNarrowing()
    {
        var teamOnly = Profile("p") with { Access = new AccessModel(false, new[] { "platform" }.ToFrozenSet(), FrozenSet<string>.Empty) };
        Assert.True(new Principal(PrincipalKind.User, "alice", ["platform"], "t").MayUse(teamOnly));
        Assert.False(new Principal(PrincipalKind.User, "zoe", [], "t").MayUse(teamOnly));
        Assert.True(new Principal(PrincipalKind.Team, "platform", [], "t").MayUse(teamOnly));
        Assert.False(new Principal(PrincipalKind.Team, "data", [], "t").MayUse(teamOnly));
        Assert.True(new Principal(PrincipalKind.Org, string.Empty, [], "t").MayUse(teamOnly));
        Assert.False(new Principal(PrincipalKind.Org, string.Empty, [], "t") { Profiles = ["other"] }.MayUse(teamOnly));
    }

    [Fact]
    public void Jwt_SignedHere_VerifiesWithJoseJwt_AndJoseJwtTokensVerifyHere()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var key = JsonWebKey.ForEc("k1", ECDsa.Create(ec.ExportParameters(true)));
        var now = DateTimeOffset.UtcNow;
        var ours = JsonWebToken.Sign(key, w =>
        {
            w.WriteString("iss", "https://gw");
            w.WriteString("sub", "alice");
            w.WriteString("aud", "https://gw/v1/mcp/p");
            w.WriteNumber("exp", now.AddMinutes(5).ToUnixTimeSeconds());
        });
        Assert.Contains("\"sub\":\"alice\"", JWT.Decode(ours, ec, JwsAlgorithm.ES256), StringComparison.Ordinal);

        var theirs = JWT.Encode($$"""{"iss":"https://gw","sub":"bob","aud":["x","https://gw/v1/mcp/p"],"exp":{{now.AddMinutes(5).ToUnixTimeSeconds()}}}""", ec, JwsAlgorithm.ES256);
        Assert.Equal(JwtError.None, JsonWebToken.Validate(theirs, key, ["ES256"], "https://gw", a => a == "https://gw/v1/mcp/p", now, out var claims));
        Assert.Equal("bob", claims!.Subject);
    }

    [Fact]
    public void Jwt_Attacks_AreNamed()
    {
        using var rsa = RSA.Create(2048);
        using var key = JsonWebKey.ForRsa("r", RSA.Create(rsa.ExportParameters(false)));
        var now = DateTimeOffset.UtcNow;
        string Claims(long expOffset = 300, long nbfOffset = 0, string iss = "https://gw", string aud = "a")
            => $$"""{"iss":"{{iss}}","sub":"s","aud":"{{aud}}","exp":{{now.ToUnixTimeSeconds() + expOffset}},"nbf":{{now.ToUnixTimeSeconds() + nbfOffset}}}""";
        JwtError Check(string token) => JsonWebToken.Validate(token, key, ["RS256"], "https://gw", a => a == "a", now, out _);

        Assert.Equal(JwtError.None, Check(JWT.Encode(Claims(), rsa, JwsAlgorithm.RS256)));
        Assert.Equal(JwtError.AlgorithmNotAllowed, Check(JWT.Encode(Claims(), null, JwsAlgorithm.none)));
        Assert.Equal(JwtError.AlgorithmNotAllowed, Check(JWT.Encode(Claims(), Encoding.UTF8.GetBytes(rsa.ExportSubjectPublicKeyInfoPem()), JwsAlgorithm.HS256)));
        Assert.Equal(JwtError.Expired, Check(JWT.Encode(Claims(expOffset: -3600), rsa, JwsAlgorithm.RS256)));
        Assert.Equal(JwtError.None, Check(JWT.Encode(Claims(expOffset: -30), rsa, JwsAlgorithm.RS256))); // within the skew
        Assert.Equal(JwtError.NotYetValid, Check(JWT.Encode(Claims(nbfOffset: 3600), rsa, JwsAlgorithm.RS256)));
        Assert.Equal(JwtError.WrongIssuer, Check(JWT.Encode(Claims(iss: "https://evil"), rsa, JwsAlgorithm.RS256)));
        Assert.Equal(JwtError.WrongAudience, Check(JWT.Encode(Claims(aud: "b"), rsa, JwsAlgorithm.RS256)));
        using var other = RSA.Create(2048);
        Assert.Equal(JwtError.BadSignature, Check(JWT.Encode(Claims(), other, JwsAlgorithm.RS256)));
        Assert.Equal(JwtError.Malformed, Check("a.b"));
    }

    [Fact]
    public void Pkce_S256_Only()
    {
        const string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"; // RFC 7636 appendix B
        Assert.True(AuthorizationServer.VerifierMatches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        Assert.False(AuthorizationServer.VerifierMatches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        Assert.False(AuthorizationServer.VerifierMatches("short", "short"));
    }

    [Theory]
    [InlineData("https://app.example.com/cb", true)]
    [InlineData("http://127.0.0.1:4567/cb", true)]
    [InlineData("http://localhost/cb", true)]
    [InlineData("cursor://anysphere.cursor-retrieval/oauth/callback", true)]
    [InlineData("http://evil.example.com/cb", false)]
    [InlineData("javascript:alert(1)", false)]
    [InlineData("https://app.example.com/cb#fragment", false)]
    [InlineData("not a uri", false)]
    public void RedirectUris_ThatMayBeRegistered(string uri, bool accepted)
        => Assert.Equal(accepted, ClientRegistry.IsAcceptableRedirect(uri));

    [Fact]
    public void LoopbackRedirects_MatchOnAnyPort_OthersExactly()
    {
        var client = new OAuthClient("c", null, ["http://127.0.0.1:1234/cb", "https://app.example.com/cb"], "registered");
        Assert.True(client.Accepts("http://127.0.0.1:5555/cb"));
        Assert.False(client.Accepts("http://127.0.0.1:5555/other"));
        Assert.False(client.Accepts("http://localhost:5555/cb"));
        Assert.True(client.Accepts("https://app.example.com/cb"));
        Assert.False(client.Accepts("https://app.example.com/cb?x=1"));
        Assert.False(client.Accepts("https://app.example.com:8443/cb"));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.20.0.1", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)] // cloud metadata
    [InlineData("100.64.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("93.184.216.34", false)]
    [InlineData("2606:4700::1", false)]
    public void MetadataFetches_NeverReachPrivateAddresses(string address, bool isPrivate)
        => Assert.Equal(isPrivate, ClientRegistry.IsPrivate(IPAddress.Parse(address)));

    [Fact]
    public void TokenStore_FindsByHash_AndRevocationIsImmediate()
    {
        var directory = Directory.CreateTempSubdirectory().FullName;
        try
        {
            var database = Archestra.Edge.Storage.StateStores.Sqlite(directory).Tokens();
            using var store = new TokenStore(database, [new DeclaredToken("declared", TokenSecrets.Hash("archestra_declared"), TokenScope.Org, [], null)],
                TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, watch: false);
            var (record, secret) = store.Create("mine", new TokenScope(PrincipalKind.User, "alice"), ["p"], null);

            Assert.StartsWith("archestra_", secret, StringComparison.Ordinal);
            Assert.True(store.TryFind(TokenSecrets.Hash(secret), out var found));
            Assert.Equal(record.Id, found!.Id);
            Assert.True(store.TryFind(TokenSecrets.Hash("archestra_declared"), out _));
            Assert.False(store.TryFind(TokenSecrets.Hash(secret + "x"), out _));
            Assert.True(store.Revoke("mine"));
            Assert.False(store.TryFind(TokenSecrets.Hash(secret), out _));
            Assert.False(store.Revoke("mine"));
            foreach (var file in Directory.GetFiles(directory, "archestra.db*"))
            {
                Assert.DoesNotContain(secret, Encoding.Latin1.GetString(File.ReadAllBytes(file)), StringComparison.Ordinal); // hashes only
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static ServerModel Server(string credential)
        => new("s", ServerKind.Remote, TimeSpan.FromSeconds(5), new RemoteServerModel(new Uri("https://up.example.com/mcp"),
            [new("Authorization", $"Bearer \u0000{credential}\u0000")]), null, null) { CredentialNames = [credential] };

    private static ProfileModel Profile(string name) => new(name, null, null, null, ToolNaming.Prefixed, "__", [], [], []);
}
