using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// Fault injection against the published binary: misbehaving upstreams and hostile clients. Each test measures what
/// the gateway process holds (RSS and peak RSS from /proc, descriptors, descendant processes), checks the caller got
/// a clear JSON-RPC error, and that another server of the same gateway still answers.
/// </summary>
public sealed class FaultInjectionTests
{
    private const long MiB = 1 << 20;

    private static string Call(int id, string tool)
        => "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":{}}}";

    [Fact]
    public async Task RemoteUpstream_HugeErrorBody_EndlessSseLine_BrokenChunking_CostBoundedMemory_AndAnswerWithJsonRpcErrors()
    {
        await using var hostile = HostileUpstream.Start(maxBytes: 400 * MiB);
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              errbody: { remote: { url: "{{hostile.Url}}error-body" }, call_timeout: 60s }
              sseline: { remote: { url: "{{hostile.Url}}sse-endless-line" }, call_timeout: 60s }
              chunked: { remote: { url: "{{hostile.Url}}broken-chunked" }, call_timeout: 60s }
              edge: { builtin: archestra }
            profiles:
              p: { tools: [{ server: errbody }, { server: sseline }, { server: chunked }, { server: edge }] }
            """);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        Assert.NotNull((await client.RequestAsync(Call(1, "edge__whoami")))["result"]);
        var pid = gateway.Process.Id;
        var before = ProcessProbe.RssBytes(pid);

        // 400 MB of error body: the gateway reads a snippet and hangs up (before: RSS 28 MB -> 2.3 GB).
        var error = await client.RequestAsync(Call(2, "errbody__t"));
        Assert.Contains("HTTP 500", error["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(hostile.BytesSent < 64 * MiB, $"the gateway read {hostile.BytesSent} bytes of an error body");

        // A line that never ends on a call's event stream: refused at the event bound (64 MiB), not buffered to 1 GB.
        var sent = hostile.BytesSent;
        var sse = await client.RequestAsync(Call(3, "sseline__t"));
        Assert.Contains("exceeded", sse["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(hostile.BytesSent - sent < 100 * MiB, $"the gateway read {hostile.BytesSent - sent} bytes of one SSE line");

        // Broken chunked framing mid-body: a JSON-RPC error, not a bare 500.
        using var broken = await client.SendAsync(Call(4, "chunked__t"));
        Assert.Equal(HttpStatusCode.OK, broken.StatusCode);
        var brokenBody = JsonNode.Parse(await broken.Content.ReadAsStringAsync())!;
        Assert.Contains("broke off", brokenBody["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var peak = ProcessProbe.PeakRssBytes(pid);
        Assert.True(peak - before < 300 * MiB, $"peak RSS grew by {(peak - before) / MiB} MiB");
        Assert.NotNull((await client.RequestAsync(Call(5, "edge__whoami")))["result"]);
    }

    [Fact]
    public async Task StdioChild_StderrFloodWithoutNewline_CostsBoundedMemory()
    {
        // 200 MB of stderr without a newline, from a server that never initializes (before: 900 MB of RSS).
        await using var gateway = await GatewayProcess.StartAsync("""
            servers:
              flood:
                process: { command: /bin/sh, args: ["-c", "head -c 200000000 /dev/zero >&2; sleep 600"] }
                start_timeout: 60s
                call_timeout: 3s
              edge: { builtin: archestra }
            profiles:
              p: { tools: [{ server: edge }, { server: flood }] }
            """);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var pid = gateway.Process.Id;
        var before = ProcessProbe.RssBytes(pid);
        var flood = await client.RequestAsync(Call(1, "flood__t"));
        Assert.NotNull(flood["error"]);

        // Let the flood drain through the gateway, then check the cost.
        var shim = await Eventually.WithinAsync(() => ProcessProbe.Descendants(pid).Count > 0, TimeSpan.FromSeconds(10));
        Assert.True(shim);
        await Task.Delay(TimeSpan.FromSeconds(4));
        var peak = ProcessProbe.PeakRssBytes(pid);
        Assert.True(peak - before < 64 * MiB, $"peak RSS grew by {(peak - before) / MiB} MiB");
        Assert.NotNull((await client.RequestAsync(Call(2, "edge__whoami")))["result"]);
    }

    [Fact]
    public async Task StdioChild_GarbageFlood_AndA50MBLine_CostBoundedCpuMemoryAndLog()
    {
        await using var gateway = await GatewayProcess.StartAsync("""
            servers:
              garbage:
                process: { command: /bin/sh, args: ["-c", "yes 'not json at all'"] }
                start_timeout: 3s
                call_timeout: 10s
              huge:
                process: { command: /bin/sh, args: ["-c", "head -c 50000000 /dev/zero | tr '\\0' x; echo; sleep 600"] }
                start_timeout: 8s
                call_timeout: 10s
              edge: { builtin: archestra }
            profiles:
              p: { tools: [{ server: edge }, { server: garbage }, { server: huge }] }
            """);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var pid = gateway.Process.Id;
        var before = ProcessProbe.RssBytes(pid);
        var cpu = ProcessProbe.CpuTime(pid);

        // Endless garbage lines until the start times out (3 s) and the process is stopped: at most 10 of them a second
        // reach the log (before: every one of them, hundreds of thousands a second).
        var clock = Stopwatch.StartNew();
        Assert.NotNull((await client.RequestAsync(Call(1, "garbage__t")))["error"]);
        await Eventually.WithinAsync(() => ProcessProbe.Descendants(pid).Count == 0, TimeSpan.FromSeconds(10));
        var logged = gateway.Process.Output.Split('\n').Count(l => l.Contains("not JSON-RPC", StringComparison.Ordinal));
        Assert.InRange(logged, 1, (10 * ((int)clock.Elapsed.TotalSeconds + 1)) + 10);

        cpu = ProcessProbe.CpuTime(pid);

        // One 50 MB line: delivered (as garbage) in linear time, not rescanned on every read (before: never delivered).
        Assert.NotNull((await client.RequestAsync(Call(2, "huge__t")))["error"]);
        await Eventually.WithinAsync(() => gateway.Process.Output.Contains("'huge' wrote something", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Contains("'huge' wrote something", gateway.Process.Output, StringComparison.Ordinal);
        var used = ProcessProbe.CpuTime(pid) - cpu;
        Assert.True(used < TimeSpan.FromSeconds(5), $"the gateway used {used} of CPU for one 50 MB line");
        var peak = ProcessProbe.PeakRssBytes(pid);
        Assert.True(peak - before < 300 * MiB, $"peak RSS grew by {(peak - before) / MiB} MiB");
        Assert.NotNull((await client.RequestAsync(Call(3, "edge__whoami")))["result"]);
    }

    [Fact]
    public async Task ServerThatNeverInitializes_InACrashLoop_LeavesNoChildrenBehind()
    {
        await using var gateway = await GatewayProcess.StartAsync("""
            servers:
              mute:
                process: { command: /bin/sleep, args: ["600"] }
                start: eager
                start_timeout: 500ms
                restart: { initial_backoff: 100ms, max_backoff: 200ms, crash_loop_after: 100, crash_loop_pause: 1h }
            profiles:
              p: { tools: [{ server: mute }] }
            """);
        var pid = gateway.Process.Id;
        int Starts() => gateway.Process.Output.Split('\n').Count(l => l.Contains("Started upstream 'mute'", StringComparison.Ordinal));
        await Eventually.WithinAsync(() => Starts() >= 5, TimeSpan.FromSeconds(40));
        var starts = Starts();
        Assert.True(starts >= 5, $"only {starts} starts:\n{gateway.Process.Output}");

        // The current attempt's shim and server, and the previous one's while it is being stopped, at most
        // (before: one more pair per retry, for as long as the gateway ran).
        var most = 0;
        for (var i = 0; i < 10; i++)
        {
            most = Math.Max(most, ProcessProbe.Descendants(pid).Count);
            await Task.Delay(300);
        }

        Assert.True(most <= 4, $"{most} descendants after {starts} starts");
    }

    [Fact]
    public async Task AServerThatNeverInitializes_DoesNotDelayOrTakeTheBlameForAReadyOne()
    {
        await using var gateway = await GatewayProcess.StartAsync("""
            servers:
              mute:
                process: { command: /bin/sleep, args: ["600"] }
                start_timeout: 30s
                call_timeout: 20s
              edge: { builtin: archestra }
            profiles:
              p: { tools: [{ server: mute }, { server: edge }] }
            """);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var clock = Stopwatch.StartNew();
        var call = await client.RequestAsync(Call(1, "edge__whoami"));
        Assert.NotNull(call["result"]);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"the ready server's call took {clock.Elapsed} (the mute one's call_timeout is 20s)");
    }

    [Fact]
    public async Task EveryEndpoint_KeepsTheHostPolicy_AndTheIssuerComesFromConfiguration()
    {
        await using var gateway = await GatewayProcess.StartAsync($$"""
            server: { data_dir: "{{Directory.CreateTempSubdirectory("archestra-host-").FullName}}" }
            users: { alice: {} }
            servers:
              edge: { builtin: archestra }
            profiles:
              p: { tools: [{ server: edge }], access: { org: true } }
            auth:
              bearer: { tokens: [] }
              oauth: { authorization_server: builtin }
            """);
        using var http = new HttpClient();
        foreach (var path in new[] { "/admin/status", "/metrics", "/healthz", "/readyz", "/v1/profiles/p/connect", "/.well-known/oauth-authorization-server",
                     "/.well-known/oauth-protected-resource/v1/mcp/p", "/oauth/jwks", "/oauth/authorize?client_id=x" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.BaseUrl, path));
            request.Headers.Host = "rebound.attacker.example";
            using var response = await http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{path}: {response.StatusCode}");
        }

        // Allowed host names all see the one issuer the gateway is configured with (its listen address here).
        var expected = gateway.BaseUrl.ToString().TrimEnd('/');
        foreach (var host in new[] { "localhost", "127.0.0.1" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.BaseUrl, "/.well-known/oauth-authorization-server"));
            request.Headers.Host = $"{host}:{gateway.BaseUrl.Port}";
            using var response = await http.SendAsync(request);
            var metadata = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal(expected, metadata["issuer"]!.GetValue<string>());
        }

        // Bodies that used to escape as bare 500s get the protocol's error.
        using var json = await http.PostAsync(new Uri(gateway.BaseUrl, "/oauth/authorize"), new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        using var empty = await http.PostAsync(new Uri(gateway.BaseUrl, "/oauth/authorize"), new ByteArrayContent([]));
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        var fields = string.Join('&', Enumerable.Range(0, 1100).Select(i => $"f{i}=v"));
        using var many = await http.PostAsync(new Uri(gateway.BaseUrl, "/oauth/token"), new StringContent(fields, Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.BadRequest, many.StatusCode);
        Assert.Equal("invalid_request", JsonNode.Parse(await many.Content.ReadAsStringAsync())!["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task UnauthenticatedOAuthFloods_GrowNoState()
    {
        var dataDir = Directory.CreateTempSubdirectory("archestra-flood-").FullName;
        await using var gateway = await GatewayProcess.StartAsync($$"""
            server: { data_dir: "{{dataDir}}" }
            users: { alice: {} }
            servers:
              edge: { builtin: archestra }
            profiles:
              p: { tools: [{ server: edge }], access: { org: true } }
            auth:
              bearer: { tokens: [] }
              oauth:
                authorization_server: builtin
                builtin: { max_clients: 5, registration_rate: 7/m }
            """);
        using var http = new HttpClient();
        var register = new Uri(gateway.BaseUrl, "/oauth/register");
        StringContent Registration(string uris) => new($$"""{"client_name":"flood","redirect_uris":[{{uris}}],"token_endpoint_auth_method":"none"}""", Encoding.UTF8, "application/json");

        // Sizes are capped: 11 redirect URIs, or one of 3 KB, are refused.
        using (var tooMany = await http.PostAsync(register, Registration(string.Join(',', Enumerable.Range(0, 11).Select(i => $"\"http://127.0.0.1/cb{i}\"")))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        }

        using (var tooLong = await http.PostAsync(register, Registration($"\"http://127.0.0.1/{new string('a', 3000)}\"")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        }

        // Counts are capped (max_clients: 5), and each source address is rate-limited (7/m, two spent above).
        string? clientId = null;
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++)
        {
            using var response = await http.PostAsync(register, Registration("\"http://127.0.0.1/cb\""));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.Created)
            {
                clientId ??= JsonNode.Parse(await response.Content.ReadAsStringAsync())!["client_id"]!.GetValue<string>();
            }
        }

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created,
            HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);

        // 5,000 consent pages with a 7 KB state each: nothing is kept per page (before: +410 MB for 20,000).
        var pid = gateway.Process.Id;
        var before = ProcessProbe.RssBytes(pid);
        var state = new string('s', 7000);
        var url = new Uri(gateway.BaseUrl, $"/oauth/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString("http://127.0.0.1/cb")}"
            + $"&code_challenge={new string('c', 43)}&code_challenge_method=S256&state={state}&resource={Uri.EscapeDataString(gateway.ProfileUrl("p").ToString())}");
        await Parallel.ForAsync(0, 5000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, token) =>
        {
            using var page = await http.GetAsync(url, token);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        });

        var after = ProcessProbe.RssBytes(pid);
        Assert.True(after - before < 60 * MiB, $"RSS grew by {(after - before) / MiB} MiB over 5,000 consent pages");
    }

    [Fact]
    public async Task IdleConnectionFlood_IsCapped_AndIdleConnectionsClose()
    {
        await using var gateway = await GatewayProcess.StartAsync("""
            servers:
              edge: { builtin: archestra }
            profiles:
              p: { tools: [{ server: edge }] }
            limits: { max_connections: 200, keep_alive_timeout: 2s }
            """);
        var pid = gateway.Process.Id;
        var baseline = ProcessProbe.Descriptors(pid);
        var sockets = new List<Socket>();
        try
        {
            for (var i = 0; i < 1000; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, gateway.BaseUrl.Port);
                sockets.Add(socket);
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
            var held = ProcessProbe.Descriptors(pid) - baseline;
            Assert.True(held <= 220, $"the gateway holds {held} more descriptors for 1,000 idle connections (cap 200)");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }

        // A keep-alive connection left idle is closed by the gateway after keep_alive_timeout.
        await Eventually.WithinAsync(() => ProcessProbe.Descriptors(pid) - baseline < 20, TimeSpan.FromSeconds(10));
        using var idle = new TcpClient();
        await idle.ConnectAsync(IPAddress.Loopback, gateway.BaseUrl.Port);
        var stream = idle.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{gateway.BaseUrl.Port}\r\n\r\n"));
        var buffer = new byte[4096];
        Assert.True(await stream.ReadAsync(buffer) > 0);
        var clock = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (await stream.ReadAsync(buffer, timeout.Token) > 0)
        {
        }

        Assert.InRange(clock.Elapsed.TotalSeconds, 1, 10);

        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(gateway.BaseUrl, "/healthz"))).StatusCode);
    }
}
