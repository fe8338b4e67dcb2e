using System.Net;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// Hot reload: on a file change or SIGHUP the gateway swaps in the new config; sessions survive unless their profile
/// is gone, changed servers restart, removed ones stop, untouched ones keep running; a bad file changes nothing.
/// </summary>
public sealed class ReloadTests
{
    private static string Config(string marker, string profiles, string extraServers = "", string serverSection = "")
        => $$"""
            {{serverSection}}
            servers:
              steady:
                {{TestServerProcess.StdioYaml($"{marker}-steady")}}
              changing:
                {{TestServerProcess.StdioYaml($"{marker}-changing")}}
            {{extraServers}}
            profiles:
            {{profiles}}
            """;

    [Fact]
    public async Task FileChange_SwapsTheConfig_SessionsSurvive_OnlyChangedServersRestart()
    {
        var marker = $"reload-{Guid.NewGuid():N}"[..20];
        await using var gateway = await GatewayProcess.StartAsync(Config(marker, """
              p: { tools: [{ server: steady }, { server: changing }] }
            """));
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var steadyPid = await client.CallTextAsync("steady__pid");
        var changingPid = await client.CallTextAsync("changing__pid");
        var fingerprintBefore = (await gateway.ReadyAsync())["config_fingerprint"]!.GetValue<string>();
        Assert.Matches("^[0-9a-f]{16}$", fingerprintBefore);

        // 'changing' gets an argument more, 'added' is new and joins the profile.
        await WriteAtomicallyAsync(gateway.ConfigPath, Config(marker, """
              p: { tools: [{ server: steady }, { server: changing }, { server: added }] }
            """, extraServers: $$"""
              added:
                {{TestServerProcess.StdioYaml($"{marker}-added")}}
            """).Replace($"\"{marker}-changing\"", $"\"{marker}-changing\", \"--name\", \"{marker}-changing-v2\"", StringComparison.Ordinal));

        await Eventually.TrueAsync(async () => (await ToolNamesAsync(client)).Contains("added__pid"), 20, () => $"the reload did not happen in time; the gateway said:\n{gateway.Process.Output}");

        Assert.Equal(steadyPid, await client.CallTextAsync("steady__pid"));      // untouched: the same process
        Assert.NotEqual(changingPid, await client.CallTextAsync("changing__pid")); // changed: restarted
        await Eventually.TrueAsync(() => Task.FromResult(!ProcessExists(changingPid)));
        Assert.NotNull(await client.CallTextAsync("added__pid"));                  // the same session sees the new server

        var ready = await gateway.ReadyAsync();
        Assert.True(ready["last_reload"]!["succeeded"]!.GetValue<bool>());

        // What an operator watches a fleet converge by: the fingerprint of the file as written, on /readyz and /metrics.
        var fingerprintAfter = ready["config_fingerprint"]!.GetValue<string>();
        Assert.NotEqual(fingerprintBefore, fingerprintAfter);
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri(gateway.BaseUrl, "/metrics"));
        Assert.Contains($"archestra_config_info{{fingerprint=\"{fingerprintAfter}\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadFile_KeepsTheRunningConfig_AndSaysWhy_UntilItIsFixed()
    {
        var marker = $"reload-{Guid.NewGuid():N}"[..20];
        var good = Config(marker, """
              p: { tools: [{ server: steady }] }
            """);
        await using var gateway = await GatewayProcess.StartAsync(good);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var pid = await client.CallTextAsync("steady__pid");

        await WriteAtomicallyAsync(gateway.ConfigPath, good.Replace("tools:", "toolz:", StringComparison.Ordinal));
        var failed = await WaitForReloadAsync(gateway, succeeded: false);
        Assert.Contains("unknown key 'toolz'", failed["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(pid, await client.CallTextAsync("steady__pid")); // nothing changed
        Assert.Contains("archestra_config_reloads_total{result=\"failure\"} 1", await new HttpClient().GetStringAsync(new Uri(gateway.BaseUrl, "/metrics")), StringComparison.Ordinal);
        Assert.Contains("unknown key 'toolz'", gateway.Process.Output, StringComparison.Ordinal);

        // What only a restart can change is refused the same way.
        await WriteAtomicallyAsync(gateway.ConfigPath, Config(marker, """
              p: { tools: [{ server: steady }] }
            """, serverSection: "server: { listen: [\"http://127.0.0.1:9999\"] }"));
        await Eventually.TrueAsync(async () => (await gateway.ReadyAsync())["last_reload"]!["error"]?.GetValue<string>().Contains("restart", StringComparison.Ordinal) == true);

        await WriteAtomicallyAsync(gateway.ConfigPath, good.Replace("p: { tools: [{ server: steady }] }", "p: { tools: [{ server: steady }, { server: changing }] }", StringComparison.Ordinal));
        await WaitForReloadAsync(gateway, succeeded: true);
        Assert.Contains("changing__pid", await ToolNamesAsync(client));
    }

    [Fact]
    public async Task Sighup_RereadsReferencedFiles_RemovedProfilesEndTheirSessions_RemovedServersStop()
    {
        var marker = $"reload-{Guid.NewGuid():N}"[..20];
        var secrets = Directory.CreateTempSubdirectory("archestra-ref-").FullName;
        var secret = Path.Combine(secrets, "value");
        await File.WriteAllTextAsync(secret, "one");
        var yaml = Config(marker, """
              p: { tools: [{ server: steady }, { server: changing }] }
              doomed: { tools: [{ server: changing }] }
            """).Replace($"\"{marker}-changing\"] }}", $"\"{marker}-changing\"], env: {{ SECRET: \"${{file:{secret}}}\" }} }}", StringComparison.Ordinal);
        Assert.Contains("SECRET", yaml, StringComparison.Ordinal);
        await using var gateway = await GatewayProcess.StartAsync(yaml, defaultSignals: true);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        using var doomed = new RawMcpClient(gateway.ProfileUrl("doomed"));
        await doomed.InitializeAsync();
        var steadyPid = await client.CallTextAsync("steady__pid");
        var changingPid = await client.CallTextAsync("changing__pid");
        var fingerprintBefore = (await gateway.ReadyAsync())["config_fingerprint"]!.GetValue<string>();
        Assert.Matches("^[0-9a-f]{16}$", fingerprintBefore);

        // Only the referenced file changes: the YAML is the same, so it takes a SIGHUP.
        await File.WriteAllTextAsync(secret, "two");
        gateway.Process.Signal(1);
        await Eventually.TrueAsync(async () => await client.CallTextAsync("changing__pid") != changingPid, 20, () => $"the reload did not happen in time; the gateway said:\n{gateway.Process.Output}");
        Assert.Equal(steadyPid, await client.CallTextAsync("steady__pid"));
        Assert.False(gateway.Process.HasExited, "SIGHUP reloads; it does not stop the gateway");

        // Now the profile 'doomed' and the server 'changing' go.
        await WriteAtomicallyAsync(gateway.ConfigPath, Config(marker, """
              p: { tools: [{ server: steady }] }
            """).Replace($$"""
              changing:
                {{TestServerProcess.StdioYaml($"{marker}-changing")}}
            """, string.Empty, StringComparison.Ordinal));
        await Eventually.TrueAsync(async () => !(await ToolNamesAsync(client)).Contains("changing__pid"), 20, () => $"the reload did not happen in time; the gateway said:\n{gateway.Process.Output}");

        using var gone = await doomed.SendAsync("""{"jsonrpc":"2.0","id":5,"method":"ping"}""");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        await Eventually.TrueAsync(() => Task.FromResult(ProcessProbe.ChildrenNamed($"{marker}-changing").Count == 0));
        Assert.Equal(steadyPid, await client.CallTextAsync("steady__pid"));
    }

    private static async Task<List<string>> ToolNamesAsync(RawMcpClient client)
    {
        var response = await client.RequestAsync("""{"jsonrpc":"2.0","id":4,"method":"tools/list"}""");
        Assert.Null(response["error"]);
        return [.. response["result"]!["tools"]!.AsArray().Select(t => t!["name"]!.GetValue<string>())];
    }

    private static async Task<JsonNode> WaitForReloadAsync(GatewayProcess gateway, bool succeeded)
    {
        JsonNode? last = null;
        await Eventually.TrueAsync(async () =>
        {
            last = (await gateway.ReadyAsync())["last_reload"];
            return last?["succeeded"]?.GetValue<bool>() == succeeded;
        });
        return last!;
    }

    /// <summary>Replaces the file in one rename, as editors and GitOps tools do, so no half-written file is seen.</summary>
    private static async Task WriteAtomicallyAsync(string path, string text)
    {
        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    private static bool ProcessExists(string? pid) => pid is not null && Directory.Exists($"/proc/{pid}");
}
