using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;
using Archestra.Edge.Testing;
using ModelContextProtocol.Client;
using Xunit.Abstractions;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// A fleet as operators run one: a real PostgreSQL (Debian's package) holding the shared state, three instances of
/// the published binary, and a real HAProxy balancing round-robin with no stickiness. Two frontends: one plain (the
/// <c>public_url</c>), and one that adds an organisation token to every request, for clients that cannot send one
/// (the conformance suite).
/// </summary>
internal sealed class RunningFleet : IAsyncDisposable
{
    public const string Admin = "archestra_fleet-admin-token-00000000000000000000000";
    public const string Alice = "archestra_fleet-alice-token-00000000000000000000000";

    public List<GatewayProcess> Instances { get; } = [];

    public HaproxyProcess Balancer { get; private set; } = null!;

    /// <summary>The plain frontend: the fleet's <c>public_url</c>.</summary>
    public Uri PublicUrl { get; private set; } = null!;

    /// <summary>The frontend that authenticates every request as the organisation.</summary>
    public Uri OrgUrl { get; private set; } = null!;

    /// <summary>Each instance's id in the fleet, by its base URL.</summary>
    public Dictionary<Uri, string> InstanceIds { get; } = [];

    /// <summary>The environment the instances run with (the connection string), for the CLI.</summary>
    public Dictionary<string, string> Environment { get; private set; } = [];

    /// <summary>Three instances on a new database of <paramref name="postgres"/>, in front of <paramref name="upstream"/>, behind HAProxy.</summary>
    public static async Task<RunningFleet> StartAsync(PostgresServer postgres, TestServerProcess upstream)
    {
        var fleet = new RunningFleet();
        var database = await postgres.CreateDatabaseAsync();
        var (publicPort, orgPort) = (HaproxyProcess.FreePort(), HaproxyProcess.FreePort());
        fleet.PublicUrl = new Uri($"http://127.0.0.1:{publicPort}");
        fleet.OrgUrl = new Uri($"http://127.0.0.1:{orgPort}");
        var yaml = $$"""
            server: { public_url: "{{fleet.PublicUrl}}" }
            storage:
              backend: postgres
              connection: ${env:ARCHESTRA_POSTGRES}
            users:
              alice: {}
            servers:
              conformance: { remote: { url: "{{upstream.Url}}" } }
            profiles:
              conformance:
                naming: bare
                access: { org: true }
                tools: [{ server: conformance }]
                prompts: [{ server: conformance }]
                resources: [{ server: conformance }]
            auth:
              bearer:
                tokens:
                  - { name: admin, sha256: {{Sha(Admin)}}, scope: org }
                  - { name: alice, sha256: {{Sha(Alice)}}, scope: "user:alice" }
              oauth: { authorization_server: builtin }
            """;
        var environment = new Dictionary<string, string> { ["ARCHESTRA_POSTGRES"] = postgres.ConnectionString(database) };
        fleet.Environment = environment;

        // Started together: the schema is created once, under the migration lock, and one signing key is made.
        fleet.Instances.AddRange(await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => GatewayProcess.StartAsync(yaml, defaultSignals: false, environment))));
        fleet.Balancer = await HaproxyProcess.StartAsync([.. fleet.Instances.Select(i => i.BaseUrl)],
            (publicPort, string.Empty),
            (orgPort, $"http-request set-header Authorization \"Bearer {Admin}\""));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        foreach (var instance in fleet.Instances)
        {
            while (true)
            {
                var ready = await instance.ReadyAsync();
                if (ready["fleet_members"]?.GetValue<int>() == fleet.Instances.Count)
                {
                    fleet.InstanceIds[instance.BaseUrl] = ready["instance"]!.GetValue<string>();
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, $"the fleet did not form: {ready.ToJsonString()}");
                await Task.Delay(100);
            }
        }

        return fleet;
    }

    public async ValueTask DisposeAsync()
    {
        await Balancer.DisposeAsync();
        foreach (var instance in Instances)
        {
            await instance.DisposeAsync();
        }
    }

    /// <summary>The instance id a fleet session id names (bytes 1–8 of the sealed id).</summary>
    public static string OwnerOf(string sessionId) => Convert.ToHexStringLower(Base64Url.DecodeFromChars(sessionId).AsSpan(1, 8));

    /// <summary>An instance's <c>/admin/status</c>, read with the organisation token.</summary>
    public static async Task<JsonNode> StatusAsync(GatewayProcess instance)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(instance.BaseUrl, "/admin/status"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Admin);
        using var response = await http.SendAsync(request);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static string Sha(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}

