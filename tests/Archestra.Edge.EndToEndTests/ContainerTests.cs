using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace Archestra.Edge.EndToEndTests;

/// <summary>Servers in real podman containers, from a locally built image: called, restarted, never left behind.</summary>
public sealed class ContainerTests
{
    [SkippableFact]
    public async Task StdioContainer_IsCalled_RestartedWhenKilled_AndRemovedWithTheGateway()
    {
        Skip.If(ContainerImages.Skipped, ContainerImages.SkipReason);

        await ContainerImages.EnsureAsync();
        var dataDirectory = Directory.CreateTempSubdirectory("archestra-data-").FullName;
        try
        {
            await using var gateway = await GatewayProcess.StartAsync($$"""
                server: { data_dir: "{{dataDirectory}}" }
                servers:
                  boxed:
                    container:
                      image: {{ContainerImages.Echo}}
                      args: ["--stdio", "--name", "boxed", "--tools", "3"]
                      memory: 128m
                      cpus: "0.5"
                profiles:
                  p: { tools: [{ server: boxed }] }
                """);
            var instance = (await File.ReadAllTextAsync(Path.Combine(dataDirectory, "instance-id"))).Trim();
            var label = $"archestra.edge.instance={instance}";
            await using var client = await Clients.ConnectAsync(gateway.ProfileUrl("p"));

            Assert.Equal(["boxed__echo", "boxed__tool_1", "boxed__tool_2"], (await client.ListToolsAsync()).Select(t => t.Name).Order().ToArray());
            Assert.Contains("from the box", Clients.Text(await client.CallToolAsync("boxed__echo", new Dictionary<string, object?> { ["text"] = "from the box" })));

            var containers = await ContainerImages.WithLabelAsync(label);
            var container = Assert.Single(containers);
            var (_, inspect) = await ContainerImages.PodmanAsync("inspect", "--format", "{{.HostConfig.NetworkMode}} {{.HostConfig.Memory}} {{.Config.Labels}}", container);
            Assert.StartsWith("none 134217728", inspect.Trim(), StringComparison.Ordinal); // no network, 128 MiB
            Assert.Contains("archestra.edge.server:boxed", inspect, StringComparison.Ordinal);
            var status = (await gateway.StatusAsync())["servers"]![0]!["replicas"]![0]!;
            Assert.StartsWith("container archestra-", status["id"]!.GetValue<string>(), StringComparison.Ordinal);

            // Killed from outside: the gateway brings it back.
            await ContainerImages.PodmanAsync("kill", container);
            await Eventually.TrueAsync(async () =>
            {
                var replica = (await gateway.StatusAsync())["servers"]![0]!["replicas"]![0]!;
                return replica["state"]!.GetValue<string>() == "ready" && replica["restarts"]!.GetValue<int>() == 1;
            }, seconds: 30);
            Assert.Contains("again", Clients.Text(await client.CallToolAsync("boxed__echo", new Dictionary<string, object?> { ["text"] = "again" })));
            Assert.NotEqual(container, Assert.Single(await ContainerImages.WithLabelAsync(label)));

            // Stopped with the gateway: nothing left.
            gateway.Process.Signal(15);
            await gateway.Process.WaitForExitAsync(TimeSpan.FromSeconds(20));
            await Eventually.TrueAsync(async () => (await ContainerImages.WithLabelAsync(label)).Length == 0);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [SkippableFact]
    public async Task KilledGateway_LeavesNoContainer_AndTheNextStartSweepsByLabel()
    {
        Skip.If(ContainerImages.Skipped, ContainerImages.SkipReason);

        await ContainerImages.EnsureAsync();
        var dataDirectory = Directory.CreateTempSubdirectory("archestra-data-").FullName;
        try
        {
            var yaml = $$"""
                server: { data_dir: "{{dataDirectory}}" }
                servers:
                  boxed:
                    container: { image: {{ContainerImages.Echo}}, args: ["--stdio"] }
                    start: eager
                profiles:
                  p: { tools: [{ server: boxed }] }
                """;
            var gateway = await GatewayProcess.StartAsync(yaml);
            var instance = (await File.ReadAllTextAsync(Path.Combine(dataDirectory, "instance-id"))).Trim();
            var label = $"archestra.edge.instance={instance}";
            await Eventually.TrueAsync(async () => (await ContainerImages.WithLabelAsync(label)).Length == 1, seconds: 30);

            // A container of this instance that something left behind (started by hand here), plus the gateway dying hard.
            var (code, output) = await ContainerImages.PodmanAsync("run", "-d", "--label", label, "--network", "none", ContainerImages.Echo, "--http", "--port", "1");
            Assert.True(code == 0, output);
            gateway.Process.Signal(9);
            await gateway.Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await gateway.DisposeAsync();

            // The stdio container goes with its client's stdin; the stray one is swept at the next start.
            await using var next = await GatewayProcess.StartAsync(yaml.Replace("start: eager", "start: lazy", StringComparison.Ordinal));
            await Eventually.TrueAsync(async () => (await ContainerImages.WithLabelAsync(label)).Length == 0, seconds: 30);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [SkippableFact]
    public async Task HttpContainer_OnAPublishedLoopbackPort_IsCalled()
    {
        Skip.If(ContainerImages.Skipped, ContainerImages.SkipReason);

        await ContainerImages.EnsureAsync();
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              web:
                container:
                  image: {{ContainerImages.Echo}}
                  args: ["--http", "--host", "0.0.0.0", "--port", "8080", "--name", "web"]
                  transport: http
                  port: 8080
                  network: bridge
            profiles:
              p: { tools: [{ server: web }] }
            """);
        await using var client = await Clients.ConnectAsync(gateway.ProfileUrl("p"));

        Assert.Contains("over http", Clients.Text(await client.CallToolAsync("web__echo", new Dictionary<string, object?> { ["text"] = "over http" })));
        var id = (await gateway.StatusAsync())["servers"]![0]!["replicas"]![0]!["id"]!.GetValue<string>();
        Assert.StartsWith("container archestra-", id, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task MissingImage_IsAClearError()
    {
        Skip.If(ContainerImages.Skipped, ContainerImages.SkipReason);

        await using var gateway = await GatewayProcess.StartAsync("""
            servers:
              ghost:
                container: { image: "localhost/no-such-image:1" }
            profiles:
              p: { tools: [{ server: ghost }] }
            """);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();

        var call = await client.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ghost__echo"}}""");

        Assert.Equal(-32010, call["error"]!["code"]!.GetValue<int>());
        Assert.Contains("is not in podman's local store", call["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.IsType<JsonObject>(call);
    }
}
