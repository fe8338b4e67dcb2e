using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// <c>logging/setLevel</c> reaches the upstream: a server that logs only once a level was set (as the C# SDK's servers
/// do) logs through the gateway, at the most verbose level any of its clients asked for, while each client still
/// gets only what its own level lets through.
/// </summary>
public sealed class LoggingTests(LoggingTests.Fixture fixture) : IClassFixture<LoggingTests.Fixture>
{
    private readonly GatewayProcess _gateway = fixture.Gateway;

    public sealed class Fixture() : GatewayFixture(() => $$"""
            servers:
              local:
                {{TestServerProcess.StdioYaml("logging-local")}}
            profiles:
              p: { tools: [{ server: local }] }
            """);

    [Fact]
    public async Task TheUpstreamLogsAtTheMostVerboseLevelAClientAsked_AndEachClientGetsItsOwnShare()
    {
        using var quiet = new RawMcpClient(_gateway.ProfileUrl("p"));
        await quiet.InitializeAsync();

        // No client set a level: a server that respects levels sends nothing.
        var (text, logs) = await LogAsync(quiet, "error");
        Assert.Equal("not logged (level unset)", text);
        Assert.Empty(logs);

        // One client asks for warnings: the server now logs errors, not info.
        await SetLevelAsync(quiet, "warning");
        (text, logs) = await LogAsync(quiet, "error");
        Assert.Equal("logged", text);
        Assert.Equal(["error"], logs);
        (text, _) = await LogAsync(quiet, "info");
        Assert.StartsWith("not logged", text, StringComparison.Ordinal);

        // Another asks for debug: the shared server is asked for debug, and each client's filter still holds.
        using var verbose = new RawMcpClient(_gateway.ProfileUrl("p"));
        await verbose.InitializeAsync();
        await SetLevelAsync(verbose, "debug");
        (text, logs) = await LogAsync(verbose, "info");
        Assert.Equal("logged", text);
        Assert.Equal(["info"], logs);
        (text, logs) = await LogAsync(quiet, "info");
        Assert.Equal("logged", text); // the server logged it...
        Assert.Empty(logs);            // ...and the gateway kept it from the client that wants warnings and above
    }

    private static async Task SetLevelAsync(RawMcpClient client, string level)
    {
        var response = await client.RequestAsync("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"logging/setLevel\",\"params\":{\"level\":\"" + level + "\"}}");
        Assert.NotNull(response["result"]);
    }

    /// <summary>Calls the server's level-respecting log tool; the tool's answer and the levels of the log messages the client received.</summary>
    private static async Task<(string Text, List<string> Levels)> LogAsync(RawMcpClient client, string level)
    {
        using var response = await client.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"local__log\",\"arguments\":{\"level\":\"" + level + "\",\"message\":\"m\",\"respect_level\":true}}}");
        var messages = await RawMcpClient.ReadMessagesAsync(response);
        var levels = messages.Where(m => m["method"]?.GetValue<string>() == "notifications/message").Select(m => m["params"]!["level"]!.GetValue<string>()).ToList();
        var text = messages.Last()["result"]!["content"]![0]!["text"]!.GetValue<string>();
        return (text, levels);
    }
}