/// <summary>One PostgreSQL server and one upstream for the fleet tests; a shared fleet for those that do not break it.</summary>
public sealed class FleetFixture : IAsyncLifetime
{
    internal PostgresServer Postgres { get; private set; } = null!;

    internal TestServerProcess Upstream { get; private set; } = null!;

    internal RunningFleet Shared { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        Upstream = await TestServerProcess.StartHttpAsync("fleet-upstream");
        Shared = await RunningFleet.StartAsync(Postgres, Upstream);
    }

    public async Task DisposeAsync()
    {
        await Shared.DisposeAsync();
        await Upstream.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class FleetCollection : ICollectionFixture<FleetFixture>
{
    public const string Name = "fleet";
}

[Collection(FleetCollection.Name)]
public sealed class FleetTests(FleetFixture fixture, ITestOutputHelper output)
{
    private readonly RunningFleet fleet = fixture.Shared;

    private const string InitializeBody = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"fleet","version":"1"}}}""";

    [Fact]
    public async Task TheConformanceSuite_PassesThroughTheBalancer_AsItDoesDirectly()
    {
        var runner = new ConformanceTests(output);
        var baseline = await runner.RunSuiteAsync(fixture.Upstream.Url);
        Assert.Equal(30, baseline.Count);
        var before = await ForwardedAsync();

        var throughFleet = await runner.RunSuiteAsync(new Uri(fleet.OrgUrl, "/v1/mcp/conformance"));
        Assert.Equal(baseline.Keys.Order(), throughFleet.Keys.Order());
        var lost = baseline.Where(s => s.Value && !throughFleet[s.Key]).Select(s => s.Key).ToList();
        Assert.True(lost.Count == 0, $"through the fleet these scenarios fail: {string.Join(", ", lost)}");

        // The balancer spread each session's requests over the instances: most were served by forwarding.
        var forwarded = await ForwardedAsync() - before;
        output.WriteLine($"requests forwarded to their session's owner during the suite: {forwarded}");
        Assert.True(forwarded > 30, $"only {forwarded} requests were forwarded: is the balancer sticky?");
    }

    [Fact]
    public async Task AnAuthorizationCodeFlow_WhoseStepsLandOnDifferentInstances_Succeeds_AndItsTokenWorksEverywhere()
    {
        var (a, b, c) = (fleet.Instances[0].BaseUrl, fleet.Instances[1].BaseUrl, fleet.Instances[2].BaseUrl);
        var resource = new Uri(fleet.PublicUrl, "/v1/mcp/conformance").ToString();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() });

        // Register on A.
        using var registered = await http.PostAsync(new Uri(a, "/oauth/register"),
            new StringContent($$"""{"client_name":"fleet","redirect_uris":["{{OAuthFlow.Redirect}}"],"token_endpoint_auth_method":"none"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var clientId = JsonNode.Parse(await registered.Content.ReadAsStringAsync())!["client_id"]!.GetValue<string>();

        // The consent page from B, submitted to C (the form and its cookie are sealed under the fleet's key).
        var (verifier, challenge) = OAuthFlow.Pkce();
        var authorize = new OAuthFlow(b).AuthorizeUrl(clientId, OAuthFlow.Redirect, challenge, resource);
        using var page = await http.GetAsync(authorize);
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, html);
        using var decision = await http.PostAsync(new Uri(c, "/oauth/authorize"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["request_id"] = OAuthFlow.RequestId().Match(html).Groups[1].Value,
            ["csrf"] = OAuthFlow.Csrf().Match(html).Groups[1].Value,
            ["token"] = RunningFleet.Alice,
            ["decision"] = "approve",
        }));
        Assert.True(decision.StatusCode == HttpStatusCode.Redirect, await decision.Content.ReadAsStringAsync());
        var code = System.Web.HttpUtility.ParseQueryString(decision.Headers.Location!.Query)["code"]!;

        // The code redeemed on A; the refresh token rotated on B.
        var tokens = await TokenAsync(http, a, new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = OAuthFlow.Redirect,
            ["client_id"] = clientId,
            ["code_verifier"] = verifier,
            ["resource"] = resource,
        });
        var refreshed = await TokenAsync(http, b, new()
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = tokens["refresh_token"]!.GetValue<string>(),
            ["client_id"] = clientId,
            ["resource"] = resource,
        });

        // Both access tokens (signed with the fleet's one key) are accepted by every instance, and the JWKS is the same.
        foreach (var instance in fleet.Instances)
        {
            foreach (var access in new[] { tokens["access_token"]!.GetValue<string>(), refreshed["access_token"]!.GetValue<string>() })
            {
                using var initialized = await PostAsync(instance.ProfileUrl("conformance"), access, InitializeBody);
                Assert.Equal(HttpStatusCode.OK, initialized.StatusCode);
            }
        }

        var jwks = await Task.WhenAll(fleet.Instances.Select(i => http.GetStringAsync(new Uri(i.BaseUrl, "/oauth/jwks"))));
        Assert.Single(jwks.Distinct());
        Assert.Single(JsonNode.Parse(jwks[0])!["keys"]!.AsArray());
    }

    [Fact]
    public async Task ATokenCreatedOnOneInstance_WorksOnAll_AndOnceRevokedOnAnother_IsRefusedEverywhereWithinASecond()
    {
        using var http = new HttpClient();
        using var create = new HttpRequestMessage(HttpMethod.Post, new Uri(fleet.Instances[0].BaseUrl, "/admin/tokens"))
        {
            Content = new StringContent("""{"name":"fleet-ci","scope":"org"}""", Encoding.UTF8, "application/json"),
        };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RunningFleet.Admin);
        using var created = await http.SendAsync(create);
        var body = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var secret = body["token"]!.GetValue<string>();

        var known = Stopwatch.StartNew();
        await EverywhereAsync(secret, HttpStatusCode.OK);
        output.WriteLine($"the new token worked on every instance after {known.ElapsedMilliseconds} ms");
        Assert.True(known.Elapsed < TimeSpan.FromSeconds(1), $"took {known.Elapsed}");

        using var revoke = new HttpRequestMessage(HttpMethod.Delete, new Uri(fleet.Instances[1].BaseUrl, $"/admin/tokens/{body["id"]!.GetValue<string>()}"));
        revoke.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RunningFleet.Admin);
        using var revoked = await http.SendAsync(revoke);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        var refused = Stopwatch.StartNew();
        await EverywhereAsync(secret, HttpStatusCode.Unauthorized);
        output.WriteLine($"the revoked token was refused on every instance after {refused.ElapsedMilliseconds} ms");
        Assert.True(refused.Elapsed < TimeSpan.FromSeconds(1), $"took {refused.Elapsed}");
    }

    [Fact]
    public async Task ASessionOpenedOnOneInstance_IsServedByTheOthers_ItsStreamsResumeThere_AndADeleteAnywhereEndsIt()
    {
        var (a, b, c) = (fleet.Instances[0], fleet.Instances[1], fleet.Instances[2]);
        using var onA = new RawMcpClient(a.ProfileUrl("conformance")) { BearerToken = RunningFleet.Admin };
        await onA.InitializeAsync();
        Assert.Equal(fleet.InstanceIds[a.BaseUrl], RunningFleet.OwnerOf(onA.SessionId!));
        using var onB = new RawMcpClient(b.ProfileUrl("conformance")) { BearerToken = RunningFleet.Admin, SessionId = onA.SessionId };
        using var onC = new RawMcpClient(c.ProfileUrl("conformance")) { BearerToken = RunningFleet.Admin, SessionId = onA.SessionId };

        // A call through B streams its progress from A; the stream is cut after three events and resumed through C.
        var response = await onB.SendAsync("""{"jsonrpc":"2.0","id":"call-1","method":"tools/call","params":{"name":"progress","arguments":{"steps":10},"_meta":{"progressToken":"tok"}}}""");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var received = new List<SseTestEvent>();
        using (var reader = new SseReader(await response.Content.ReadAsStreamAsync()))
        {
            Assert.NotNull((await reader.ReadAsync(TimeSpan.FromSeconds(10)))!.Id); // priming
            for (var i = 0; i < 3; i++)
            {
                received.Add((await reader.ReadAsync(TimeSpan.FromSeconds(10)))!);
            }
        }

        response.Dispose();
        using (var resumed = await onC.GetStreamAsync(new Dictionary<string, string> { ["Last-Event-ID"] = received[^1].Id! }))
        {
            Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
            using var reader = new SseReader(await resumed.Content.ReadAsStreamAsync());
            while (await reader.ReadAsync(TimeSpan.FromSeconds(20)) is { } sseEvent)
            {
                received.Add(sseEvent);
            }
        }

        var messages = received.Select(e => JsonNode.Parse(e.Data)!).ToList();
        Assert.Equal(10, messages.Count(m => m["method"]?.GetValue<string>() == "notifications/progress"));
        Assert.Equal("done in 10 steps", messages[^1]["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(received.Count, received.Select(e => e.Id).Distinct().Count());

        // A call through B that never ends is cancelled through C: the owner cancels it and its stream ends, empty.
        var hanging = onB.SendAsync("""{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"hang","arguments":{}}}""");
        await Task.Delay(300);
        using (var cancel = await onC.SendAsync("""{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":42,"reason":"user"}}"""))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        using (var cancelled = await hanging.WaitAsync(TimeSpan.FromSeconds(5)))
        {
            Assert.Empty(await RawMcpClient.ReadMessagesAsync(cancelled));
        }

        // The session's GET stream opens through B; a DELETE through C ends the session on A, for everyone.
        using (var stream = await onB.GetStreamAsync())
        {
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        }

        using (var deleted = await onC.DeleteAsync())
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        foreach (var client in new[] { onA, onB, onC })
        {
            using var gone = await client.SendAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/list"}""");
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        // A made-up id in the fleet's format costs no hop: it fails its seal where it lands.
        var forged = onA.SessionId![..40] + (onA.SessionId[40] == 'A' ? "BBBB" : "AAAA");
        using var onBForged = new RawMcpClient(b.ProfileUrl("conformance")) { BearerToken = RunningFleet.Admin, SessionId = forged };
        var before = (await RunningFleet.StatusAsync(b))["fleet"]!["forwarded"]!.GetValue<long>();
        using (var unknown = await onBForged.SendAsync("""{"jsonrpc":"2.0","id":3,"method":"tools/list"}"""))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        Assert.Equal(before, (await RunningFleet.StatusAsync(b))["fleet"]!["forwarded"]!.GetValue<long>());
    }

    [Fact]
    public async Task A2026Client_IsServedWhereverItLands_AndARetryForAParkedCall_ReachesTheInstanceHoldingIt()
    {
        // Stateless requests through the balancer: no session, nothing to forward.
        var before = await ForwardedAsync();
        using (var raw = new RawMcpClient(new Uri(fleet.PublicUrl, "/v1/mcp/conformance")) { BearerToken = RunningFleet.Admin })
        {
            for (var i = 0; i < 6; i++)
            {
                var (status, listed) = await raw.ModernAsync("tools/list");
                Assert.Equal(200, status);
                Assert.Contains(listed["result"]!["tools"]!.AsArray(), t => t!["name"]!.GetValue<string>() == "elicit");
            }
        }

        Assert.Equal(before, await ForwardedAsync());

        // A 2025 server asks for input during a 2026-07-28 client's call: the call is parked on A, the retry goes to B.
        using var onA = new RawMcpClient(fleet.Instances[0].ProfileUrl("conformance")) { BearerToken = RunningFleet.Admin };
        using var onB = new RawMcpClient(fleet.Instances[1].ProfileUrl("conformance")) { BearerToken = RunningFleet.Admin };
        var (firstStatus, first) = await onA.ModernAsync("tools/call", """{"name":"elicit","arguments":{"message":"who?"}}""", capabilities: """{"elicitation":{}}""");
        Assert.Equal(200, firstStatus);
        Assert.Equal("input_required", first["result"]!["resultType"]!.GetValue<string>());
        var key = first["result"]!["inputRequests"]!.AsObject().Single().Key;
        var retry = new JsonObject
        {
            ["name"] = "elicit",
            ["arguments"] = new JsonObject { ["message"] = "who?" },
            ["inputResponses"] = new JsonObject { [key] = JsonNode.Parse("""{"action":"accept","content":{"name":"Ada"}}""") },
            ["requestState"] = first["result"]!["requestState"]!.GetValue<string>(),
        };
        var (retryStatus, final) = await onB.ModernAsync("tools/call", retry.ToJsonString(), capabilities: """{"elicitation":{}}""");
        Assert.Equal(200, retryStatus);
        Assert.Equal("complete", final["result"]!["resultType"]!.GetValue<string>());
        Assert.Contains("Ada", final["result"]!["content"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task EveryInstance_ReportsTheSameConfigFingerprint_AndTheLiveMembers()
    {
        var fingerprints = new List<string>();
        foreach (var instance in fleet.Instances)
        {
            var ready = await instance.ReadyAsync();
            fingerprints.Add(ready["config_fingerprint"]!.GetValue<string>());
            var status = await RunningFleet.StatusAsync(instance);
            var members = status["fleet"]!["members"]!.AsArray();
            Assert.Equal(fleet.InstanceIds.Values.Order(), members.Select(m => m!["instance"]!.GetValue<string>()).Order());
            Assert.All(members, m => Assert.Equal(fingerprints[0], m!["fingerprint"]!.GetValue<string>()));

            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(instance.BaseUrl, "/metrics"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RunningFleet.Admin);
            using var metrics = await http.SendAsync(request);
            var text = await metrics.Content.ReadAsStringAsync();
            Assert.Contains($"archestra_config_info{{fingerprint=\"{fingerprints[0]}\"", text, StringComparison.Ordinal);
            Assert.Contains("archestra_fleet_members 3", text, StringComparison.Ordinal);
        }

        Assert.Single(fingerprints.Distinct());
    }

    [Fact]
    public async Task TheCli_WorksAgainstTheFleetsStore_TokensAuditAndGrants()
    {
        var config = fleet.Instances[0].ConfigPath;
        var (created, createdOutput) = await CliAsync("token", "create", "--config", config, "--scope", "org", "--name", "cli-fleet");
        Assert.True(created == 0, createdOutput);
        var secret = createdOutput.Split('\n').Single(l => l.StartsWith("archestra_", StringComparison.Ordinal)).Trim();
        await EverywhereAsync(secret, HttpStatusCode.OK);

        // Calls on two instances land in one audit trail, which the CLI reads from any machine with the config.
        foreach (var instance in fleet.Instances.Take(2))
        {
            using var client = new RawMcpClient(instance.ProfileUrl("conformance")) { BearerToken = secret };
            await client.InitializeAsync();
            Assert.Equal("This is a simple text response for testing.", await client.CallTextAsync("test_simple_text"));
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var (code, output) = await CliAsync("audit", "tail", "-n", "200", "--config", config);
            Assert.True(code == 0, output);
            if (output.Split('\n').Count(l => l.Contains("test_simple_text", StringComparison.Ordinal) && l.Contains("org", StringComparison.Ordinal)) >= 2)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the audit trail lacks the two calls:\n{output}");
            await Task.Delay(200);
        }

        var (statusCode, status) = await CliAsync("status", "--config", config, "--url", fleet.Instances[1].BaseUrl.ToString(), "--token", RunningFleet.Admin);
        Assert.True(statusCode == 0, status);
        Assert.Contains($"fleet: {fleet.Instances.Count} live instance(s), all on this config", status, StringComparison.Ordinal);
        Assert.Contains($"{fleet.InstanceIds[fleet.Instances[1].BaseUrl]} (this one)", status, StringComparison.Ordinal);

        var (listed, grants) = await CliAsync("grants", "list", "--config", config);
        Assert.True(listed == 0, grants);
        Assert.StartsWith("GRANT", grants, StringComparison.Ordinal);

        var (revoked, revokedOutput) = await CliAsync("token", "revoke", "cli-fleet", "--config", config);
        Assert.True(revoked == 0, revokedOutput);
        var refused = Stopwatch.StartNew();
        await EverywhereAsync(secret, HttpStatusCode.Unauthorized);
        Assert.True(refused.Elapsed < TimeSpan.FromSeconds(1), $"took {refused.Elapsed}");
    }

    private async Task<(int Code, string Output)> CliAsync(params string[] args)
    {
        await using var process = ChildProcess.Start(Repository.GatewayBinary, args, fleet.Environment);
        var code = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (code, process.Output);
    }

    [Fact]
    public async Task Kill9OfOneInstanceUnderLoad_EndsOnlyItsSessions_AndTheOthersCallsKeepSucceeding()
    {
        // A fleet of its own: this one loses an instance.
        await using var fleet = await RunningFleet.StartAsync(fixture.Postgres, fixture.Upstream);
        var endpoint = new Uri(fleet.OrgUrl, "/v1/mcp/conformance");
        var clients = new List<McpClient>();
        for (var i = 0; i < 9; i++)
        {
            var client = await Clients.ConnectAsync(endpoint);
            clients.Add(client);

            // A client opens with a fixed number of requests; pings in between stop the round-robin from giving every
            // initialize to the same instance.
            for (var ping = 0; ping < i % 3; ping++)
            {
                await client.PingAsync();
            }
        }

        var owners = clients.Select(c => RunningFleet.OwnerOf(c.SessionId!)).ToList();
        output.WriteLine($"sessions per instance: {string.Join(", ", owners.GroupBy(o => o).Select(g => $"{g.Key}={g.Count()}"))}");
        Assert.True(owners.Distinct().Count() > 1, "every session landed on one instance: the balancer is sticky");

        var victim = fleet.Instances.First(i => owners.Contains(fleet.InstanceIds[i.BaseUrl]));
        var victimId = fleet.InstanceIds[victim.BaseUrl];
        using var stop = new CancellationTokenSource();
        var killedAt = TimeSpan.MaxValue;
        var clock = Stopwatch.StartNew();
        var errors = new List<(int Client, TimeSpan At, string Error)>();
        var successesAfterKill = new int[clients.Count];
        var loops = clients.Select((client, index) => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var result = await client.CallToolAsync("test_simple_text", new Dictionary<string, object?>(), cancellationToken: stop.Token);
                    Assert.Equal("This is a simple text response for testing.", Clients.Text(result));
                    if (clock.Elapsed > killedAt)
                    {
                        Interlocked.Increment(ref successesAfterKill[index]);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    lock (errors)
                    {
                        errors.Add((index, clock.Elapsed, ex.GetType().Name + ": " + ex.Message.Split('\n')[0]));
                    }

                    await Task.Delay(50);
                }
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(2));
        killedAt = clock.Elapsed;
        victim.Process.Signal(9);
        await Task.Delay(TimeSpan.FromSeconds(4));
        await stop.CancelAsync();
        await Task.WhenAll(loops);

        output.WriteLine($"killed instance {victimId} at {killedAt.TotalMilliseconds:0} ms; errors seen: {errors.Count}");
        foreach (var group in errors.GroupBy(e => (Dead: owners[e.Client] == victimId, Kind: e.Error.Length > 90 ? e.Error[..90] : e.Error)))
        {
            output.WriteLine($"  {group.Count(),4} × on {(group.Key.Dead ? "the killed instance's" : "a live instance's")} sessions, first at "
                + $"{group.Min(e => e.At).TotalMilliseconds:0} ms: {group.Key.Kind}");
        }

        output.WriteLine($"calls that succeeded after the kill, per client: {string.Join(", ", successesAfterKill)}");

        for (var i = 0; i < clients.Count; i++)
        {
            var mine = errors.Where(e => e.Client == i).ToList();
            if (owners[i] == victimId)
            {
                // Its session ended with it: the calls fail (404 from whichever instance answers) rather than hang.
                Assert.True(mine.Count > 0, $"client {i}'s session lived on the killed instance, yet its calls went on");
            }
            else
            {
                Assert.True(mine.Count == 0, $"client {i} (session on {owners[i]}) saw errors: {string.Join("; ", mine.Select(e => e.Error))}");
                Assert.True(successesAfterKill[i] > 0, $"client {i} made no call after the kill");
            }
        }

        // A client of the dead instance starts again: a new session, on a live instance, works.
        await using var again = await Clients.ConnectAsync(endpoint);
        Assert.NotEqual(victimId, RunningFleet.OwnerOf(again.SessionId!));
        Assert.Equal("This is a simple text response for testing.", Clients.Text(await again.CallToolAsync("test_simple_text", new Dictionary<string, object?>())));

        foreach (var client in clients)
        {
            try
            {
                await client.DisposeAsync();
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or ModelContextProtocol.McpException)
            {
            }
        }
    }

    private async Task<long> ForwardedAsync()
    {
        long total = 0;
        foreach (var instance in fleet.Instances.Where(i => !i.Process.HasExited))
        {
            var status = await RunningFleet.StatusAsync(instance);
            total += status["fleet"]!["forwarded"]!.GetValue<long>();
        }

        return total;
    }

    private async Task EverywhereAsync(string token, HttpStatusCode expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        foreach (var instance in fleet.Instances)
        {
            while (true)
            {
                using var response = await PostAsync(instance.ProfileUrl("conformance"), token, InitializeBody);
                if (response.StatusCode == expected)
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, $"{instance.BaseUrl} still answers {response.StatusCode}");
                await Task.Delay(10);
            }
        }
    }

    private static async Task<HttpResponseMessage> PostAsync(Uri url, string token, string body)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        return await http.SendAsync(request);
    }

    private static async Task<JsonNode> TokenAsync(HttpClient http, Uri instance, Dictionary<string, string> form)
    {
        using var response = await http.PostAsync(new Uri(instance, "/oauth/token"), new FormUrlEncodedContent(form));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToJsonString());
        return body;
    }
}
