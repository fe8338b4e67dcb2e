using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// Personal connections: each user connects their own account at an OAuth-protected upstream on the gateway's
/// <c>/connect</c> page (in Chromium), and their calls carry their own token. The upstream is a second Edge with its
/// built-in authorization server in front of the test server and its built-in <c>whoami</c>, which says whose token
/// a call came with. A user without a connection is sent to the page: URL-mode elicitation (-32042) for clients that
/// take it, a tool error naming the page for the others; their team's connection, made by an administrator, stands in.
/// </summary>
public sealed class ConnectPageTests
{
    // Tokens at the gateway (downstream) and at the upstream Edge; never the same.
    private const string Alice = "archestra_gateway-alice-token-0000000000000000000000";
    private const string Bob = "archestra_gateway-bob-token-00000000000000000000000000";
    private const string Admin = "archestra_gateway-admin-token-000000000000000000000000";
    private const string UpstreamAlice = "archestra_upstream-alice-token-000000000000000000000";
    private const string EncryptionKey = "0123456789abcdef0123456789abcdef-test-only";
    private const string UrlElicitation = """{"elicitation":{"url":{}}}""";

    [Fact]
    public async Task AliceConnectsOnThePage_HerCallsCarryHerToken_BobIsSentToThePage_ThenUsesHisTeams_RefreshRevokeAndDisconnectWork()
    {
        await using var upstream = await UpstreamEdge.StartAsync(UpstreamAlice);

        var environment = new Dictionary<string, string> { ["ARCHESTRA_ENCRYPTION_KEY"] = EncryptionKey };
        await using var gateway = await GatewayProcess.StartAsync($$"""
            storage: { encryption_key: "${env:ARCHESTRA_ENCRYPTION_KEY}" }
            teams: [data]
            users:
              alice: {}
              bob: { teams: [data] }
            servers:
              upstream:
                remote: { url: "{{upstream.ProfileUrl("tools")}}", oauth: {} }
            profiles:
              p: { access: { users: [alice, bob] }, tools: [{ server: upstream }] }
            auth:
              bearer:
                tokens:
                  - { name: alice, sha256: {{Sha(Alice)}}, scope: "user:alice" }
                  - { name: bob, sha256: {{Sha(Bob)}}, scope: "user:bob" }
                  - { name: admin, sha256: {{Sha(Admin)}}, scope: "org" }
            """, defaultSignals: false, environment);
        var connectPage = new Uri(gateway.BaseUrl, "/connect?server=upstream");
        var traffic = new StringBuilder();

        // Alice connects on the page: signed in with her gateway token, sent to the upstream's consent page, and back.
        var connected = await ConnectPageAsync(connectPage, "connect");
        Assert.Equal("Sign in to connect accounts", connected["signInTitle"]!.GetValue<string>());
        Assert.Equal("Not connected", connected["before"]!.GetValue<string>());
        Assert.True(connected["wanted"]!.GetValue<bool>());
        Assert.Contains("code_challenge_method=S256", connected["authorizationUrl"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains($"redirect_uri={Uri.EscapeDataString(new Uri(gateway.BaseUrl, "/connect/callback").ToString())}", connected["authorizationUrl"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("Sign in to Archestra Edge", connected["consentTitle"]!.GetValue<string>()); // the upstream's page
        Assert.Equal("Connected upstream.", connected["notice"]!.GetValue<string>());
        Assert.StartsWith("Connected", connected["after"]!.GetValue<string>(), StringComparison.Ordinal);

        // Her calls carry her own token: the upstream sees user alice.
        using var alice = new RawMcpClient(gateway.ProfileUrl("p")) { BearerToken = Alice };
        await alice.InitializeAsync(capabilities: UrlElicitation);
        await Eventually.TrueAsync(async () => (await alice.CallTextAsync("upstream__whoami"))?.Contains("user:alice", StringComparison.Ordinal) == true, 10, () => gateway.Process.Output);
        Assert.Contains("\"authenticated\":true", await alice.CallTextAsync("upstream__whoami"), StringComparison.Ordinal);
        traffic.Append(await alice.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"upstream__echo","arguments":{"text":"hers"}}}"""));

        // Bob has no connection: a client that takes URL-mode elicitation is sent to the page (-32042) ...
        using (var bob = new RawMcpClient(gateway.ProfileUrl("p")) { BearerToken = Bob })
        {
            await bob.InitializeAsync(capabilities: UrlElicitation);
            Assert.Contains("upstream__echo", (await bob.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""")).ToJsonString(), StringComparison.Ordinal);
            var asked = await bob.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"upstream__echo","arguments":{"text":"his"}}}""");
            traffic.Append(asked);
            Assert.Equal(-32042, asked["error"]!["code"]!.GetValue<int>());
            var elicitation = asked["error"]!["data"]!["elicitations"]![0]!;
            Assert.Equal("url", elicitation["mode"]!.GetValue<string>());
            Assert.Equal(connectPage.ToString(), elicitation["url"]!.GetValue<string>());
            Assert.False(string.IsNullOrEmpty(elicitation["elicitationId"]!.GetValue<string>()));
        }

        // ... and one that does not gets a tool error naming the page.
        using (var bob = new RawMcpClient(gateway.ProfileUrl("p")) { BearerToken = Bob })
        {
            await bob.InitializeAsync(capabilities: """{"elicitation":{}}""");
            var refused = await bob.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"upstream__echo","arguments":{"text":"his"}}}""");
            traffic.Append(refused);
            Assert.True(refused["result"]!["isError"]!.GetValue<bool>());
            Assert.Contains($"connect it at {connectPage}", refused["result"]!["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // An administrator connects bob's team (the CLI, with the upstream account it was given): bob's calls use it.
        await using (var connect = ChildProcess.Start(Repository.GatewayBinary, ["connections", "connect", "upstream", "--owner", "team:data", "--config", gateway.ConfigPath], environment))
        {
            var line = await connect.WaitForLineAsync(l => l.StartsWith("http", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            using var browser = new OAuthFlow(upstream.BaseUrl);
            var back = await browser.ApproveAsync(new Uri(line.Trim()), UpstreamAlice);
            using (await browser.Http.GetAsync(back))
            {
            }

            Assert.Equal(0, await connect.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("connected 'upstream' for team:data", connect.Output, StringComparison.Ordinal);
        }

        using (var bob = new RawMcpClient(gateway.ProfileUrl("p")) { BearerToken = Bob })
        {
            await bob.InitializeAsync(capabilities: UrlElicitation);
            // The team's connection was made with alice's upstream account, so the upstream sees her.
            await Eventually.TrueAsync(async () => (await bob.CallTextAsync("upstream__whoami"))?.Contains("user:alice", StringComparison.Ordinal) == true, 10, () => gateway.Process.Output);
        }

        // Her token lives 32 s and is refreshed 30 s before it expires.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Contains("user:alice", await alice.CallTextAsync("upstream__whoami"), StringComparison.Ordinal);
        await gateway.Process.WaitForLineAsync(l => l.Contains("Refreshed the OAuth connection of upstream 'upstream' (user:alice)", StringComparison.Ordinal), TimeSpan.FromSeconds(10));

        // The admin API lists her connection, never its tokens.
        using var admin = new HttpClient { BaseAddress = gateway.BaseUrl };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Admin);
        var listed = await admin.GetStringAsync("/admin/connections");
        Assert.Contains("\"owner\": \"user:alice\"", listed, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", listed, StringComparison.Ordinal);

        // The upstream revokes what alice approved: her next call asks her to reconnect, at the page.
        await using (var revoke = ChildProcess.Start(Repository.GatewayBinary, ["grants", "revoke", "--user", "alice", "--config", upstream.ConfigPath]))
        {
            Assert.Equal(0, await revoke.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        JsonNode reconnect = null!;
        await Eventually.TrueAsync(async () =>
        {
            reconnect = await alice.RequestAsync("""{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"upstream__whoami","arguments":{}}}""");
            return reconnect["error"]?["code"]?.GetValue<int>() == -32042;
        }, 15, () => reconnect?.ToJsonString() ?? string.Empty);
        traffic.Append(reconnect);
        Assert.Contains("connect it again", reconnect["error"]!["data"]!["elicitations"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        // She reconnects on the page, and her calls work again.
        var again = await ConnectPageAsync(connectPage, "connect");
        Assert.StartsWith("Connected", again["before"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("Connected upstream.", again["notice"]!.GetValue<string>());
        await Eventually.TrueAsync(async () => (await alice.CallTextAsync("upstream__whoami"))?.Contains("user:alice", StringComparison.Ordinal) == true, 10);

        // She disconnects: the upstream is told (RFC 7009), so her refresh token is dead there too.
        var disconnected = await ConnectPageAsync(connectPage, "disconnect");
        Assert.Equal("Disconnected upstream.", disconnected["notice"]!.GetValue<string>());
        Assert.Equal("Not connected", disconnected["after"]!.GetValue<string>());
        Assert.Null(disconnected["problem"]?.GetValue<string>());
        await gateway.Process.WaitForLineAsync(l => l.Contains("Removed the connection of upstream 'upstream' for user:alice (revoked at the authorization server)", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("user:alice", await admin.GetStringAsync("/admin/connections"), StringComparison.Ordinal);
        var gone = await alice.RequestAsync("""{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"upstream__whoami","arguments":{}}}""");
        traffic.Append(gone);
        Assert.Equal(-32042, gone["error"]!["code"]!.GetValue<int>());

        // The upstream's tokens (JWTs) and refresh tokens never reached a client, the gateway's log or its audit trail
        // (written in the background: stopping the gateway flushes it).
        gateway.Process.Signal(15);
        Assert.Equal(0, await gateway.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.DoesNotContain("eyJ", traffic.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", gateway.Process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("archestra_rt_", gateway.Process.Output, StringComparison.Ordinal);
        var database = Encoding.Latin1.GetString(await File.ReadAllBytesAsync(Path.Combine(Path.GetDirectoryName(gateway.ConfigPath)!, "data", "archestra.db")));
        Assert.DoesNotContain("eyJ", database, StringComparison.Ordinal); // connections are sealed, the audit trail never had them
        Assert.DoesNotContain("archestra_rt_", database, StringComparison.Ordinal);
        await using (var export = ChildProcess.Start(Repository.GatewayBinary, ["audit", "export", "--format", "jsonl", "--config", gateway.ConfigPath], environment))
        {
            Assert.Equal(0, await export.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("\"principal\":\"user:bob\",\"profile\":\"p\",\"server\":\"upstream\",\"method\":\"tools/call\",\"item\":\"echo\",\"outcome\":\"rejected\"", export.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("eyJ", export.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("archestra_rt_", export.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheConnectPage_RefusesWhatIsNotASignedInUsersOwn()
    {
        var environment = new Dictionary<string, string> { ["ARCHESTRA_ENCRYPTION_KEY"] = EncryptionKey };
        await using var gateway = await GatewayProcess.StartAsync($$"""
            storage: { encryption_key: "${env:ARCHESTRA_ENCRYPTION_KEY}" }
            users:
              alice: {}
            servers:
              upstream:
                remote: { url: "http://127.0.0.1:9/mcp", oauth: {} }
            profiles:
              p: { access: { users: [alice] }, tools: [{ server: upstream }] }
            auth:
              bearer:
                tokens:
                  - { name: alice, sha256: {{Sha(Alice)}}, scope: "user:alice" }
                  - { name: admin, sha256: {{Sha(Admin)}}, scope: "org" }
            """, defaultSignals: false, environment);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = gateway.BaseUrl };

        // Not signed in: the sign-in form, and nothing else happens.
        Assert.Contains("name=\"token\"", await http.GetStringAsync("/connect"), StringComparison.Ordinal);
        using (var start = await http.GetAsync("/connect/start?server=upstream&csrf=x"))
        {
            Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
            Assert.Equal("/connect?server=upstream", start.Headers.Location!.ToString());
        }

        // An organisation token is no person: refused with a reason.
        var signIn = await http.PostAsync("/connect/sign-in", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = Admin }));
        Assert.Contains("personal token", await signIn.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(signIn.Headers.Contains("Set-Cookie"));

        // Signed in: the cookie is HttpOnly and SameSite=Strict, sealed (the token is not in it).
        var ok = await http.PostAsync("/connect/sign-in", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = Alice }));
        Assert.Equal(HttpStatusCode.SeeOther, ok.StatusCode);
        var cookie = ok.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("gateway-alice", cookie, StringComparison.Ordinal);
        var session = cookie.Split(';')[0];

        // Without the page's CSRF value, starting or disconnecting does nothing.
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/connect/start?server=upstream&csrf=forged"))
        {
            request.Headers.Add("Cookie", session);
            using var forged = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Redirect, forged.StatusCode);
            Assert.StartsWith("/connect", forged.Headers.Location!.ToString(), StringComparison.Ordinal);
        }

        // A callback without the pending authorization's cookie is refused.
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/connect/callback?code=stolen&state=guess"))
        {
            request.Headers.Add("Cookie", session);
            using var callback = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadRequest, callback.StatusCode);
        }

        // A tampered cookie is no sign-in.
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/connect"))
        {
            request.Headers.Add("Cookie", session[..^4] + "AAAA");
            using var tampered = await http.SendAsync(request);
            Assert.Contains("name=\"token\"", await tampered.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The gateway's own client ID metadata document names itself and the page's callback.
        var document = JsonNode.Parse(await http.GetStringAsync("/connect/client-metadata.json"))!;
        Assert.Equal(new Uri(gateway.BaseUrl, "/connect/client-metadata.json").ToString(), document["client_id"]!.GetValue<string>());
        Assert.Contains(new Uri(gateway.BaseUrl, "/connect/callback").ToString(), document["redirect_uris"]!.AsArray().Select(u => u!.GetValue<string>()));
    }

    private static async Task<JsonNode> ConnectPageAsync(Uri page, string action)
    {
        var script = Path.Combine(Repository.Root, "tests", "node", "clients", "connect-page.mjs");
        await using var node = ChildProcess.Start(Repository.Node, [script, page.ToString(), Repository.Chromium, "upstream", action],
            environment: new Dictionary<string, string> { ["GATEWAY_TOKEN"] = Alice, ["UPSTREAM_TOKEN"] = UpstreamAlice });
        var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(90));
        Assert.True(exit == 0, node.Output);
        return JsonNode.Parse(node.Output.Split('\n').Last(l => l.StartsWith('{')))!;
    }

    private static string Sha(string token) => UpstreamEdge.Sha256(token);
}
