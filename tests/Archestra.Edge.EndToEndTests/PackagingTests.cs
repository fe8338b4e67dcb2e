using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>The shipped systemd unit: systemd accepts it, and its command lines work with this binary.</summary>
public sealed class PackagingTests
{
    private const string InstalledBinary = "/usr/local/bin/archestra-edge";
    private const string InstalledConfig = "/etc/archestra/archestra.yaml";

    private static readonly string s_unit = File.ReadAllText(Path.Combine(Repository.Root, "config", "systemd", "archestra-edge.service"));

    [Fact]
    public async Task SystemdUnit_Verifies()
    {
        if (!File.Exists("/usr/bin/systemd-analyze"))
        {
            Assert.Fail("systemd-analyze is missing (apt-get install systemd); .ci/run installs it");
        }

        // systemd checks that the executables exist, so point the unit at this build's binary.
        var directory = Directory.CreateTempSubdirectory("archestra-unit-").FullName;
        var unit = Path.Combine(directory, "archestra-edge.service");
        await File.WriteAllTextAsync(unit, s_unit.Replace(InstalledBinary, Repository.GatewayBinary, StringComparison.Ordinal));

        await using var verify = ChildProcess.Start("/usr/bin/systemd-analyze", ["verify", unit]);
        var code = await verify.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(code == 0, verify.Output);
        Assert.DoesNotContain("archestra-edge.service:", verify.Output, StringComparison.Ordinal); // no warnings about our unit
    }

    [Fact]
    public async Task SystemdUnit_CommandLines_ValidateServeAndStopOnSigterm()
    {
        var example = Path.Combine(Repository.Root, "archestra.yaml.example");
        var validate = Arguments("ExecStartPre");
        Assert.Equal(["validate", "--config", InstalledConfig], validate);
        await using (var check = ChildProcess.Start(Repository.GatewayBinary, Substitute(validate, example)))
        {
            Assert.Equal(0, await check.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        var serve = Arguments("ExecStart");
        Assert.Equal(["serve", "--config", InstalledConfig, "--data-dir", "/var/lib/archestra"], serve);
        var state = Directory.CreateTempSubdirectory("archestra-state-").FullName;
        await using var gateway = await GatewayProcess.StartAsync(await File.ReadAllTextAsync(example), "--data-dir", state);
        using (var client = new RawMcpClient(gateway.ProfileUrl("default")))
        {
            await client.InitializeAsync();
        }

        Assert.True(File.Exists(Path.Combine(state, "instance-id")), "state goes to --data-dir");
        Assert.Contains("KillSignal=SIGTERM", s_unit, StringComparison.Ordinal);
        gateway.Process.Signal(15);
        Assert.Equal(0, await gateway.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    private static string[] Arguments(string key)
    {
        var line = s_unit.Split('\n').Single(l => l.StartsWith(key + "=", StringComparison.Ordinal));
        var words = line[(key.Length + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(InstalledBinary, words[0]);
        return words[1..];
    }

    private static string[] Substitute(string[] arguments, string config)
        => [.. arguments.Select(a => a == InstalledConfig ? config : a)];
}

/// <summary>
/// The shipped Dockerfile, both stages built with podman on local stand-ins for its two base images (no registry is
/// reachable here): the build stage installs clang with apt and publishes the AOT binary with zero warnings (NuGet
/// restores from this machine's package folder), and the runtime image runs that binary as a non-root user on the
/// example config, keeps its state in the volume, and answers MCP clients through a published port.
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class DockerfileTests
{
    [SkippableFact]
    public async Task Dockerfile_BuildsTheAotBinary_AndItsImageServesTheExampleConfig_AsANonRootUser()
    {
        Skip.If(ContainerImages.Skipped, ContainerImages.SkipReason);

        await ContainerImages.EnsureGatewayBaseAsync();
        await ContainerImages.EnsureSdkBaseAsync();
        const string image = "localhost/archestra-edge-e2e:latest";
        var name = $"archestra-dockerfile-{Guid.NewGuid():N}"[..32];
        try
        {
            var (built, buildOutput) = await ContainerImages.PodmanAsync("build", "--pull=never",
                "--build-arg", $"SDK_IMAGE={ContainerImages.SdkBase}", "--build-arg", $"RUNTIME_IMAGE={ContainerImages.GatewayBase}",
                "-v", $"{ContainerImages.NuGetPackages}:/root/.nuget/packages:ro",
                "-f", Path.Combine(Repository.Root, "Dockerfile"), "-t", image, Repository.Root);
            Assert.True(built == 0, buildOutput);

            var (_, user) = await ContainerImages.PodmanAsync("image", "inspect", "--format", "{{.Config.User}} {{json .Config.Volumes}} {{json .Config.Cmd}}", image);
            Assert.StartsWith("app ", user, StringComparison.Ordinal);
            Assert.Contains("/var/lib/archestra", user, StringComparison.Ordinal);
            Assert.Contains("\"--data-dir\",\"/var/lib/archestra\"", user, StringComparison.Ordinal);

            var (ran, runOutput) = await ContainerImages.PodmanAsync("run", "-d", "--rm", "--name", name, "-p", "127.0.0.1::9000", image);
            Assert.True(ran == 0, runOutput);
            var (_, port) = await ContainerImages.PodmanAsync("port", name, "9000/tcp");
            var baseUrl = new Uri($"http://{port.Trim().Split('\n')[0]}");

            using var http = new HttpClient();
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (true)
            {
                try
                {
                    if ((await http.GetStringAsync(new Uri(baseUrl, "/healthz"))) == "ok\n")
                    {
                        break;
                    }
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline)
                {
                }

                await Task.Delay(200);
            }

            using var client = new RawMcpClient(new Uri(baseUrl, "/v1/mcp/default"));
            var initialized = await client.InitializeAsync();
            Assert.Equal("archestra-edge", initialized["result"]!["serverInfo"]!["name"]!.GetValue<string>());

            var (_, processUser) = await ContainerImages.PodmanAsync("top", name, "user");
            Assert.Contains("app", processUser, StringComparison.Ordinal);
            Assert.DoesNotContain("root", processUser, StringComparison.Ordinal);
            var whoami = await client.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"edge__whoami","arguments":{}}}""");
            Assert.Null(whoami["error"]);

            // The audit trail lives in the volume (written a moment after the call).
            var state = string.Empty;
            for (var attempt = 0; attempt < 50 && !state.Contains("whoami", StringComparison.Ordinal); attempt++)
            {
                await Task.Delay(100);
                (_, state) = await ContainerImages.PodmanAsync("exec", name, "/app/archestra-edge", "audit", "tail", "--config", "/etc/archestra/archestra.yaml", "--data-dir", "/var/lib/archestra");
            }

            Assert.Contains("whoami", state, StringComparison.Ordinal);
        }
        finally
        {
            await ContainerImages.PodmanAsync("rm", "-f", name);
            await ContainerImages.PodmanAsync("rmi", "-f", image);
        }
    }
}
