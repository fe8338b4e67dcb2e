using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// <c>registry search|show|add</c>: the built-in catalog and catalog files in the official <c>server.json</c> format;
/// <c>add</c> appends a working <c>servers:</c> entry and leaves the rest of the file exactly as it was.
/// </summary>
public sealed class RegistryTests
{
    private const string Original = """
        # My gateway. Comments, order and blank lines must survive.
        server:
          listen: ["http://127.0.0.1:9000"]

        servers:
            edge:
                builtin: archestra   # four-space indentation, kept for new entries too
            # a commented-out server stays put
        profiles:
          p:
            tools: [{ server: edge }, { server: weather }]
        """;

    [Fact]
    public async Task SearchAndShow_ReadTheBuiltInCatalog()
    {
        var (code, output) = await RunAsync("registry", "search", "git");
        Assert.Equal(0, code);
        Assert.Contains("io.github.modelcontextprotocol/server-git", output, StringComparison.Ordinal);
        Assert.Contains("io.github.github/github-mcp-server", output, StringComparison.Ordinal);
        Assert.DoesNotContain("playwright", output, StringComparison.Ordinal);

        (code, output) = await RunAsync("registry", "show", "filesystem");
        Assert.Equal(0, code);
        Assert.Contains("package: npm @modelcontextprotocol/server-filesystem 2026.8.31", output, StringComparison.Ordinal);
        Assert.Contains("args: [\"-y\", \"@modelcontextprotocol/server-filesystem@2026.8.31\", \"${env:ALLOWED_DIR}\"]", output, StringComparison.Ordinal);
        Assert.Contains("set before starting the gateway: ALLOWED_DIR", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_AppendsAWorkingEntry_AndKeepsEveryOtherLine()
    {
        await using var upstream = await TestServerProcess.StartHttpAsync("weather-upstream");
        var directory = Directory.CreateTempSubdirectory("archestra-registry-").FullName;
        var catalog = Path.Combine(directory, "catalog.json");
        await File.WriteAllTextAsync(catalog, $$"""
            { "servers": [
              { "server": {
                  "name": "io.github.acme/weather-mcp-server", "description": "Weather for the acme fleet", "version": "1.4.0",
                  "remotes": [ { "type": "streamable-http", "url": "{{upstream.Url}}",
                                 "headers": [ { "name": "X-Api-Key", "value": "{api_key}", "isRequired": true, "isSecret": true } ] } ],
                  "packages": [
                    { "registryType": "npm", "identifier": "@acme/weather", "version": "1.4.0", "transport": { "type": "stdio" },
                      "packageArguments": [ { "type": "named", "name": "--units", "default": "metric" }, { "type": "positional", "valueHint": "city", "isRequired": true } ],
                      "environmentVariables": [ { "name": "WEATHER_TOKEN", "isRequired": true, "isSecret": true }, { "name": "LOG_LEVEL", "default": "info" } ] },
                    { "registryType": "pypi", "identifier": "acme-weather", "version": "1.4.0", "transport": { "type": "stdio" } },
                    { "registryType": "oci", "identifier": "ghcr.io/acme/weather", "version": "1.4.0", "transport": { "type": "stdio" } }
                  ] } } ] }
            """);
        var config = Path.Combine(directory, "archestra.yaml");
        await File.WriteAllTextAsync(config, Original);

        var (code, output) = await RunAsync("registry", "add", "weather", "--catalog", catalog, "--config", config);
        Assert.True(code == 0, output);
        Assert.Contains("set before starting the gateway: API_KEY", output, StringComparison.Ordinal);
        foreach (var (use, name) in new[] { ("npm", "weather-npm"), ("pypi", "weather-pypi"), ("oci", "weather-oci") })
        {
            (code, output) = await RunAsync("registry", "add", "io.github.acme/weather-mcp-server", "--use", use, "--as", name, "--catalog", catalog, "--config", config);
            Assert.True(code == 0, output);
        }

        var updated = await File.ReadAllTextAsync(config);
        Assert.Equal(Original.Split('\n'), Without(updated, "weather"));  // every original line, in order, unchanged
        Assert.Contains("\n    weather:  # io.github.acme/weather-mcp-server 1.4.0", updated, StringComparison.Ordinal); // indented like 'edge'
        Assert.Contains("args: [\"-y\", \"@acme/weather@1.4.0\", \"--units\", \"metric\", \"${env:CITY}\"]", updated, StringComparison.Ordinal);
        Assert.Contains("env: { WEATHER_TOKEN: \"${env:WEATHER_TOKEN}\", LOG_LEVEL: \"${env:LOG_LEVEL:-info}\" }", updated, StringComparison.Ordinal);
        Assert.Contains("args: [\"acme-weather==1.4.0\"]", updated, StringComparison.Ordinal);
        Assert.Contains("image: \"ghcr.io/acme/weather:1.4.0\"", updated, StringComparison.Ordinal);

        // The remote entry works: its secret header comes from the environment.
        var environment = new Dictionary<string, string> { ["API_KEY"] = "k-123", ["CITY"] = "Oslo", ["WEATHER_TOKEN"] = "t" };
        await using (var validate = ChildProcess.Start(Repository.GatewayBinary, ["validate", "--config", config], environment))
        {
            Assert.Equal(0, await validate.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        await using var gateway = ChildProcess.Start(Repository.GatewayBinary, ["serve", "--config", config, "--listen", "http://127.0.0.1:0"], environment, directory);
        var line = await gateway.WaitForLineAsync(l => l.Contains(" listening on ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var baseUrl = new Uri(line[(line.IndexOf("http://", StringComparison.Ordinal))..].Trim());
        using var client = new RawMcpClient(new Uri(baseUrl, "/v1/mcp/p"));
        await client.InitializeAsync();
        var headers = await client.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"weather__headers","arguments":{}}}""");
        Assert.Contains("k-123", headers["result"]!["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CatalogsListedInTheConfig_AreSearched_AndAMissingOneIsAConfigError()
    {
        var directory = Directory.CreateTempSubdirectory("archestra-registry-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "team-catalog.json"), """
            [ { "name": "io.github.acme/ledger", "description": "The acme ledger", "remotes": [ { "type": "sse", "url": "https://ledger.acme.test/sse" } ] } ]
            """);
        var config = Path.Combine(directory, "archestra.yaml");
        await File.WriteAllTextAsync(config, "registry: { catalogs: [./team-catalog.json] }\nservers: { edge: { builtin: archestra } }\nprofiles: { p: { tools: [{ server: edge }] } }\n");

        var (code, output) = await RunAsync("registry", "search", "ledger", "--config", config);
        Assert.Equal(0, code);
        Assert.Contains("io.github.acme/ledger", output, StringComparison.Ordinal);
        (code, output) = await RunAsync("registry", "show", "ledger", "--config", config);
        Assert.Contains("transport: \"sse\"", output, StringComparison.Ordinal);

        await File.WriteAllTextAsync(config, "registry: { catalogs: [./gone.json] }\nservers: { edge: { builtin: archestra } }\nprofiles: { p: { tools: [{ server: edge }] } }\n");
        (code, output) = await RunAsync("validate", "--config", config);
        Assert.Equal(1, code);
        Assert.Contains("registry.catalogs[0]: no such file", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_Refuses_AndLeavesTheFile_WhenItCannot()
    {
        var directory = Directory.CreateTempSubdirectory("archestra-registry-").FullName;
        var config = Path.Combine(directory, "archestra.yaml");

        const string flow = "servers: { edge: { builtin: archestra } }\nprofiles: { p: { tools: [{ server: edge }] } }\n";
        await File.WriteAllTextAsync(config, flow);
        var (code, output) = await RunAsync("registry", "add", "memory", "--config", config);
        Assert.Equal(1, code);
        Assert.Contains("flow style", output, StringComparison.Ordinal);
        Assert.Equal(flow, await File.ReadAllTextAsync(config));

        await File.WriteAllTextAsync(config, Original.Replace("edge:", "memory:", StringComparison.Ordinal).Replace("server: edge", "server: memory", StringComparison.Ordinal));
        var before = await File.ReadAllTextAsync(config);
        (code, output) = await RunAsync("registry", "add", "memory", "--config", config);
        Assert.Equal(1, code);
        Assert.Contains("already is a server 'memory'", output, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(config));

        (code, output) = await RunAsync("registry", "add", "no-such-thing", "--config", config);
        Assert.Equal(1, code);
        Assert.Contains("no server 'no-such-thing'", output, StringComparison.Ordinal);
        (code, output) = await RunAsync("registry", "add", "memory", "--use", "remote", "--as", "m2", "--config", config);
        Assert.Equal(1, code);
        Assert.Contains("has no remote endpoint", output, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(config));
    }

    /// <summary>The file's lines without the entries <c>add</c> wrote (those starting with <paramref name="prefix"/>, and their children).</summary>
    private static string[] Without(string text, string prefix)
    {
        var kept = new List<string>();
        var skipping = -1;
        foreach (var line in text.Split('\n'))
        {
            var indent = line.Length - line.TrimStart().Length;
            if (skipping >= 0 && indent > skipping && line.Trim().Length > 0)
            {
                continue;
            }

            skipping = -1;
            if (line.TrimStart().StartsWith(prefix, StringComparison.Ordinal) && line.Contains("(from ", StringComparison.Ordinal))
            {
                skipping = indent;
                continue;
            }

            kept.Add(line);
        }

        return [.. kept];
    }

    /// <summary>
    /// The shipped catalog's npm entry for the memory server, added to a config, validates and serves its tools through
    /// the gateway: npx fetches the package from the npm feed, as it would on a user's machine.
    /// </summary>
    [Fact]
    public async Task ShippedNpmEntry_Added_Validates_AndServesItsTools()
    {
        var directory = Directory.CreateTempSubdirectory("archestra-registry-npm-").FullName;
        try
        {
            var config = Path.Combine(directory, "archestra.yaml");
            await File.WriteAllTextAsync(config, "servers:\n  edge: { builtin: archestra }\nprofiles:\n  p:\n    tools:\n      - server: edge\n");
            var (code, output) = await RunAsync("registry", "add", "memory", "--config", config);
            Assert.True(code == 0, output);
            var yaml = await File.ReadAllTextAsync(config);
            Assert.Contains("args: [\"-y\", \"@modelcontextprotocol/server-memory@2026.8.31\"]", yaml, StringComparison.Ordinal);

            // Assigned to the profile, as `add` suggests; then the file validates.
            await File.AppendAllTextAsync(config, "      - server: memory\n");
            (code, output) = await RunAsync("validate", "--config", config);
            Assert.True(code == 0, output);

            await using var gateway = await GatewayProcess.StartAsync(await File.ReadAllTextAsync(config));
            using var client = new RawMcpClient(gateway.ProfileUrl("p"));
            await client.InitializeAsync();
            await Eventually.TrueAsync(async () =>
            {
                var list = await client.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""");
                return list["result"]?["tools"]?.AsArray().Any(t => t!["name"]!.GetValue<string>() == "memory__read_graph") == true;
            }, seconds: 120);

            var created = await client.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"memory__create_entities","arguments":{"entities":[{"name":"edge","entityType":"gateway","observations":["added from the registry"]}]}}}""");
            Assert.True(created["result"] is not null && created["result"]!["isError"]?.GetValue<bool>() != true, created.ToJsonString());
            var graph = await client.RequestAsync("""{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"memory__read_graph","arguments":{}}}""");
            Assert.Contains("added from the registry", graph.ToJsonString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// An entry whose secret is not set here: add writes it and says that validate and serve refuse the file until the
    /// variable is set; validate then says the same, naming it; set, the file validates.
    /// </summary>
    [Fact]
    public async Task AddedEntryWithAnUnsetSecret_AddAndValidateAgree_OnWhatToSet()
    {
        var directory = Directory.CreateTempSubdirectory("archestra-registry-github-").FullName;
        try
        {
            var config = Path.Combine(directory, "archestra.yaml");
            await File.WriteAllTextAsync(config, "servers:\n  edge: { builtin: archestra }\nprofiles:\n  p:\n    tools:\n      - server: edge\n");
            var (code, output) = await RunAsync("registry", "add", "github", "--config", config);
            Assert.True(code == 0, output);
            Assert.Contains("set before starting the gateway: GITHUB_TOKEN", output, StringComparison.Ordinal);
            Assert.Contains("until GITHUB_TOKEN is set, validate and serve refuse this file: export GITHUB_TOKEN=…", output, StringComparison.Ordinal);

            (code, output) = await RunAsync("validate", "--config", config);
            Assert.Equal(1, code);
            Assert.Contains("environment variable 'GITHUB_TOKEN' is not set", output, StringComparison.Ordinal);

            (code, output) = await RunAsync(new Dictionary<string, string> { ["GITHUB_TOKEN"] = "ghp_example" }, "validate", "--config", config);
            Assert.True(code == 0, output);

            // With the variable set, add says nothing of refusals.
            (code, output) = await RunAsync(new Dictionary<string, string> { ["GITHUB_TOKEN"] = "ghp_example" }, "registry", "add", "github", "--as", "github2", "--config", config);
            Assert.True(code == 0, output);
            Assert.DoesNotContain("refuse", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Task<(int Code, string Output)> RunAsync(params string[] args) => RunAsync(null, args);

    private static async Task<(int Code, string Output)> RunAsync(IDictionary<string, string>? environment, params string[] args)
    {
        await using var process = ChildProcess.Start(Repository.GatewayBinary, args, environment, workingDirectory: Path.GetTempPath());
        var code = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (code, process.Output);
    }
}
