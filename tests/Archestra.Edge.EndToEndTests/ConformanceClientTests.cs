using System.Text.RegularExpressions;
using Archestra.Edge.EndToEndTests.Infrastructure;
using Xunit.Abstractions;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// The conformance suite's client scenarios (0.1.16) with the gateway between the scenario's server and the official
/// TypeScript SDK client (<c>tests/node/clients/through-gateway.mjs</c> starts the published gateway in front of the
/// scenario's URL): what the server checks of its client is then checked of the gateway — its initialize, its
/// resumption after <c>retry</c> (SEP-1699), and unlinked elicitation requests reaching the client, which applies the
/// schema defaults (SEP-1034). Each scenario passes with the same client directly, as the baseline.
/// </summary>
public sealed partial class ConformanceClientTests
{
    private readonly ITestOutputHelper _output;

    public ConformanceClientTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Theory]
    [InlineData("initialize")]
    [InlineData("tools_call")]
    [InlineData("sse-retry")]
    [InlineData("elicitation-sep1034-client-defaults")]
    public async Task ClientScenario_PassesThroughTheGateway_AsItDoesDirectly(string scenario)
    {
        var (directPassed, directTotal) = await RunAsync(scenario, direct: true);
        Assert.True(directTotal > 0 && directPassed == directTotal, $"{scenario}: the TypeScript client itself fails ({directPassed}/{directTotal})");

        var (passed, total) = await RunAsync(scenario, direct: false);
        Assert.True(total == directTotal && passed == total, $"{scenario} through the gateway: {passed}/{total} (directly {directPassed}/{directTotal})");
    }

    /// <summary>
    /// The authorization scenarios with the gateway as the OAuth client of the scenario's server
    /// (<c>tests/node/clients/auth-through-gateway.mjs</c>: <c>connections connect</c> with a fetch as the browser, or
    /// for <c>client_credentials</c> nothing, then calls through the gateway), beside the TypeScript SDK client with an
    /// OAuth provider. The gateway must pass every check (its totals are smaller: it reads metadata once). In step-up
    /// the server answers a call 403 <c>insufficient_scope</c>; the gateway's tool error names the command that
    /// connects again with the wider scope, which the adapter runs as the administrator would, and the call then
    /// goes through (the SDK client passes 3 of its 5 checks there).
    /// </summary>
    [Theory]
    [InlineData("auth/metadata-default", true)]
    [InlineData("auth/metadata-var1", true)]
    [InlineData("auth/metadata-var2", true)]
    [InlineData("auth/metadata-var3", true)]
    [InlineData("auth/basic-cimd", true)]
    [InlineData("auth/scope-from-www-authenticate", true)]
    [InlineData("auth/scope-from-scopes-supported", true)]
    [InlineData("auth/scope-omitted-when-undefined", true)]
    [InlineData("auth/scope-step-up", true)]
    [InlineData("auth/scope-retry-limit", true)]
    [InlineData("auth/token-endpoint-auth-basic", true)]
    [InlineData("auth/token-endpoint-auth-post", true)]
    [InlineData("auth/token-endpoint-auth-none", true)]
    [InlineData("auth/pre-registration", true)]
    [InlineData("auth/2025-03-26-oauth-metadata-backcompat", true)]
    [InlineData("auth/2025-03-26-oauth-endpoint-fallback", true)]
    [InlineData("auth/client-credentials-basic", true)]
    public async Task AuthScenario_TheGatewayAsOAuthClient_PassesEveryCheck(string scenario, bool everyCheck)
    {
        var (directPassed, directTotal) = await RunAsync(scenario, direct: true, adapterName: "auth-through-gateway.mjs");
        var (passed, total) = await RunAsync(scenario, direct: false, adapterName: "auth-through-gateway.mjs");
        _output.WriteLine($"{scenario}: the SDK client {directPassed}/{directTotal}, the gateway {passed}/{total}");
        Assert.True(directTotal >= 3, $"{scenario}: the baseline did not run ({directPassed}/{directTotal})");
        Assert.True(total >= 3, $"{scenario}: the gateway's run did not get far ({passed}/{total})");
        Assert.True(everyCheck ? passed == total : passed >= directPassed, $"{scenario}: the gateway passes {passed}/{total} (the SDK client {directPassed}/{directTotal})");
    }

    private async Task<(int Passed, int Total)> RunAsync(string scenario, bool direct, string adapterName = "through-gateway.mjs")
    {
        var cli = Path.Combine(Repository.NpmPackage("@modelcontextprotocol/conformance"), "dist", "index.js");
        var adapter = Path.Combine(Repository.Root, "tests", "node", "clients", adapterName);
        var workDirectory = Directory.CreateTempSubdirectory("conformance-client-").FullName;
        try
        {
            await using var process = ChildProcess.Start(Repository.Node, [cli, "client", "--scenario", scenario, "--command", $"{Repository.Node} {adapter}"],
                new Dictionary<string, string> { ["ADAPTER_DIRECT"] = direct ? "1" : "0", ["ARCHESTRA_EDGE_BINARY"] = Repository.GatewayBinary },
                workingDirectory: workDirectory);
            await process.WaitForExitAsync(TimeSpan.FromMinutes(2));
            var output = process.Output;
            _output.WriteLine($"== {scenario} ({(direct ? "directly" : "through the gateway")})\n{output}");
            var match = Summary().Match(output);
            Assert.True(match.Success, $"no summary in the output:\n{output}");
            return (int.Parse(match.Groups["passed"].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(match.Groups["total"].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            try
            {
                Directory.Delete(workDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [GeneratedRegex(@"Passed: (?<passed>\d+)/(?<total>\d+), (?<failed>\d+) failed")]
    private static partial Regex Summary();
}
