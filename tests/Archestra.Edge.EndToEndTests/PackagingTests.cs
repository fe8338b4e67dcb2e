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
        await Task.Delay(50);
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
