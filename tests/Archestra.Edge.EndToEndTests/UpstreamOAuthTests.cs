using System.Text;
using System.Text.RegularExpressions;
using Archestra.Edge.EndToEndTests.Infrastructure;
using ModelContextProtocol.Client;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// The gateway as the OAuth client of an upstream: the upstream is a second Edge with its built-in authorization server
/// in front of the test server. An administrator connects the organisation with <c>connections connect</c> (the test
/// plays the browser on the upstream's consent page); calls then carry the connection's token, which is refreshed
/// when it nears its expiry, sealed at rest, and stops working when the upstream grant or the connection is revoked.
/// </summary>
public sealed partial class UpstreamOAuthTests
{
    private const string Alice = "archestra_upstream-alice-token-000000000000000000000";
    private const string EncryptionKey = "0123456789abcdef0123456789abcdef-test-only";

    [Fact]
    public async Task TheOrganisationConnects_CallsCarryTheToken_ItIsRefreshedSealedAndRevocable()
    {
        await using var upstream = await UpstreamEdge.StartAsync(Alice);

        var environment = new Dictionary<string, string> { ["ARCHESTRA_ENCRYPTION_KEY"] = EncryptionKey };
        await using var gateway = await GatewayProcess.StartAsync($$"""
            storage: { encryption_key: "${env:ARCHESTRA_ENCRYPTION_KEY}" }
            servers:
              upstream:
                remote: { url: "{{upstream.ProfileUrl("tools")}}", oauth: {} }
            profiles:
              p: { tools: [{ server: upstream }] }
            """, defaultSignals: false, environment);

        // No connection yet: the server's tools cannot even be listed, and a call says what to do.
        await using (var early = await Clients.ConnectAsync(gateway.ProfileUrl("p")))
        {
            Assert.Empty(await early.ListToolsAsync());
            var refused = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => early.CallToolAsync("upstream__echo", new Dictionary<string, object?> { ["text"] = "hi" }).AsTask());
            Assert.Contains("needs an OAuth connection", refused.Message, StringComparison.Ordinal);
            Assert.Contains("archestra-edge connections connect upstream", refused.Message, StringComparison.Ordinal);
        }

        // The administrator connects: the command prints the authorization URL and waits on its loopback address.
        await using (var connect = ChildProcess.Start(Repository.GatewayBinary, ["connections", "connect", "upstream", "--config", gateway.ConfigPath], environment))
        {
            var line = await connect.WaitForLineAsync(l => l.StartsWith("http", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            Assert.Contains("code_challenge_method=S256", line, StringComparison.Ordinal);
            Assert.Contains($"resource={Uri.EscapeDataString(upstream.ProfileUrl("tools").ToString())}", line, StringComparison.Ordinal);
            using var browser = new OAuthFlow(upstream.BaseUrl);
            var back = await browser.ApproveAsync(new Uri(line.Trim()), Alice);
            Assert.Equal("127.0.0.1", back.Host);
            using (var answer = await browser.Http.GetAsync(back))
            {
                Assert.Contains("Connected", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            Assert.Equal(0, await connect.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("connected 'upstream' for the organisation", connect.Output, StringComparison.Ordinal);
        }

        await using var client = await Clients.ConnectAsync(gateway.ProfileUrl("p"));
        // The server's list failed before the connection existed; it is read again at once for a call that names it.
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return (await client.CallToolAsync("upstream__echo", new Dictionary<string, object?> { ["text"] = "x" })).IsError != true;
            }
            catch (ModelContextProtocol.McpProtocolException)
            {
                return false;
            }
        }, 10, () => gateway.Process.Output);
        Assert.Equal("through the connection", Clients.Text(await client.CallToolAsync("upstream__echo", new Dictionary<string, object?> { ["text"] = "through the connection" })));

        // Sealed at rest: no JWT (the upstream's tokens are JWTs) and no refresh token in the gateway's database.
        var database = await File.ReadAllBytesAsync(Path.Combine(Path.GetDirectoryName(gateway.ConfigPath)!, "data", "archestra.db"));
        Assert.DoesNotContain("eyJ", Encoding.Latin1.GetString(database), StringComparison.Ordinal);
        Assert.DoesNotContain("archestra_rt_", Encoding.Latin1.GetString(database), StringComparison.Ordinal);
        await using (var list = ChildProcess.Start(Repository.GatewayBinary, ["connections", "list", "--config", gateway.ConfigPath], environment))
        {
            Assert.Equal(0, await list.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Matches(UpstreamRow(), list.Output);
        }

        // The access token lives 32 s and is refreshed 30 s before it expires: the next calls go through a refresh.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal("after a refresh", Clients.Text(await client.CallToolAsync("upstream__echo", new Dictionary<string, object?> { ["text"] = "after a refresh" })));
        await gateway.Process.WaitForLineAsync(l => l.Contains("Refreshed the OAuth connection of upstream 'upstream'", StringComparison.Ordinal), TimeSpan.FromSeconds(10));

        // The upstream revokes what alice approved: the token is refused, the refresh too, and the model is told to reconnect.
        await using (var revoke = ChildProcess.Start(Repository.GatewayBinary, ["grants", "revoke", "--user", "alice", "--config", upstream.ConfigPath]))
        {
            Assert.Equal(0, await revoke.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        await Eventually.TrueAsync(async () => (await RefusalAsync(client, "revoked?"))?.Contains("connect it again", StringComparison.Ordinal) == true, 15);

        // The token never reached the client, the gateway's log or its audit trail.
        Assert.DoesNotContain("eyJ", gateway.Process.Output, StringComparison.Ordinal);
        await using (var export = ChildProcess.Start(Repository.GatewayBinary, ["audit", "export", "--format", "jsonl", "--config", gateway.ConfigPath], environment))
        {
            Assert.Equal(0, await export.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.DoesNotContain("eyJ", export.Output, StringComparison.Ordinal);
        }

        // The gateway's side: revoking the connection stops its use within two seconds.
        await using (var drop = ChildProcess.Start(Repository.GatewayBinary, ["connections", "revoke", "upstream", "--config", gateway.ConfigPath], environment))
        {
            Assert.Equal(0, await drop.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        await Eventually.TrueAsync(async () => (await RefusalAsync(client, "gone?"))?.Contains("needs an OAuth connection", StringComparison.Ordinal) == true, 10);
    }

    /// <summary>Why a call is refused (a tool error, or an error response when the server's tools cannot be listed); null if it went through.</summary>
    private static async Task<string?> RefusalAsync(McpClient client, string text)
    {
        try
        {
            var result = await client.CallToolAsync("upstream__echo", new Dictionary<string, object?> { ["text"] = text });
            return result.IsError == true ? Clients.Text(result) : null;
        }
        catch (ModelContextProtocol.McpProtocolException ex)
        {
            return ex.Message;
        }
    }

    [GeneratedRegex(@"upstream\s+org\s+\d{4}-\d\d-\d\d \d\d:\d\d")]
    private static partial Regex UpstreamRow();
}
