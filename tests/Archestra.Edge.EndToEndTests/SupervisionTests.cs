using System.Diagnostics;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>Processes the gateway runs: restarts with growing delays, crash loops, health checks, idle stops, no leaks.</summary>
public sealed class SupervisionTests
{
    [Fact]
    public async Task ServerThatKeepsFailing_IsRetried_ThenLeftAloneInACrashLoop()
    {
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              broken:
                process: { command: /bin/sh, args: ["-c", "echo cannot find my config >&2; exit 3"] }
                start: eager
                restart: { initial_backoff: 300ms, max_backoff: 5s, crash_loop_after: 5, crash_loop_pause: 1h }
            profiles:
              p: { tools: [{ server: broken }] }
            """);

        JsonNode replica = null!;
        await Eventually.TrueAsync(async () =>
        {
            replica = (await gateway.StatusAsync())["servers"]![0]!["replicas"]![0]!;
            return replica["state"]!.GetValue<string>() == "crash_loop";
        }, seconds: 30);

        Assert.Equal(5, replica["starts"]!.GetValue<int>());
        Assert.Equal(5, replica["failures_in_a_row"]!.GetValue<int>());
        Assert.Contains("exited with code 3", replica["last_error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("cannot find my config", replica["last_error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(DateTimeOffset.Parse(replica["next_attempt_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddMinutes(50));

        // The delays between the attempts (300 ms doubling, ±20%) are checked to the millisecond on a fake clock in
        // ReplicaSupervisionTests; here, that a real process that keeps exiting gets there.

        // Callers hear about the crash loop instead of the gateway hammering the server.
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var call = await client.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"broken__identify"}}""");
        Assert.Equal(-32010, call["error"]!["code"]!.GetValue<int>());
        Assert.Contains("crash loop", call["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(ProcessProbe.ChildrenNamed("cannot find my config", withShims: true));
    }

    [Fact]
    public async Task CrashedServer_IsRestartedAtOnce_WithoutWaitingForACall()
    {
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              phoenix:
                {{TestServerProcess.StdioYaml("phoenix")}}
                start: eager
            profiles:
              p: { tools: [{ server: phoenix }] }
            """);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var before = await client.ToolTextAsync("phoenix__pid");

        var crashed = await client.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"phoenix__crash"}}""");
        Assert.Equal(-32011, crashed["error"]!["code"]!.GetValue<int>());

        // Back by itself: a new process, one restart, the exit recorded.
        JsonNode replica = null!;
        await Eventually.TrueAsync(async () =>
        {
            replica = (await gateway.StatusAsync())["servers"]![0]!["replicas"]![0]!;
            return replica["state"]!.GetValue<string>() == "ready" && replica["restarts"]!.GetValue<int>() == 1;
        });
        Assert.Contains("exited with code 3", replica["last_exit"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("crashing mid-call", replica["last_exit"]!.GetValue<string>(), StringComparison.Ordinal); // its stderr, kept
        var after = await client.ToolTextAsync("phoenix__pid");
        Assert.NotEqual(before, after);
        Assert.Single(ProcessProbe.ChildrenNamed("--name phoenix"));
    }

    [Fact]
    public async Task ServerThatStopsAnsweringPings_IsKilledAndRestarted()
    {
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              frozen:
                {{TestServerProcess.StdioYaml("frozen")}}
                start: eager
                health: { ping_interval: 500ms, ping_timeout: 500ms }
            profiles:
              p: { tools: [{ server: frozen }] }
            """);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var pid = int.Parse(await client.ToolTextAsync("frozen__pid"), System.Globalization.CultureInfo.InvariantCulture);

        ProcessSignals(pid, "STOP"); // alive, but answers nothing

        JsonNode replica = null!;
        await Eventually.TrueAsync(async () =>
        {
            replica = (await gateway.StatusAsync())["servers"]![0]!["replicas"]![0]!;
            return replica["state"]!.GetValue<string>() == "ready" && replica["restarts"]!.GetValue<int>() >= 1;
        });
        Assert.Contains("health check failed", replica["last_exit"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotEqual(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), await client.ToolTextAsync("frozen__pid"));
        await Eventually.TrueAsync(() => Task.FromResult(ProcessProbe.IsGone(pid)), seconds: 10); // the frozen process was killed
    }

    [Fact]
    public async Task IdleServer_IsStopped_AndStartedAgainOnTheNextCall()
    {
        await using var gateway = await GatewayProcess.StartAsync($$"""
            limits: { call_timeout: 1s }
            servers:
              sleepy:
                {{TestServerProcess.StdioYaml("sleepy")}}
                idle_stop: 2s
            profiles:
              p: { tools: [{ server: sleepy }] }
            """);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var first = await PidOnceStartedAsync(client, "sleepy__pid");
        Assert.Single(ProcessProbe.ChildrenNamed("--name sleepy"));

        await Eventually.TrueAsync(() => Task.FromResult(ProcessProbe.ChildrenNamed("--name sleepy", withShims: true).Count == 0));
        var replica = (await gateway.StatusAsync())["servers"]![0]!["replicas"]![0]!;
        Assert.Equal("stopped", replica["state"]!.GetValue<string>());
        Assert.Contains("idle", replica["last_exit"]!.GetValue<string>(), StringComparison.Ordinal);

        Assert.NotEqual(first, await PidOnceStartedAsync(client, "sleepy__pid"));
    }

    [Fact]
    public async Task SlowStart_OutlastsTheFirstCall_NotTheStart_AndAStartTimeoutEndsIt()
    {
        await using var gateway = await GatewayProcess.StartAsync($$"""
            limits: { call_timeout: 1s }
            servers:
              slow:
                {{TestServerProcess.StdioYaml("slow", "--start-delay", "2500")}}
                start_timeout: 30s
              stuck:
                {{TestServerProcess.StdioYaml("stuck", "--start-delay", "60000")}}
                start_timeout: 1500ms
                call_timeout: 20s
            profiles:
              p: { tools: [{ server: slow }, { server: stuck }] }
            """);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();

        // The first call gives up after its own timeout; the start goes on in the background.
        var first = await client.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow__identify","arguments":{}}}""");
        Assert.True(first["error"]?["code"]?.GetValue<int>() == -32001, first.ToJsonString());
        await gateway.WaitForServerReadyAsync("slow");

        // Its list, which the first call could not wait for, is read as soon as it is up (a JIT-compiled test server's
        // first answer can outlast the 1 s call_timeout on a busy machine, so wait for it rather than race it).
        await Eventually.TrueAsync(async () => (await client.RequestAsync("""{"jsonrpc":"2.0","id":5,"method":"tools/list"}"""))["result"]?["tools"]?.AsArray()
            .Any(t => t!["name"]!.GetValue<string>() == "slow__identify") == true);
        var second = await client.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow__identify","arguments":{}}}""");
        Assert.True(second["result"] is not null, second.ToJsonString());
        Assert.Equal("slow", second["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Single(ProcessProbe.ChildrenNamed("--name slow"));
        var replica = (await gateway.StatusAsync())["servers"]!.AsArray().Single(s => s!["name"]!.GetValue<string>() == "slow")!["replicas"]![0]!;
        Assert.Equal(0, replica["restarts"]!.GetValue<int>());

        // The server that cannot start is left out of the list; it does not hold up the others.
        var list = await client.RequestAsync("""{"jsonrpc":"2.0","id":4,"method":"tools/list"}""");
        var names = list["result"]!["tools"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("slow__identify", names);
        Assert.DoesNotContain(names, n => n.StartsWith("stuck__", StringComparison.Ordinal));

        // A start that outlasts start_timeout fails with that reason, long before the call's own 20s.
        var watch = Stopwatch.StartNew();
        var stuck = await client.RequestAsync("""{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"stuck__identify","arguments":{}}}""");
        Assert.True(stuck["error"] is not null, stuck.ToJsonString());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
        var status = await gateway.StatusAsync();
        var stuckServer = status["servers"]!.AsArray().Single(s => s!["name"]!.GetValue<string>() == "stuck")!;
        Assert.Contains("did not finish initializing within 1.5s (start_timeout)", stuckServer.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProcessEnvironment_IsIsolated_ExceptTheBasicsAndNetworkPlumbing_UnlessInherited()
    {
        var environment = new Dictionary<string, string>
        {
            ["GATEWAY_SECRET"] = "must-not-leak",
            ["HTTPS_PROXY"] = "http://proxy.example:3128",
            ["NODE_EXTRA_CA_CERTS"] = "/etc/ssl/certs/corporate.pem",
            ["npm_config_registry"] = "https://npm.example/",
        };
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              isolated:
                process: { command: "{{Repository.TestServerBinary}}", args: ["--stdio", "--name", "isolated"], env: { TEAM_SETTING: "from-the-config" } }
              inheriting:
                process: { command: "{{Repository.TestServerBinary}}", args: ["--stdio", "--name", "inheriting"], inherit_env: true }
            profiles:
              p: { tools: [{ server: isolated }, { server: inheriting }] }
            """, defaultSignals: false, environment);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();

        async Task<Dictionary<string, string>> EnvironmentOf(string server)
        {
            var response = await client.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"SERVER__env","arguments":{}}}""".Replace("SERVER", server, StringComparison.Ordinal));
            return response["result"]!["content"]![0]!["text"]!.GetValue<string>().Split('\n')
                .Select(line => line.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair.Length > 1 ? pair[1] : string.Empty);
        }

        var isolated = await EnvironmentOf("isolated");
        Assert.False(isolated.ContainsKey("GATEWAY_SECRET"), "the gateway's own variables stay with the gateway");
        Assert.Equal("from-the-config", isolated["TEAM_SETTING"]);
        Assert.True(isolated.ContainsKey("PATH"));
        Assert.Equal("http://proxy.example:3128", isolated["HTTPS_PROXY"]);
        Assert.Equal("/etc/ssl/certs/corporate.pem", isolated["NODE_EXTRA_CA_CERTS"]);
        Assert.Equal("https://npm.example/", isolated["npm_config_registry"]);

        var inheriting = await EnvironmentOf("inheriting");
        Assert.Equal("must-not-leak", inheriting["GATEWAY_SECRET"]);
    }

    [Fact]
    public async Task KilledGateway_TakesEveryChildWithIt_AndTheNextStartReapsLeftovers()
    {
        var marker = $"leak-{Guid.NewGuid():N}"[..13];
        var dataDirectory = Directory.CreateTempSubdirectory("archestra-data-").FullName;
        try
        {
            var yaml = $$"""
                server: { data_dir: "{{dataDirectory}}" }
                servers:
                  one:
                    {{TestServerProcess.StdioYaml(marker)}}
                    start: eager
                  pool:
                    {{TestServerProcess.StdioYaml(marker)}}
                    start: eager
                    replicas: 2
                  own:
                    {{TestServerProcess.StdioYaml(marker)}}
                    sharing: per_session
                profiles:
                  p: { tools: [{ server: one }, { server: pool }, { server: own }] }
                """;
            var gateway = await GatewayProcess.StartAsync(yaml);
            using (var client = new RawMcpClient(gateway.ProfileUrl("p")))
            {
                await client.InitializeAsync();
                await client.CallTextAsync("own__pid");
            }

            await Eventually.TrueAsync(() => Task.FromResult(ProcessProbe.ChildrenNamed(marker).Count == 5));
            Assert.Equal(10, ProcessProbe.ChildrenNamed(marker, withShims: true).Count); // each under its shim
            Assert.Equal(5, Directory.GetFiles(Path.Combine(dataDirectory, "children")).Length);

            gateway.Process.Signal(9);
            await gateway.Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await Eventually.TrueAsync(() => Task.FromResult(ProcessProbe.ChildrenNamed(marker, withShims: true).Count == 0), seconds: 10);
            await gateway.DisposeAsync();

            // A leftover the kernel could not take down (say the gateway died while spawning): recorded, so reaped.
            // A duration of its own (sleep takes fractions), so no other test run's leftover is mistaken for this one.
            var seconds = $"300.{Random.Shared.Next(100_000, 999_999)}";
            using var straggler = Process.Start(new ProcessStartInfo("setsid", ["sleep", seconds]) { UseShellExecute = false })!;
            // Until setsid has become sleep: before its exec the command line is setsid's, and during it /proc reads empty.
            var sleeper = 0;
            await Eventually.TrueAsync(
                () =>
                {
                    var found = ProcessProbe.ChildrenNamed($"sleep {seconds}");
                    sleeper = found.Count == 1 && ReadComm(found[0]) == "sleep" ? found[0] : 0;
                    return sleeper != 0;
                },
                seconds: 10);
            var stat = File.ReadAllText($"/proc/{sleeper}/stat");
            var startTime = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19];
            File.WriteAllText(Path.Combine(dataDirectory, "children", sleeper.ToString(System.Globalization.CultureInfo.InvariantCulture)), $"{startTime} sleep {seconds}");

            await using var next = await GatewayProcess.StartAsync(yaml);
            await next.Process.WaitForLineAsync(l => l.Contains("left running by a previous gateway", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
            await Eventually.TrueAsync(() => Task.FromResult(ProcessProbe.IsGone(sleeper)));
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task StderrFlood_IsKeptInTheTail_AndLoggedRateLimited()
    {
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              noisy:
                {{TestServerProcess.StdioYaml("noisy")}}
            profiles:
              p: { tools: [{ server: noisy }] }
            """);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();

        var answer = await client.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"noisy__spam_stderr","arguments":{"lines":2000}}}""");
        Assert.NotNull(answer["result"]);

        JsonNode replica = null!;
        await Eventually.TrueAsync(async () =>
        {
            replica = (await gateway.StatusAsync())["servers"]![0]!["replicas"]![0]!;
            return replica["stderr_tail"]!.AsArray().Count == 20;
        });
        var logged = gateway.Process.Output.Split('\n').Count(l => l.Contains("[noisy]", StringComparison.Ordinal));
        Assert.InRange(logged, 1, 200); // at most 50 a second reach the log; the rest only the tail
    }

    [Fact]
    public async Task StatusCommand_ShowsEveryServer_AndTheTroubleOfFailingOnes()
    {
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              healthy:
                {{TestServerProcess.StdioYaml("healthy")}}
                start: eager
              doomed:
                {{TestServerProcess.StdioYaml("doomed", "--exit-at-start", "9")}}
                start: eager
            profiles:
              p: { tools: [{ server: healthy }, { server: doomed }] }
            """);
        await Eventually.TrueAsync(async () =>
        {
            var servers = (await gateway.StatusAsync())["servers"]!.AsArray();
            return servers[0]!["state"]!.GetValue<string>() == "ready" && servers[1]!["state"]!.GetValue<string>() == "failed";
        });

        await using var status = ChildProcess.Start(Repository.GatewayBinary, ["status", "--url", gateway.BaseUrl.ToString()]);
        Assert.Equal(0, await status.WaitForExitAsync(TimeSpan.FromSeconds(20)));

        var output = status.Output;
        Assert.Matches(@"healthy\s+process\s+1\s+ready\s+2025-11-25\s+pid \d+", output);
        Assert.Matches(@"doomed\s+process\s+1\s+failed", output);
        Assert.Contains("Trouble:", output, StringComparison.Ordinal);
        Assert.Contains("exiting at start with code 9", output, StringComparison.Ordinal); // its stderr tail, quoted

        await using var json = ChildProcess.Start(Repository.GatewayBinary, ["status", "--url", gateway.BaseUrl.ToString(), "--json"]);
        Assert.Equal(0, await json.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("ready", JsonNode.Parse(json.Output)!["servers"]![0]!["state"]!.GetValue<string>());
    }

    /// <summary>
    /// The pid a lazy server reports, asking again while the call times out: with a call timeout short enough for
    /// <c>idle_stop</c>, a start on a busy machine may outlast a call, and it goes on for the next one.
    /// </summary>
    private static async Task<string> PidOnceStartedAsync(RawMcpClient client, string tool)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var response = await client.RequestAsync($"{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"{tool}\"}}}}");
            if (response["result"] is { } result)
            {
                return result["content"]![0]!["text"]!.GetValue<string>();
            }

            Assert.True(response["error"]?["code"]?.GetValue<int>() == -32001 && DateTime.UtcNow < deadline, response.ToJsonString());
        }
    }

    private static void ProcessSignals(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    private static string? ReadComm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n');
        }
        catch (IOException)
        {
            return null;
        }
    }
}
