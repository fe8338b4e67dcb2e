using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// The read-only web console, toured in Chromium as an administrator and as a user of one team: every page renders
/// with its own assets only, the servers table updates live, a snippet copies; the user sees their team's profile and
/// nothing of another team's or of the configuration; no secret (tokens, <c>${env:…}</c> values in headers, env or
/// fixed arguments) reaches any page. Screenshots go to a temporary directory, or to <c>docs/console/</c> with
/// <c>ARCHESTRA_UPDATE_SCREENSHOTS=1</c>.
/// </summary>
public sealed class ConsoleTests
{
    private const string Admin = "archestra_console-admin-token-00000000000000000000000";
    private const string Alice = "archestra_console-alice-token-00000000000000000000000";
    private const string Bob = "archestra_console-bob-token-0000000000000000000000000";
    private const string Secret = "s3cr3t-console-value-7f1c2e";

    [Fact]
    public async Task TheConsole_ShowsEachViewerWhatIsTheirs_LiveAndWithoutSecrets()
    {
        var environment = new Dictionary<string, string> { ["CONSOLE_SECRET"] = Secret };
        await using var gateway = await GatewayProcess.StartAsync($$"""
            teams: [platform, data]
            users:
              alice: { teams: [platform] }
              bob: { teams: [data] }
            servers:
              local:
                process: { command: "{{Repository.TestServerBinary}}", args: ["--stdio", "--name", "console-local"], env: { API_KEY: "${env:CONSOLE_SECRET}" } }
              edge: { builtin: archestra }
              broken:
                remote: { url: "http://127.0.0.1:9/mcp", headers: { X-Api-Key: "${env:CONSOLE_SECRET}" } }
            profiles:
              platform-tools:
                title: Platform tools
                access: { teams: [platform] }
                tools:
                  - server: local
                    include: [echo, identify, args]
                    rename: { identify: who }
                    describe: { echo: "Says it back" }
                    fixed_arguments: { args: { owner: "${env:CONSOLE_SECRET}" } }
                  - server: edge
                  - server: broken
              data-tools:
                access: { teams: [data] }
                tools: [{ server: edge, include: [whoami] }]
            auth:
              bearer:
                tokens:
                  - { name: admin, sha256: {{Sha(Admin)}}, scope: "org" }
                  - { name: alice, sha256: {{Sha(Alice)}}, scope: "user:alice" }
                  - { name: bob, sha256: {{Sha(Bob)}}, scope: "user:bob" }
            """, defaultSignals: false, environment);

        // Some activity: alice calls a few tools.
        using (var alice = new RawMcpClient(gateway.ProfileUrl("platform-tools")) { BearerToken = Alice })
        {
            await alice.InitializeAsync();
            Assert.Equal("console-local", await alice.ToolTextAsync("local__who"));
            await alice.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"local__echo","arguments":{"text":"hello"}}}""");
            await alice.RequestAsync("""{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"local__args","arguments":{"title":"t"}}}""");
        }

        var shots = Environment.GetEnvironmentVariable("ARCHESTRA_UPDATE_SCREENSHOTS") == "1"
            ? Path.Combine(Repository.Root, "docs", "console")
            : Directory.CreateTempSubdirectory("archestra-console-shots-").FullName;
        var script = Path.Combine(Repository.Root, "tests", "node", "clients", "console-tour.mjs");
        await using var node = ChildProcess.Start(Repository.Node, [script, gateway.BaseUrl.ToString().TrimEnd('/'), Repository.Chromium, shots, "platform-tools", "data-tools"],
            new Dictionary<string, string> { ["ORG_TOKEN"] = Admin, ["USER_TOKEN"] = Bob });
        Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 0, node.Output);
        var report = JsonNode.Parse(node.Output.Split('\n').Last(l => l.StartsWith('{')))!;

        // The administrator: every profile, the curated tools under their final names, live servers, activity, config.
        Assert.Contains("/console/sign-in", report["signInUrl"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(["data-tools", "platform-tools"], Strings(report["profiles"]).Order());
        Assert.Contains("local__who", Strings(report["items"]));
        Assert.Contains("local__echo", Strings(report["items"]));
        Assert.Contains("edge__whoami", Strings(report["items"]));
        var profilePage = report["pages"]!["profile"]!.GetValue<string>();
        Assert.Contains("renamed from identify", profilePage, StringComparison.Ordinal);
        Assert.Contains("description replaced", profilePage, StringComparison.Ordinal);
        Assert.Contains("fixed: owner", profilePage, StringComparison.Ordinal);
        Assert.Contains("claude mcp add", report["copied"]?.GetValue<string>() ?? report["copyLabel"]!.GetValue<string>() + profilePage, StringComparison.Ordinal);
        Assert.True(report["liveUpdates"]!.GetValue<int>() >= 1);
        Assert.Contains("ready", Strings(report["serverStates"]));
        Assert.Contains(Strings(report["serverStates"]), s => s is "failed" or "crash loop");
        Assert.Contains("failed", report["pages"]!["servers"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(report["calls"]!.GetValue<int>() >= 3, report["pages"]!["activity"]!.GetValue<string>());
        Assert.Contains("local", Strings(report["charts"]));
        Assert.Equal(3, report["filteredCalls"]!.GetValue<int>()); // server local, outcome ok: alice's three calls
        Assert.Equal(0, report["nobodysCalls"]!.GetValue<int>());
        Assert.Matches("^[0-9a-f]{16}$", report["fingerprint"]!.GetValue<string>());
        Assert.Contains("io.github.modelcontextprotocol/server-memory", Strings(report["entries"]));
        Assert.Empty(report["scriptErrors"]!.AsArray());

        // The user of team data: their profile, no other team's (404 as if it did not exist), no configuration.
        var user = report["user"]!;
        Assert.Equal(["data-tools"], Strings(user["profiles"]));
        Assert.DoesNotContain("Configuration", Strings(user["nav"]));
        Assert.Equal(404, user["other"]!.GetValue<int>());
        Assert.Equal(200, user["own"]!.GetValue<int>());
        Assert.Equal(404, user["config"]!.GetValue<int>());
        Assert.DoesNotContain("platform-tools", report["pages"]!["user-servers"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("data-server=\"local\"", report["pages"]!["user-servers"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("user:alice", report["pages"]!["user-activity"]!.GetValue<string>(), StringComparison.Ordinal);

        // Nothing secret on any page: the env value (in a header, a process's env, a fixed argument), nor any token.
        foreach (var (name, page) in report["pages"]!.AsObject())
        {
            var html = page!.GetValue<string>();
            foreach (var secret in new[] { Secret, Admin, Alice, Bob })
            {
                Assert.False(html.Contains(secret, StringComparison.Ordinal), $"the {name} page shows a secret");
            }
        }

        foreach (var shot in new[] { "profiles", "profile", "servers", "activity", "config" })
        {
            Assert.True(new FileInfo(Path.Combine(shots, $"{shot}.png")).Length > 10_000, $"{shot}.png");
        }

        if (!shots.StartsWith(Repository.Root, StringComparison.Ordinal))
        {
            Directory.Delete(shots, recursive: true);
        }
    }

    [Fact]
    public async Task TheConsole_IsOffWhenConfiguredSo_LocalOnlyWithoutAuth_AndItsAssetsAreItsOwn()
    {
        await using var off = await GatewayProcess.StartAsync("""
            server: { console: false }
            servers:
              edge: { builtin: archestra }
            profiles:
              p: { tools: [{ server: edge }] }
            """);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri(off.BaseUrl, "/console/profiles"))).StatusCode);

        await using var on = await GatewayProcess.StartAsync("""
            servers:
              edge: { builtin: archestra }
            profiles:
              p: { tools: [{ server: edge }] }
            """);
        using var page = await http.GetAsync(new Uri(on.BaseUrl, "/console/profiles"));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode); // a local client, no auth: section
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("this gateway authenticates nobody", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("text/javascript; charset=utf-8", (await http.GetAsync(new Uri(on.BaseUrl, "/console/assets/console.js"))).Content.Headers.ContentType!.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri(on.BaseUrl, "/console/assets/..%2Farchestra.yaml"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri(on.BaseUrl, "/console/assets/other.js"))).StatusCode);

        // A refused reload: the configuration page says so, with the errors at file:line:col; the old config keeps running.
        var temporary = on.ConfigPath + ".tmp";
        await File.WriteAllTextAsync(temporary, "servers:\n  edge: { builtin: archestra }\nprofiles:\n  p: { tools: [{ server: nope }] }\n");
        File.Move(temporary, on.ConfigPath, overwrite: true);
        string config = string.Empty;
        await Eventually.TrueAsync(async () => (config = await http.GetStringAsync(new Uri(on.BaseUrl, "/console/config"))).Contains("refused", StringComparison.Ordinal), 20);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(config, @"archestra\.yaml:4:\d+: error: profiles\.p\.tools\[0\]\.server: server &#39;nope&#39; is not defined"), config);
        Assert.Contains("the previous config keeps running", config, StringComparison.Ordinal);

        // Live tables are bounded: 32 streams at once, then 503 with Retry-After; a closed one frees its place.
        var streams = new List<HttpResponseMessage>();
        try
        {
            for (var i = 0; i < 32; i++)
            {
                var stream = await http.GetAsync(new Uri(on.BaseUrl, "/console/servers/events"), HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
                streams.Add(stream);
            }

            using var refused = await http.GetAsync(new Uri(on.BaseUrl, "/console/servers/events"), HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);

            streams[0].Dispose();
            streams.RemoveAt(0);
            await Eventually.TrueAsync(async () =>
            {
                using var again = await http.GetAsync(new Uri(on.BaseUrl, "/console/servers/events"), HttpCompletionOption.ResponseHeadersRead);
                return again.StatusCode == HttpStatusCode.OK;
            }, 10);
        }
        finally
        {
            streams.ForEach(static s => s.Dispose());
        }
    }

    private static IEnumerable<string> Strings(JsonNode? array) => array!.AsArray().Select(static n => n!.GetValue<string>());

    private static string Sha(string token) => UpstreamEdge.Sha256(token);
}
