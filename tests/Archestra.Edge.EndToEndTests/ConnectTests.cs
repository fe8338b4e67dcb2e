using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// Connection instructions: <c>archestra-edge connect</c> and <c>GET /v1/profiles/{profile}/connect</c> give snippets
/// for six clients that parse, point at the profile, never hold a token, and (curl) actually work.
/// </summary>
public sealed class ConnectTests : IClassFixture<AuthFixture>
{
    private static readonly string[] s_bearerClients = ["claude-code", "claude-desktop", "cursor", "vscode", "codex", "inspector", "curl"];
    private static readonly string[] s_oauthClients = ["claude-code", "claude-desktop", "cursor", "vscode", "codex", "inspector"];

    private readonly AuthFixture _fixture;

    public ConnectTests(AuthFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task Endpoint_IsGuardedLikeTheProfile()
    {
        using var http = new HttpClient();

        using var anonymous = await http.GetAsync(ConnectUrl("platform-tools"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("resource_metadata=", anonymous.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        using var bob = await GetAsync(http, ConnectUrl("platform-tools"), AuthFixture.Bob);
        Assert.Equal(HttpStatusCode.Forbidden, bob.StatusCode);

        using var missing = await GetAsync(http, ConnectUrl("no-such-profile"), AuthFixture.Alice);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        using var alice = await GetAsync(http, ConnectUrl("platform-tools"), AuthFixture.Alice);
        Assert.Equal(HttpStatusCode.OK, alice.StatusCode);
        Assert.Equal("text/plain", alice.Content.Headers.ContentType?.MediaType);
        var text = await alice.Content.ReadAsStringAsync();
        var url = _fixture.Gateway.ProfileUrl("platform-tools").ToString();
        Assert.Contains($"claude mcp add --transport http archestra-platform-tools {url} --header \"Authorization: Bearer $ARCHESTRA_TOKEN\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain(AuthFixture.Alice, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_EverySnippetParses_PointsAtTheProfile_AndHoldsNoToken()
    {
        using var http = new HttpClient();
        using var response = await GetAsync(http, new Uri(ConnectUrl("everyone") + "?format=json"), AuthFixture.Alice);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(AuthFixture.Alice, body, StringComparison.Ordinal);

        var document = JsonNode.Parse(body)!;
        var url = _fixture.Gateway.ProfileUrl("everyone").ToString();
        Assert.Equal(url, document["url"]!.GetValue<string>());
        Assert.Equal(["oauth", "bearer"], document["auth"]!.AsArray().Select(a => a!.GetValue<string>()));

        var clients = document["clients"]!.AsArray();
        Assert.Equal(s_bearerClients, Clients(clients, "bearer"));
        Assert.Equal(s_oauthClients, Clients(clients, "oauth"));
        foreach (var client in clients)
        {
            var snippet = client!["snippet"]!.GetValue<string>();
            Assert.Contains(url, snippet, StringComparison.Ordinal);
            if (client["language"]!.GetValue<string>() == "json")
            {
                Assert.NotNull(JsonNode.Parse(snippet)); // pastes into a JSON config file as is
            }
        }

        var vscode = Snippet(clients, "vscode", "bearer");
        Assert.Equal("Bearer ${input:archestra-token}", vscode["servers"]!["archestra-everyone"]!["headers"]!["Authorization"]!.GetValue<string>());
        Assert.Equal("http", vscode["servers"]!["archestra-everyone"]!["type"]!.GetValue<string>());
        var cursor = Snippet(clients, "cursor", "oauth");
        Assert.Null(cursor["mcpServers"]!["archestra-everyone"]!["headers"]);
        var desktop = Snippet(clients, "claude-desktop", "bearer");
        Assert.Equal(["-y", "mcp-remote", url, "--header", "Authorization:Bearer ${ARCHESTRA_TOKEN}"],
            desktop["mcpServers"]!["archestra-everyone"]!["args"]!.AsArray().Select(a => a!.GetValue<string>()));
    }

    [Fact]
    public async Task CurlSnippet_OpensASession_WithTheTokenFromTheEnvironment()
    {
        using var http = new HttpClient();
        using var response = await GetAsync(http, new Uri(ConnectUrl("everyone") + "?format=json"), AuthFixture.Carol);
        var clients = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["clients"]!.AsArray();
        var curl = clients.Single(c => c!["client"]!.GetValue<string>() == "curl")!["snippet"]!.GetValue<string>();

        await using var shell = ChildProcess.Start("bash", ["-c", curl], new Dictionary<string, string> { ["ARCHESTRA_TOKEN"] = AuthFixture.Carol });
        Assert.Equal(0, await shell.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        Assert.Contains("HTTP/1.1 200", shell.Output, StringComparison.Ordinal);
        Assert.Contains("mcp-session-id:", shell.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\"serverInfo\"", shell.Output, StringComparison.Ordinal);
    }

    /// <summary>The MCP Inspector's snippet, in its CLI mode as the snippet says, run with the real Inspector (v2, from npm).</summary>
    [Fact]
    public async Task InspectorSnippet_ListsTheProfilesTools_WithTheTokenFromTheEnvironment()
    {
        using var http = new HttpClient();
        using var response = await GetAsync(http, new Uri(ConnectUrl("everyone") + "?format=json"), AuthFixture.Carol);
        var clients = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["clients"]!.AsArray();
        var inspector = clients.Single(c => c!["client"]!.GetValue<string>() == "inspector" && c["auth"]!.GetValue<string>() == "bearer")!["snippet"]!.GetValue<string>();
        Assert.StartsWith("npx @modelcontextprotocol/inspector --transport http --server-url ", inspector, StringComparison.Ordinal);
        var command = inspector.Split('\n').Single(l => l.StartsWith("# npx ", StringComparison.Ordinal))[2..];

        // Run where the test tools are installed, so npx finds the Inspector there; Node 22 first on PATH.
        var node = Path.GetDirectoryName(Repository.Node)!;
        await using var shell = ChildProcess.Start("bash", ["-c", command], new Dictionary<string, string>
        {
            ["ARCHESTRA_TOKEN"] = AuthFixture.Carol,
            ["PATH"] = $"{node}:{Environment.GetEnvironmentVariable("PATH")}",
            ["npm_config_offline"] = "true",
        }, Path.Combine(Repository.Root, "tests", "node"));
        Assert.True(await shell.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, shell.Output);
        var tools = JsonNode.Parse(shell.Output[shell.Output.IndexOf('{', StringComparison.Ordinal)..])!["tools"]!.AsArray();
        Assert.NotEmpty(tools);
    }

    [Fact]
    public async Task Cli_PrintsTheSameSnippets_FromTheConfigAlone()
    {
        await using var json = ChildProcess.Start(Repository.GatewayBinary, ["connect", "everyone", "--config", _fixture.Gateway.ConfigPath, "--json"]);
        Assert.Equal(0, await json.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var document = JsonNode.Parse(json.Output)!;
        Assert.Equal("everyone", document["profile"]!.GetValue<string>());
        Assert.EndsWith("/v1/mcp/everyone", document["url"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(s_bearerClients, Clients(document["clients"]!.AsArray(), "bearer"));

        await using var missing = ChildProcess.Start(Repository.GatewayBinary, ["connect", "nope", "--config", _fixture.Gateway.ConfigPath]);
        Assert.Equal(1, await missing.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("no profile 'nope'", missing.Output, StringComparison.Ordinal);
        Assert.Contains("alice-only, everyone, platform-tools", missing.Output, StringComparison.Ordinal);
    }

    private Uri ConnectUrl(string profile) => new(_fixture.Gateway.BaseUrl, $"/v1/profiles/{profile}/connect");

    private static Task<HttpResponseMessage> GetAsync(HttpClient http, Uri url, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http.SendAsync(request);
    }

    private static IEnumerable<string> Clients(JsonArray clients, string auth)
        => clients.Where(c => c!["auth"]!.GetValue<string>() == auth).Select(c => c!["client"]!.GetValue<string>());

    private static JsonNode Snippet(JsonArray clients, string client, string auth)
        => JsonNode.Parse(clients.Single(c => c!["client"]!.GetValue<string>() == client && c["auth"]!.GetValue<string>() == auth)!["snippet"]!.GetValue<string>())!;
}
