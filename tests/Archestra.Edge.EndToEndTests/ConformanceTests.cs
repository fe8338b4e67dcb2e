using System.Text.RegularExpressions;
using Archestra.Edge.EndToEndTests.Infrastructure;
using Xunit.Abstractions;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// The MCP conformance suite (<c>@modelcontextprotocol/conformance</c> 0.1.16, server mode, the 30 active
/// scenarios) against our conformance upstream directly, as the baseline, and through the gateway in front of
/// it over HTTP and over stdio. The gateway must not lose a scenario.
/// </summary>
public sealed partial class ConformanceTests : IAsyncLifetime
{
    private const int ActiveScenarios = 30;

    private readonly ITestOutputHelper _output;
    private TestServerProcess _upstream = null!;
    private GatewayProcess _gateway = null!;

    public ConformanceTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public async Task InitializeAsync()
    {
        _upstream = await TestServerProcess.StartHttpAsync("conformance-upstream");
        _gateway = await GatewayProcess.StartAsync($$"""
            servers:
              conformance:
                remote: { url: "{{_upstream.Url}}" }
              conformance-stdio:
                {{TestServerProcess.StdioYaml("conformance-stdio")}}
            profiles:
              conformance:
                naming: bare
                tools: [{ server: conformance }]
                prompts: [{ server: conformance }]
                resources: [{ server: conformance }]
              conformance-stdio:
                naming: bare
                tools: [{ server: conformance-stdio }]
                prompts: [{ server: conformance-stdio }]
                resources: [{ server: conformance-stdio }]
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Gateway_LosesNoScenario_OverHttpOrStdio()
    {
        var baseline = await RunSuiteAsync(_upstream.Url);
        Assert.Equal(ActiveScenarios, baseline.Count);
        Assert.All(baseline, s => Assert.True(s.Value, $"baseline scenario {s.Key} fails against the upstream itself"));

        foreach (var profile in new[] { "conformance", "conformance-stdio" })
        {
            var throughGateway = await RunSuiteAsync(_gateway.ProfileUrl(profile));
            Assert.Equal(baseline.Keys.Order(), throughGateway.Keys.Order());
            var lost = baseline.Where(s => s.Value && !throughGateway[s.Key]).Select(s => s.Key).ToList();
            Assert.True(lost.Count == 0, $"through the gateway ({profile}) these scenarios fail: {string.Join(", ", lost)}");
        }
    }

    internal async Task<Dictionary<string, bool>> RunSuiteAsync(Uri url, string package = "@modelcontextprotocol/conformance", params string[] options)
    {
        var cli = Path.Combine(Repository.NpmPackage(package), "dist", "index.js");
        Assert.True(File.Exists(Repository.Node), $"Node 22 is missing at {Repository.Node}; run npm ci in tests/node (./build.sh does).");
        var workDirectory = Directory.CreateTempSubdirectory("conformance-").FullName;
        await using var process = ChildProcess.Start(Repository.Node, [cli, "server", "--url", url.ToString(), .. options], workingDirectory: workDirectory);
        await process.WaitForExitAsync(TimeSpan.FromMinutes(5));
        var output = process.Output;
        _output.WriteLine($"== conformance against {url}\n{SummaryOf(output)}");

        var results = new Dictionary<string, bool>();
        foreach (Match match in ScenarioLine().Matches(output))
        {
            results[match.Groups["name"].Value] = match.Groups["mark"].Value == "✓" && match.Groups["failed"].Value == "0";
        }

        Assert.True(results.Count > 0, $"no scenario results in the output:\n{output}");
        try
        {
            Directory.Delete(workDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

        return results;
    }

    private static string SummaryOf(string output)
    {
        var at = output.IndexOf("=== SUMMARY ===", StringComparison.Ordinal);
        return at < 0 ? output : output[at..];
    }

    [GeneratedRegex(@"^(?<mark>[✓✗]) (?<name>[a-z0-9-]+): (?<passed>\d+) passed, (?<failed>\d+) failed", RegexOptions.Multiline)]
    private static partial Regex ScenarioLine();
}
