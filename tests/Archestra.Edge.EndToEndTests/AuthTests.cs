using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>A gateway with teams, users, tokens, access rules and per-caller credentials.</summary>
public sealed class AuthFixture : IAsyncLifetime
{
    public const string Alice = "archestra_alice-personal-token-0000000000000000000";
    public const string Bob = "archestra_bob-personal-token-00000000000000000000000";
    public const string Carol = "archestra_carol-personal-token-000000000000000000000";
    public const string PlatformTeam = "archestra_platform-team-token-0000000000000000000";
    public const string OrgAdmin = "archestra_org-admin-token-000000000000000000000000";
    public const string AliceNarrow = "archestra_alice-narrow-token-00000000000000000000";
    public const string AliceExpired = "archestra_alice-expired-token-0000000000000000000";

    internal TestServerProcess Remote { get; private set; } = null!;

    internal GatewayProcess Gateway { get; private set; } = null!;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("archestra-auth-").FullName;

    public string Yaml { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        Remote = await TestServerProcess.StartHttpAsync("remote");
        Yaml = $$"""
            server: { data_dir: "{{DataDirectory}}" }
            teams: [platform, data]
            users:
              alice: { teams: [platform] }
              bob: { teams: [data] }
              carol: { teams: [platform] }
            credentials:
              github:
                default: org-secret
                teams: { platform: platform-secret }
                users: { alice: alice-secret }
              strict:
                users: { alice: only-alice }
            servers:
              edge: { builtin: archestra }
              remote:
                remote:
                  url: "{{Remote.Url}}"
                  headers: { Authorization: "Bearer ${credential:github}" }
              picky:
                remote:
                  url: "{{Remote.Url}}"
                  headers: { X-Strict: "${credential:strict}" }
            profiles:
              platform-tools:
                access: { teams: [platform] }
                tools: [{ server: edge }, { server: remote, include: [headers, identify] }]
              everyone:
                access: { org: true }
                tools: [{ server: edge }, { server: remote, include: [headers] }, { server: picky, include: [headers] }]
              alice-only:
                access: { users: [alice] }
                tools: [{ server: edge }]
            auth:
              bearer:
                tokens:
                  - { name: alice, sha256: {{Sha(Alice)}}, scope: "user:alice" }
                  - { name: bob, sha256: {{Sha(Bob)}}, scope: "user:bob" }
                  - { name: carol, sha256: {{Sha(Carol)}}, scope: "user:carol" }
                  - { name: platform, sha256: {{Sha(PlatformTeam)}}, scope: "team:platform" }
                  - { name: admin, sha256: {{Sha(OrgAdmin)}}, scope: org }
                  - { name: alice-narrow, sha256: {{Sha(AliceNarrow)}}, scope: "user:alice", profiles: [everyone] }
                  - { name: alice-expired, sha256: {{Sha(AliceExpired)}}, scope: "user:alice", expires: 2020-01-01 }
              oauth: { authorization_server: builtin }
            """;
        Gateway = await GatewayProcess.StartAsync(Yaml);
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Remote.DisposeAsync();
        Directory.Delete(DataDirectory, recursive: true);
    }

    public static string Sha(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}

public sealed class AuthTests : IClassFixture<AuthFixture>
{
    private readonly AuthFixture _fixture;

    public AuthTests(AuthFixture fixture)
    {
        _fixture = fixture;
    }

    private Uri Profile(string name) => _fixture.Gateway.ProfileUrl(name);

