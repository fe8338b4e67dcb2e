using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;
using Jose;

namespace Archestra.Edge.EndToEndTests;

/// <summary>The built-in OAuth 2.1 authorization server: the real dance with real clients, and the attacks it refuses.</summary>
public sealed class OAuthTests : IClassFixture<AuthFixture>
{
    private readonly AuthFixture _fixture;

    public OAuthTests(AuthFixture fixture)
    {
        _fixture = fixture;
    }

    private string Resource(string profile) => _fixture.Gateway.ProfileUrl(profile).ToString();

    [Fact]
    public async Task TypeScriptClient_DiscoversRegistersSignsInInChromium_CallsRefreshes_AndAReusedRefreshTokenIsRefused()
    {
        var script = Path.Combine(Repository.Root, "tests", "node", "clients", "oauth-dance.mjs");
        await using var node = ChildProcess.Start(Repository.Node, [script, Resource("platform-tools"), Repository.Chromium],
            environment: new Dictionary<string, string> { ["PERSONAL_TOKEN"] = AuthFixture.Alice });
        var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(90));
        Assert.True(exit == 0, node.Output);
        var report = JsonNode.Parse(node.Output.Split('\n').Last(l => l.StartsWith('{')))!;

        Assert.Equal("unauthorized", report["firstError"]!.GetValue<string>());
        Assert.StartsWith("client_", report["registeredClientId"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("Sign in to Archestra Edge", report["pageTitle"]!.GetValue<string>());
        Assert.True(report["pageMentionsClient"]!.GetValue<bool>());
        Assert.True(report["callbackHasCode"]!.GetValue<bool>());
        Assert.Equal(_fixture.Gateway.BaseUrl.ToString().TrimEnd('/'), report["callbackIss"]!.GetValue<string>());
        Assert.Contains("edge__whoami", report["tools"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Contains("user:alice", report["whoami"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.True(report["refreshRotated"]!.GetValue<bool>());
        Assert.True(report["callAfterRefresh"]!.GetValue<bool>());
        Assert.Equal(400, report["reuse"]!["status"]!.GetValue<int>());
        Assert.Equal("invalid_grant", report["reuse"]!["body"]!["error"]!.GetValue<string>());
        Assert.Equal("invalid_grant", report["afterReuse"]!["body"]!["error"]!.GetValue<string>()); // the whole grant is gone
        Assert.DoesNotContain(AuthFixture.Alice, _fixture.Gateway.Process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AccessToken_WorksForItsProfileOnly()
    {
        using var flow = new OAuthFlow(_fixture.Gateway.BaseUrl);
        var (_, tokens) = await flow.SignInAsync(Resource("everyone"), AuthFixture.Alice);
        var access = tokens["access_token"]!.GetValue<string>();

        using (var everyone = new RawMcpClient(_fixture.Gateway.ProfileUrl("everyone")) { BearerToken = access })
        {
            await everyone.InitializeAsync();
        }

        // Alice may use alice-only, but this token was issued for another resource (RFC 8707 audience).
        using var other = new RawMcpClient(_fixture.Gateway.ProfileUrl("alice-only")) { BearerToken = access };
        using var response = await other.SendAsync(InitializeBody);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RevokedGrants_StopTheirAccessTokensAtOnce_ByTheClient_TheAdminApi_AndTheGrantsCommand()
    {
        using var flow = new OAuthFlow(_fixture.Gateway.BaseUrl);
        using var http = new HttpClient();
        var metadata = JsonNode.Parse(await http.GetStringAsync(new Uri(_fixture.Gateway.BaseUrl, "/.well-known/oauth-authorization-server")))!;
        Assert.Equal($"{_fixture.Gateway.BaseUrl.ToString().TrimEnd('/')}/oauth/revoke", metadata["revocation_endpoint"]!.GetValue<string>());

        // RFC 7009, by the client, with its access token: another client's attempt changes nothing (and says nothing).
        var (clientId, tokens) = await flow.SignInAsync(Resource("everyone"), AuthFixture.Alice);
        var access = tokens["access_token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, await InitializeStatusAsync(access));
        Assert.Equal(HttpStatusCode.OK, await RevokeAsync(http, access, "client_someone-else"));
        Assert.Equal(HttpStatusCode.OK, await InitializeStatusAsync(access));
        Assert.Equal(HttpStatusCode.OK, await RevokeAsync(http, access, clientId));
        Assert.Equal(HttpStatusCode.Unauthorized, await InitializeStatusAsync(access));
        var (refreshStatus, refreshBody) = await flow.TokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens["refresh_token"]!.GetValue<string>(), ["client_id"] = clientId });
        Assert.Equal(HttpStatusCode.BadRequest, refreshStatus);
        Assert.Equal("invalid_grant", refreshBody["error"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, await RevokeAsync(http, "archestra_rt_not-a-token", clientId)); // unknown: 200 all the same

        // ... and with its refresh token: the access token goes with it.
        (clientId, tokens) = await flow.SignInAsync(Resource("everyone"), AuthFixture.Alice);
        access = tokens["access_token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, await RevokeAsync(http, tokens["refresh_token"]!.GetValue<string>(), clientId));
        Assert.Equal(HttpStatusCode.Unauthorized, await InitializeStatusAsync(access));

        // The admin API lists the user's grants and revokes one by id.
        (clientId, tokens) = await flow.SignInAsync(Resource("everyone"), AuthFixture.Alice);
        access = tokens["access_token"]!.GetValue<string>();
        using var list = new HttpRequestMessage(HttpMethod.Get, new Uri(_fixture.Gateway.BaseUrl, "/admin/grants?user=alice"));
        list.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AuthFixture.OrgAdmin);
        using var listed = await http.SendAsync(list);
        var grants = JsonNode.Parse(await listed.Content.ReadAsStringAsync())!["grants"]!.AsArray();
        var grant = grants.Single(g => g!["client_id"]!.GetValue<string>() == clientId && g["revoked_at"] is null)!;
        Assert.Equal("alice", grant["user"]!.GetValue<string>());
        Assert.Equal(Resource("everyone"), grant["resource"]!.GetValue<string>());
        Assert.True(grants.Count(g => g!["revoked_at"] is not null) >= 2, grants.ToJsonString()); // the two above (other tests may add more)
        using var delete = new HttpRequestMessage(HttpMethod.Delete, new Uri(_fixture.Gateway.BaseUrl, $"/admin/grants/{grant["id"]!.GetValue<string>()}"));
        delete.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AuthFixture.OrgAdmin);
        using var deleted = await http.SendAsync(delete);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await InitializeStatusAsync(access));

        // The grants command, from another process: the running gateway refuses the access token within a second or so.
        (_, tokens) = await flow.SignInAsync(Resource("everyone"), AuthFixture.Alice);
        access = tokens["access_token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, await InitializeStatusAsync(access));
        await using var revoke = ChildProcess.Start(Repository.GatewayBinary, ["grants", "revoke", "--user", "alice", "--config", _fixture.Gateway.ConfigPath]);
        Assert.True(await revoke.WaitForExitAsync(TimeSpan.FromSeconds(20)) == 0, revoke.Output);
        Assert.Matches(@"revoked \d+ grant\(s\)", revoke.Output);
        await Eventually.TrueAsync(async () => await InitializeStatusAsync(access) == HttpStatusCode.Unauthorized, seconds: 10);

        await using var listCommand = ChildProcess.Start(Repository.GatewayBinary, ["grants", "list", "--user", "alice", "--config", _fixture.Gateway.ConfigPath]);
        Assert.Equal(0, await listCommand.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.DoesNotContain(" active ", listCommand.Output, StringComparison.Ordinal);
        Assert.Contains(" revoked ", listCommand.Output, StringComparison.Ordinal);
    }

    private async Task<HttpStatusCode> InitializeStatusAsync(string accessToken)
    {
        using var client = new RawMcpClient(_fixture.Gateway.ProfileUrl("everyone")) { BearerToken = accessToken };
        using var response = await client.SendAsync(InitializeBody);
        return response.StatusCode;
    }

    private async Task<HttpStatusCode> RevokeAsync(HttpClient http, string token, string clientId)
    {
        using var response = await http.PostAsync(new Uri(_fixture.Gateway.BaseUrl, "/oauth/revoke"),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token, ["client_id"] = clientId }));
        return response.StatusCode;
    }

    [Fact]
    public async Task ForgedAccessTokens_AreRefused()
    {
        using var flow = new OAuthFlow(_fixture.Gateway.BaseUrl);
        var (_, tokens) = await flow.SignInAsync(Resource("everyone"), AuthFixture.Alice);
        var genuine = tokens["access_token"]!.GetValue<string>();
        var parts = genuine.Split('.');
        var payload = JsonNode.Parse(Base64Url.Decode(parts[1]))!;
        using var http = new HttpClient();
        var jwks = await http.GetStringAsync(new Uri(_fixture.Gateway.BaseUrl, "/oauth/jwks"));

        var tampered = payload.DeepClone();
        tampered["sub"] = "carol";
        var forgeries = new Dictionary<string, string>
        {
            ["tampered payload"] = $"{parts[0]}.{Base64Url.Encode(Encoding.UTF8.GetBytes(tampered.ToJsonString()))}.{parts[2]}",
            ["tampered signature"] = $"{parts[0]}.{parts[1]}.{parts[2][..^4]}AAAA",
            ["alg none"] = JWT.Encode(payload.ToJsonString(), null, JwsAlgorithm.none),
            ["HS256 keyed with the public JWKS"] = JWT.Encode(payload.ToJsonString(), Encoding.UTF8.GetBytes(jwks), JwsAlgorithm.HS256,
                new Dictionary<string, object> { ["kid"] = JsonNode.Parse(jwks)!["keys"]![0]!["kid"]!.GetValue<string>() }),
        };

        foreach (var (name, token) in forgeries)
        {
            using var client = new RawMcpClient(_fixture.Gateway.ProfileUrl("everyone")) { BearerToken = token };
            using var response = await client.SendAsync(InitializeBody);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{name}: {response.StatusCode}");
        }
    }

    [Fact]
    public async Task ReusedCode_WrongVerifier_AndUnregisteredRedirect_AreRefused()
    {
        using var flow = new OAuthFlow(_fixture.Gateway.BaseUrl);
        var clientId = await flow.RegisterAsync();
        var (verifier, challenge) = OAuthFlow.Pkce();

        // An unregistered redirect URI: an error page, never a redirect.
        using (var page = await flow.Http.GetAsync(flow.AuthorizeUrl(clientId, "https://evil.example.com/steal", challenge, Resource("everyone"))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
            Assert.Null(page.Headers.Location);
            Assert.Contains("Unregistered redirect", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A loopback redirect matches on any port (RFC 8252), and the page shows the client.
        var redirect = await flow.ApproveAsync(flow.AuthorizeUrl(clientId, OAuthFlow.Redirect.Replace("41999", "42000", StringComparison.Ordinal), challenge, Resource("everyone")), AuthFixture.Alice);
        Assert.Equal(42000, redirect.Port);
        var code = System.Web.HttpUtility.ParseQueryString(redirect.Query)["code"]!;
        Assert.Equal("st4te", System.Web.HttpUtility.ParseQueryString(redirect.Query)["state"]);

        var wrongVerifier = await flow.TokenAsync(new()
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["client_id"] = clientId,
            ["redirect_uri"] = OAuthFlow.Redirect.Replace("41999", "42000", StringComparison.Ordinal),
            ["code_verifier"] = OAuthFlow.Pkce().Verifier,
        });
        Assert.Equal("invalid_grant", wrongVerifier.Body["error"]!.GetValue<string>());

        var request = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["client_id"] = clientId,
            ["redirect_uri"] = OAuthFlow.Redirect.Replace("41999", "42000", StringComparison.Ordinal), ["code_verifier"] = verifier,
        };
        var first = await flow.TokenAsync(request);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        var replay = await flow.TokenAsync(request);
        Assert.Equal("invalid_grant", replay.Body["error"]!.GetValue<string>());

        // The replay revoked what the code had produced.
        var refresh = await flow.TokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = first.Body["refresh_token"]!.GetValue<string>(), ["client_id"] = clientId });
        Assert.Equal("invalid_grant", refresh.Body["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task ConsentPage_RefusesTeamTokens_UsersWithoutAccess_AndFormsWithoutTheCsrfCookie()
    {
        using var flow = new OAuthFlow(_fixture.Gateway.BaseUrl);
        var clientId = await flow.RegisterAsync();
        var (_, challenge) = OAuthFlow.Pkce();
        var authorize = flow.AuthorizeUrl(clientId, OAuthFlow.Redirect, challenge, Resource("platform-tools"));

        foreach (var (token, expected) in new[] { (AuthFixture.PlatformTeam, "personal token"), (AuthFixture.Bob, "may not use"), ("archestra_wrong", "not valid") })
        {
            using var page = await flow.Http.GetAsync(authorize);
            var html = await page.Content.ReadAsStringAsync();
            using var post = await flow.Http.PostAsync(new Uri(_fixture.Gateway.BaseUrl, "/oauth/authorize"), new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["request_id"] = Field(html, "request_id"), ["csrf"] = Field(html, "csrf"), ["token"] = token, ["decision"] = "approve",
            }));
            Assert.Equal(HttpStatusCode.OK, post.StatusCode); // the page again, with the problem
            Assert.Contains(expected, await post.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A form posted from elsewhere (no CSRF cookie) is refused.
        using var cookieless = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false });
        using var fresh = await flow.Http.GetAsync(authorize);
        var freshHtml = await fresh.Content.ReadAsStringAsync();
        using var forged = await cookieless.PostAsync(new Uri(_fixture.Gateway.BaseUrl, "/oauth/authorize"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["request_id"] = Field(freshHtml, "request_id"), ["csrf"] = Field(freshHtml, "csrf"), ["token"] = AuthFixture.Alice, ["decision"] = "approve",
        }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Null(forged.Headers.Location);

        // Deny goes back to the client with access_denied.
        var denied = await flow.ApproveAsync(authorize, AuthFixture.Alice, decision: "deny");
        Assert.Equal("access_denied", System.Web.HttpUtility.ParseQueryString(denied.Query)["error"]);
    }

    private static string Field(string html, string name)
        => System.Text.RegularExpressions.Regex.Match(html, $"name=\"{name}\" value=\"([^\"]+)\"").Groups[1].Value;

    private const string InitializeBody = """{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";
}
