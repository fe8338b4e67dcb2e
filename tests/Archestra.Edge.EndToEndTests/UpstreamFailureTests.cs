using System.Diagnostics;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>Upstreams that crash, hang, print garbage or cannot start: clear errors within the call timeout, never a hang, and other calls keep working.</summary>
public sealed class UpstreamFailureTests(UpstreamFailureTests.Fixture fixture) : IClassFixture<UpstreamFailureTests.Fixture>
{
    private readonly TestServerProcess _remote = fixture.Remote;
    private readonly GatewayProcess _gateway = fixture.Gateway;

    /// <summary>One gateway for the class: its tests run one after another against it, as clients of one running service do.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        internal TestServerProcess Remote { get; private set; } = null!;

        internal GatewayProcess Gateway { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Remote = await TestServerProcess.StartHttpAsync("remote");
            // Only remote and local have the short call timeout the hang tests wait for; servers that must restart within
            // a test get the generous default, so a slow start on a busy machine is not mistaken for a failure.
            Gateway = await GatewayProcess.StartAsync($$$"""
                limits:
                  call_timeout: 20s
                servers:
                  remote:
                    remote: { url: "{{{Remote.Url}}}" }
                    call_timeout: 3s
                  local:
                    {{{TestServerProcess.StdioYaml("local")}}}
                    call_timeout: 3s
                    start: eager
                  fragile:
                    {{{TestServerProcess.StdioYaml("fragile")}}}
                    start: eager
                  victim:
                    {{{TestServerProcess.StdioYaml("victim")}}}
                    start: eager
                  missing:
                    process: { command: /nonexistent/mcp-server }
                  dead-on-arrival:
                    {{{TestServerProcess.StdioYaml("doa", "--exit-at-start", "7")}}}
                  unreachable:
                    remote: { url: "http://127.0.0.1:9/mcp" }
                profiles:
                  p:
                    tools:
                      - server: remote
                      - server: local
                      - server: fragile
                      - server: victim
                      - server: missing
                      - server: dead-on-arrival
                      - server: unreachable
                """);

            // Every working server started and listed before the tests, so what they time is only what they test.
            foreach (var server in (string[])["local", "fragile", "victim"])
            {
                await Gateway.WaitForServerReadyAsync(server);
            }

            using var client = new RawMcpClient(Gateway.ProfileUrl("p"));
            await client.InitializeAsync();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (true)
            {
                var list = await client.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""");
                var names = list["result"]!["tools"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToHashSet();
                if (names.IsSupersetOf(["remote__echo", "local__echo", "fragile__echo", "victim__echo"]) || DateTime.UtcNow > deadline)
                {
                    break;
                }

                await Task.Delay(200);
            }
        }

        public async Task DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Remote.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("remote")]
    [InlineData("local")]
    public async Task UpstreamThatNeverAnswers_TimesOutWithinTheCallTimeout_AndIsCancelledUpstream(string server)
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync();

        var watch = Stopwatch.StartNew();
        var response = await CallAsync(client, $"{server}__hang");
        watch.Stop();

        Assert.Equal(-32001, response["error"]!["code"]!.GetValue<int>());
        Assert.Contains("did not answer within 3s", response["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(10));

        // The same upstream still serves the next call.
        var next = await CallAsync(client, $"{server}__identify", id: 2);
        Assert.Equal(server, next["result"]!["content"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task StdioUpstreamThatCrashesMidCall_FailsThatCall_ThenRestartsForTheNext()
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        Assert.Equal("fragile", (await CallAsync(client, "fragile__identify"))["result"]!["content"]![0]!["text"]!.GetValue<string>());

        var watch = Stopwatch.StartNew();
        var crashed = await CallAsync(client, "fragile__crash");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), "a crash must not wait for the call timeout");
        Assert.Equal(-32011, crashed["error"]!["code"]!.GetValue<int>());
        Assert.Contains("exited with code 3", crashed["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("crashing mid-call", crashed["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal); // the stderr tail

        var again = await CallAsync(client, "fragile__identify");
        Assert.Equal("fragile", again["result"]!["content"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task StdioUpstreamKilledFromOutside_InFlightCallFailsCleanly_AndTheNextCallGetsANewProcess()
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var before = (await CallAsync(client, "victim__pid"))["result"]!["content"]![0]!["text"]!.GetValue<string>();

        var hanging = CallAsync(client, "victim__hang", id: 5);
        await _gateway.Process.WaitForLineAsync(line => line.Contains($"[victim] victim: hanging call started", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Process.GetProcessById(int.Parse(before, System.Globalization.CultureInfo.InvariantCulture)).Kill();

        var failed = await hanging;
        Assert.Equal(-32011, failed["error"]!["code"]!.GetValue<int>());
        var after = (await CallAsync(client, "victim__pid", id: 6))["result"]!["content"]![0]!["text"]!.GetValue<string>();
        Assert.NotEqual(before, after);
    }

    [Fact]
    public async Task GarbageOnStdout_IsSkipped_AndTheCallStillAnswers()
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var response = await CallAsync(client, "local__garbage_stdout");
        Assert.Equal("wrote garbage", response["result"]!["content"]![0]!["text"]!.GetValue<string>());
        await _gateway.Process.WaitForLineAsync(l => l.Contains("not JSON-RPC", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData("missing", "cannot start '/nonexistent/mcp-server'")]
    [InlineData("dead-on-arrival", "exiting at start with code 7")]
    [InlineData("unreachable", "cannot reach http://127.0.0.1:9/mcp")]
    public async Task UpstreamThatCannotStart_DropsOutOfTheList_AndACallGetsAClearError(string server, string detail)
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync();

        var list = await client.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""");
        var names = list["result"]!["tools"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("remote__echo", names);
        Assert.Contains("local__echo", names);
        Assert.DoesNotContain(names, n => n.StartsWith(server + "__", StringComparison.Ordinal));

        var call = await CallAsync(client, $"{server}__echo");
        Assert.Equal(-32010, call["error"]!["code"]!.GetValue<int>());
        Assert.Contains(detail, call["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentCalls_WhileOneHangs_AreAnswered()
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var hanging = CallAsync(client, "local__hang");
        var quick = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => CallAsync(client, i % 2 == 0 ? "local__echo" : "remote__echo", $$$"""{"text":"n{{{i}}}"}""", id: 100 + i)));
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal($"n{i}", quick[i]["result"]!["content"]![0]!["text"]!.GetValue<string>());
            Assert.Equal(100 + i, quick[i]["id"]!.GetValue<int>());
        }

        Assert.Equal(-32001, (await hanging)["error"]!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task ClientCancel_StopsOnlyItsOwnCall()
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var slow = CallAsync(client, "local__slow", """{"ms":1000}""", id: 41);
        // The cancel may even arrive while the gateway is still starting the server: it must still land.
        var hanging = client.SendAsync("""{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"local__hang","arguments":{}}}""");
        await Task.Delay(300);

        using var cancel = await client.SendAsync("""{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":42,"reason":"user"}}""");
        Assert.Equal(202, (int)cancel.StatusCode);

        using var cancelled = await hanging.WaitAsync(TimeSpan.FromSeconds(2.5));
        Assert.Empty(await RawMcpClient.ReadMessagesAsync(cancelled)); // no response after a cancel
        Assert.Equal("slept 1000 ms", (await slow)["result"]!["content"]![0]!["text"]!.GetValue<string>());
    }

    private static Task<JsonNode> CallAsync(RawMcpClient client, string tool, string arguments = "{}", int id = 1)
        => client.RequestAsync($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"{tool}\",\"arguments\":{arguments}}}}}");
}