    [Fact]
    public async Task NoToken_Is401_PointingAtTheProtectedResourceMetadata()
    {
        using var client = new RawMcpClient(Profile("platform-tools"));
        using var response = await client.SendAsync(InitializeBody);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        var metadataUrl = $"{_fixture.Gateway.BaseUrl.ToString().TrimEnd('/')}/.well-known/oauth-protected-resource/v1/mcp/platform-tools";
        Assert.Equal($"Bearer resource_metadata=\"{metadataUrl}\"", challenge);

        using var http = new HttpClient();
        var metadata = JsonNode.Parse(await http.GetStringAsync(metadataUrl))!;
        Assert.Equal(Profile("platform-tools").ToString(), metadata["resource"]!.GetValue<string>());
        Assert.Equal(_fixture.Gateway.BaseUrl.ToString().TrimEnd('/'), metadata["authorization_servers"]![0]!.GetValue<string>());
        var server = JsonNode.Parse(await http.GetStringAsync(new Uri(_fixture.Gateway.BaseUrl, "/.well-known/oauth-authorization-server")))!;
        Assert.Equal(["S256"], server["code_challenge_methods_supported"]!.AsArray().Select(m => m!.GetValue<string>()).ToArray());
        Assert.NotNull(server["registration_endpoint"]);
        var oidc = JsonNode.Parse(await http.GetStringAsync(new Uri(_fixture.Gateway.BaseUrl, "/.well-known/openid-configuration")))!;
        Assert.Equal(server["issuer"]!.GetValue<string>(), oidc["issuer"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("archestra_never-issued-token-000000000000000000000")]
    [InlineData(AuthFixture.AliceExpired)]
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.")]
    [InlineData("not-a-token-at-all")]
    public async Task InvalidExpiredOrForgedTokens_Are401InvalidToken(string token)
    {
        using var response = await SendAsync(Profile("everyone"), token, InitializeBody);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(token, _fixture.Gateway.Process.Output, StringComparison.Ordinal); // never logged in clear
    }

    [Theory]
    [InlineData(AuthFixture.Alice, "platform-tools", HttpStatusCode.OK)]
    [InlineData(AuthFixture.Carol, "platform-tools", HttpStatusCode.OK)]
    [InlineData(AuthFixture.PlatformTeam, "platform-tools", HttpStatusCode.OK)]
    [InlineData(AuthFixture.OrgAdmin, "platform-tools", HttpStatusCode.OK)]
    [InlineData(AuthFixture.Bob, "platform-tools", HttpStatusCode.Forbidden)]
    [InlineData(AuthFixture.Bob, "everyone", HttpStatusCode.OK)]
    [InlineData(AuthFixture.Carol, "alice-only", HttpStatusCode.Forbidden)]
    [InlineData(AuthFixture.PlatformTeam, "alice-only", HttpStatusCode.Forbidden)]
    [InlineData(AuthFixture.AliceNarrow, "everyone", HttpStatusCode.OK)]
    [InlineData(AuthFixture.AliceNarrow, "alice-only", HttpStatusCode.Forbidden)]
    public async Task ProfileAccess_IsDecidedByTheTokensScope(string token, string profile, HttpStatusCode expected)
    {
        using var response = await SendAsync(Profile(profile), token, InitializeBody);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
        {
            Assert.Contains("error=\"insufficient_scope\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ASession_BelongsToItsPrincipal_AnotherOneGets404()
    {
        using var alice = new RawMcpClient(Profile("everyone"));
        alice.BearerToken = AuthFixture.Alice;
        await alice.InitializeAsync();

        using var carol = new RawMcpClient(Profile("everyone")) { SessionId = alice.SessionId, BearerToken = AuthFixture.Carol };
        using var stolen = await carol.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""");
        Assert.Equal(HttpStatusCode.NotFound, stolen.StatusCode);
        using var stolenStream = await carol.GetStreamAsync();
        Assert.Equal(HttpStatusCode.NotFound, stolenStream.StatusCode);

        // The same user with another of their tokens is the same party.
        alice.BearerToken = AuthFixture.AliceNarrow;
        var listed = await alice.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/list"}""");
        Assert.NotNull(listed["result"]);

        // A forged session id is just unknown.
        using var forged = new RawMcpClient(Profile("everyone")) { SessionId = "forged-session-id", BearerToken = AuthFixture.Alice };
        using var forgedResponse = await forged.SendAsync("""{"jsonrpc":"2.0","id":3,"method":"tools/list"}""");
        Assert.Equal(HttpStatusCode.NotFound, forgedResponse.StatusCode);
    }

    [Fact]
    public async Task UpstreamCredentials_AreTheCallersOwn_ThenTheirTeams_ThenTheDefault_AndTheClientTokenNeverLeaves()
    {
        Assert.Equal("Bearer alice-secret", await UpstreamAuthorizationAsync(AuthFixture.Alice, "platform-tools"));
        Assert.Equal("Bearer platform-secret", await UpstreamAuthorizationAsync(AuthFixture.Carol, "platform-tools"));
        Assert.Equal("Bearer platform-secret", await UpstreamAuthorizationAsync(AuthFixture.PlatformTeam, "platform-tools"));
        Assert.Equal("Bearer org-secret", await UpstreamAuthorizationAsync(AuthFixture.Bob, "everyone"));
        Assert.Equal("Bearer org-secret", await UpstreamAuthorizationAsync(AuthFixture.OrgAdmin, "everyone"));
    }

    [Fact]
    public async Task MissingCredential_IsAToolErrorTheModelCanRead()
    {
        using var bob = new RawMcpClient(Profile("everyone")) { BearerToken = AuthFixture.Bob };
        await bob.InitializeAsync();
        var result = await bob.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"picky__headers"}}""");

        Assert.True(result["result"]!["isError"]!.GetValue<bool>());
        Assert.Contains("needs the credential 'strict'", result["result"]!["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);

        using var alice = new RawMcpClient(Profile("everyone")) { BearerToken = AuthFixture.Alice };
        await alice.InitializeAsync();
        var allowed = await alice.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"picky__headers"}}""");
        var headers = JsonNode.Parse(allowed["result"]!["content"]![0]!["text"]!.GetValue<string>())!;
        Assert.Equal("only-alice", headers["X-Strict"]!.GetValue<string>());
    }

    [Fact]
    public async Task AdminApi_NeedsAnOrganisationToken_AndManagesTokens()
    {
        using var http = new HttpClient { BaseAddress = _fixture.Gateway.BaseUrl };
        using (var anonymous = await http.GetAsync("/admin/tokens"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using (var team = await Send(http, HttpMethod.Get, "/admin/tokens", AuthFixture.PlatformTeam))
        {
            Assert.Equal(HttpStatusCode.Forbidden, team.StatusCode);
        }

        using var created = await Send(http, HttpMethod.Post, "/admin/tokens", AuthFixture.OrgAdmin, """{"name":"ci","scope":"team:platform","profiles":["platform-tools"]}""");
        var body = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var secret = body["token"]!.GetValue<string>();
        Assert.StartsWith("archestra_", secret, StringComparison.Ordinal);

        using (var works = await SendAsync(Profile("platform-tools"), secret, InitializeBody))
        {
            Assert.Equal(HttpStatusCode.OK, works.StatusCode);
        }

        using var listed = await Send(http, HttpMethod.Get, "/admin/tokens", AuthFixture.OrgAdmin);
        var list = await listed.Content.ReadAsStringAsync();
        Assert.Contains("\"ci\"", list, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, list, StringComparison.Ordinal); // secrets are shown once, at creation

        using (var revoked = await Send(http, HttpMethod.Delete, $"/admin/tokens/{body["id"]!.GetValue<string>()}", AuthFixture.OrgAdmin))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        using var refused = await SendAsync(Profile("platform-tools"), secret, InitializeBody);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode); // at once
    }

    [Fact]
    public async Task TokenCommand_CreatesAndRevokes_WhileTheGatewayRuns_AndRevocationSurvivesARestart()
    {
        var configPath = Path.Combine(_fixture.DataDirectory, "token-test.yaml");
        await File.WriteAllTextAsync(configPath, _fixture.Yaml);
        await using var create = ChildProcess.Start(Repository.GatewayBinary, ["token", "create", "--config", configPath, "--scope", "user:carol", "--name", "carol-cli", "--expires", "1d"]);
        Assert.Equal(0, await create.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        var secret = create.Output.Split('\n').First(l => l.StartsWith("archestra_", StringComparison.Ordinal)).Trim();

        // The running gateway sees the new token within a second or so.
        await Eventually.TrueAsync(async () =>
        {
            using var response = await SendAsync(Profile("platform-tools"), secret, InitializeBody);
            return response.StatusCode == HttpStatusCode.OK;
        }, seconds: 10);

        await using var revoke = ChildProcess.Start(Repository.GatewayBinary, ["token", "revoke", "carol-cli", "--config", configPath]);
        Assert.Equal(0, await revoke.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        await Eventually.TrueAsync(async () =>
        {
            using var response = await SendAsync(Profile("platform-tools"), secret, InitializeBody);
            return response.StatusCode == HttpStatusCode.Unauthorized;
        }, seconds: 10);

        await using var list = ChildProcess.Start(Repository.GatewayBinary, ["token", "list", "--config", configPath]);
        Assert.Equal(0, await list.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Matches(@"carol-cli\s+user:carol\s+\*\s+\S+ \S+\s+revoked", list.Output);
        Assert.DoesNotContain(secret, list.Output, StringComparison.Ordinal);

        // A second gateway on the same data directory: the revocation holds.
        await using var restarted = await GatewayProcess.StartAsync(_fixture.Yaml);
        using var after = await SendAsync(restarted.ProfileUrl("platform-tools"), secret, InitializeBody);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    private async Task<string> UpstreamAuthorizationAsync(string token, string profile)
    {
        using var client = new RawMcpClient(Profile(profile)) { BearerToken = token };
        await client.InitializeAsync();
        var result = await client.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"remote__headers"}}""");
        var text = result["result"]!["content"]![0]!["text"]!.GetValue<string>();
        Assert.DoesNotContain("archestra_", text, StringComparison.Ordinal);
        return JsonNode.Parse(text)!["Authorization"]!.GetValue<string>();
    }

    private static Task<HttpResponseMessage> SendAsync(Uri profile, string token, string body)
    {
        var client = new RawMcpClient(profile) { BearerToken = token };
        return client.SendAsync(body);
    }

    private static Task<HttpResponseMessage> Send(HttpClient http, HttpMethod method, string path, string token, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return http.SendAsync(request);
    }

    private const string InitializeBody = """{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";
}
