using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>The command line of the published binary: exit codes and what it prints.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task Version_PrintsNameAndVersion()
    {
        var (code, output) = await RunAsync("version");
        Assert.Equal(0, code);
        Assert.Matches(@"^archestra-edge \d+\.\d+\.\d+", output);
    }

    [Fact]
    public async Task Help_ListsTheCommands()
    {
        var (code, output) = await RunAsync("--help");
        Assert.Equal(0, code);
        Assert.Contains("serve", output, StringComparison.Ordinal);
        Assert.Contains("validate", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoArguments_OrUnknownCommand_IsUsageError()
    {
        Assert.Equal(2, (await RunAsync()).Code);
        var (code, output) = await RunAsync("frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("unknown command 'frobnicate'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_TheShippedExample_Succeeds()
    {
        var (code, output) = await RunAsync("validate", "--config", Path.Combine(Repository.Root, "archestra.yaml.example"));
        Assert.Equal(0, code);
        Assert.Contains("ok", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SchemaWrite_PutsTheSchemaBesideTheConfig_TheSameAsPrinted()
    {
        var directory = Directory.CreateTempSubdirectory("archestra-schema-").FullName;
        try
        {
            var copy = Path.Combine(directory, "archestra.yaml");
            File.Copy(Path.Combine(Repository.Root, "archestra.yaml.example"), copy);
            var (code, output) = await RunAsync("schema", "--write", "--config", copy);
            Assert.True(code == 0, output);
            var written = await File.ReadAllTextAsync(Path.Combine(directory, "archestra.schema.json"));
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(Repository.Root, "config", "archestra.schema.json")), written);
            Assert.Contains("$schema=archestra.schema.json", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Validate_ACurationKeyedByARenamedName_Passes_WithAWarningNamingTheUpstreamName()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "renamed.yaml");
        await File.WriteAllTextAsync(path, """
            servers:
              edge: { builtin: archestra }
            profiles:
              p:
                tools:
                  - server: edge
                    rename: { gateway_info: about }
                    describe: { about: "What this gateway is" }
            """);
        var (code, output) = await RunAsync("validate", "--config", path);
        Assert.Equal(0, code);
        Assert.Contains("renamed.yaml:8:28: warning: profiles.p.tools[0].describe.about: 'about' is the name 'gateway_info' is renamed to", output, StringComparison.Ordinal);
        Assert.Contains("hint: key it by 'gateway_info'", output, StringComparison.Ordinal);
        Assert.Contains("ok (1 servers, 1 profiles, 1 warning)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_ABadFile_ReportsEveryErrorWithPosition_AndExits1()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "bad.yaml");
        await File.WriteAllTextAsync(path, """
            servers:
              github:
                remtoe: { url: https://example.com/mcp }
            profiles:
              dev:
                naming: fancy
                tools: [{ server: gitlab }]
            """);

        var (code, output) = await RunAsync("validate", "--config", path);

        Assert.Equal(1, code);
        Assert.Contains($"{path}:3:5: error: servers.github.remtoe: unknown key 'remtoe'", output, StringComparison.Ordinal);
        Assert.Contains("did you mean 'remote'?", output, StringComparison.Ordinal);
        Assert.Contains("3 errors", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WithABadFile_RefusesToStart()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "bad.yaml");
        await File.WriteAllTextAsync(path, "profiles: {}\n");
        var (code, output) = await RunAsync("serve", "--config", path);
        Assert.Equal(1, code);
        Assert.Contains("no profiles are defined", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_MissingFile_SaysSo()
    {
        var (code, output) = await RunAsync("validate", "--config", "/nonexistent/archestra.yaml");
        Assert.Equal(1, code);
        Assert.Contains("cannot read the config file", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WithAnUnusableDataDirectory_SaysWhichAndExits1()
    {
        var directory = Directory.CreateTempSubdirectory().FullName;
        var path = Path.Combine(directory, "archestra.yaml");
        var blocker = Path.Combine(directory, "a-file");
        await File.WriteAllTextAsync(blocker, "not a directory");
        await File.WriteAllTextAsync(path, "servers:\n  s: { remote: { url: http://127.0.0.1:1/mcp } }\nprofiles:\n  p: { tools: [{ server: s }] }\n");

        var (code, output) = await RunAsync("serve", "--config", path, "--listen", "http://127.0.0.1:0", "--data-dir", Path.Combine(blocker, "state"));

        Assert.Equal(1, code);
        Assert.Contains($"cannot use the data directory '{Path.Combine(blocker, "state")}'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DataDirOption_MovesTheTokenStore()
    {
        var directory = Directory.CreateTempSubdirectory().FullName;
        var path = Path.Combine(directory, "archestra.yaml");
        await File.WriteAllTextAsync(path, "servers:\n  s: { remote: { url: http://127.0.0.1:1/mcp } }\nprofiles:\n  p: { tools: [{ server: s }] }\n");
        var elsewhere = Path.Combine(directory, "elsewhere");

        var (created, _) = await RunAsync("token", "create", "--config", path, "--data-dir", elsewhere, "--scope", "org", "--name", "moved");
        var (_, listedThere) = await RunAsync("token", "list", "--config", path, "--data-dir", elsewhere);
        var (_, listedInDefault) = await RunAsync("token", "list", "--config", path);

        Assert.Equal(0, created);
        Assert.True(File.Exists(Path.Combine(elsewhere, "archestra.db")), "the database lives in --data-dir");
        Assert.Contains("moved", listedThere, StringComparison.Ordinal);
        Assert.DoesNotContain("moved", listedInDefault, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_StopsCleanlyOnSigterm_AndItsChildrenWithIt()
    {
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              local:
                {{TestServerProcess.StdioYaml("sigterm-child")}}
            profiles:
              p: { tools: [{ server: local }] }
            """);
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        await client.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"local__identify","arguments":{}}}""");
        Assert.NotEmpty(ProcessProbe.ChildrenNamed("sigterm-child"));

        gateway.Process.Signal(15);
        var code = await gateway.Process.WaitForExitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(0, code);
        Assert.Empty(ProcessProbe.ChildrenNamed("sigterm-child", withShims: true));
    }

    private static async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        await using var process = ChildProcess.Start(Repository.GatewayBinary, args);
        var code = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (code, process.Output);
    }
}
