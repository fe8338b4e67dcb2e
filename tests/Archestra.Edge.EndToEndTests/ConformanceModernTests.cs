using Archestra.Edge.EndToEndTests.Infrastructure;
using Xunit.Abstractions;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// The conformance suite's pre-release for the stateless revision (<c>@modelcontextprotocol/conformance@0.2.0-alpha.12</c>,
/// <c>server --requirements 2026-07-28</c>, installed as <c>conformance-2026</c>) against the 2026-07-28 fixture (the
/// C# SDK 2.4.0 in stateless mode with the suite's tools) directly, as the baseline, and through the gateway, which
/// must not lose a scenario: requests are stateless on both sides, and the multi-round-trip ones carry the gateway's
/// sealed request state.
/// </summary>
public sealed class ConformanceModernTests : IAsyncLifetime
{
    // The frozen server list of the suite's requirements/2026-07-28.yaml.
    private const int ScoredScenarios = 37;

    private readonly ITestOutputHelper _output;
    private TestServerProcess _upstream = null!;
    private GatewayProcess _gateway = null!;

    public ConformanceModernTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public async Task InitializeAsync()
    {
        _upstream = await TestServerProcess.StartHttpAsync("conformance-2026", "--era", "2026");
        _gateway = await GatewayProcess.StartAsync($$"""
            servers:
              modern:
                remote: { url: "{{_upstream.Url}}" }
            profiles:
              modern:
                naming: bare
                tools: [{ server: modern }]
                prompts: [{ server: modern }]
                resources: [{ server: modern }]
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Gateway_LosesNoScoredScenario_Of2026_07_28()
    {
        var runner = new ConformanceTests(_output);
        var scored = ScoredServerScenarios();
        Assert.Equal(ScoredScenarios, scored.Count);

        var baseline = await runner.RunSuiteAsync(_upstream.Url, "conformance-2026", "--requirements", "2026-07-28");
        var throughGateway = await runner.RunSuiteAsync(_gateway.ProfileUrl("modern"), "conformance-2026", "--requirements", "2026-07-28");
        Assert.All(scored, name => Assert.True(baseline.ContainsKey(name), $"scenario {name} did not run against the fixture"));
        var failingBaseline = scored.Where(name => !baseline[name]).ToList();
        Assert.True(failingBaseline.Count == 0, $"the 2026-07-28 fixture itself fails: {string.Join(", ", failingBaseline)}");

        var lost = scored.Where(name => !throughGateway.GetValueOrDefault(name)).ToList();
        Assert.True(lost.Count == 0, $"through the gateway these scored 2026-07-28 scenarios fail: {string.Join(", ", lost)}");

        // Unscored ones (extensions, pending) must not be lost either when the fixture passes them.
        var lostUnscored = baseline.Where(s => s.Value && !throughGateway.GetValueOrDefault(s.Key)).Select(s => s.Key).ToList();
        Assert.True(lostUnscored.Count == 0, $"through the gateway these scenarios fail although they pass directly: {string.Join(", ", lostUnscored)}");
    }

    /// <summary>The <c>server:</c> list of the package's frozen requirements for 2026-07-28.</summary>
    private static List<string> ScoredServerScenarios()
    {
        var file = Path.Combine(Repository.NpmPackage("conformance-2026"), "requirements", "2026-07-28.yaml");
        var names = new List<string>();
        var inServer = false;
        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith("server:", StringComparison.Ordinal))
            {
                inServer = true;
                continue;
            }

            if (inServer && line.StartsWith("  - ", StringComparison.Ordinal))
            {
                names.Add(line[4..].Trim());
            }
            else if (inServer && line.Length > 0 && !line.StartsWith(' '))
            {
                break;
            }
        }

        return names;
    }
}
