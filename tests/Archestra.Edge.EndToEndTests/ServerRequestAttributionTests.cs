using System.Text.Json;
using Archestra.Edge.EndToEndTests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// A server-to-client request that an upstream sends outside of the call's stream (on its GET stream) reaches the
/// client when it can only be that client's: the one whose call is in flight.
/// </summary>
public sealed class ServerRequestAttributionTests
{
    [Fact]
    public async Task AnUnlinkedElicitation_DuringTheOnlyCallInFlight_IsAskedOfThatCallsClient()
    {
        await using var upstream = await UnlinkedRequestUpstream.StartAsync();
        await using var gateway = await GatewayProcess.InFrontOfAsync("unlinked", upstream.Url);
        var asked = 0;
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = (request, _) =>
                {
                    Interlocked.Increment(ref asked);
                    return ValueTask.FromResult(new ElicitResult
                    {
                        Action = "accept",
                        Content = new Dictionary<string, JsonElement> { ["name"] = JsonSerializer.SerializeToElement("ada") },
                    });
                },
            },
        };
        await using var client = await Clients.ConnectAsync(gateway.ProfileUrl("p"), options);

        var result = await client.CallToolAsync("unlinked__ask").AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, asked);
        Assert.Contains("\"action\":\"accept\"", Clients.Text(result), StringComparison.Ordinal);
        Assert.Contains("ada", Clients.Text(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnlinkedElicitation_ForAClientWithoutTheCapability_IsRefusedToTheUpstream()
    {
        await using var upstream = await UnlinkedRequestUpstream.StartAsync();
        await using var gateway = await GatewayProcess.InFrontOfAsync("unlinked", upstream.Url);
        await using var client = await Clients.ConnectAsync(gateway.ProfileUrl("p"));

        var result = await client.CallToolAsync("unlinked__ask").AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("refused:", Clients.Text(result), StringComparison.Ordinal);
        Assert.Contains("capability", Clients.Text(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnlinkedElicitation_WhileCallsOfTwoClientsAreInFlight_IsNobodys_AndRefused()
    {
        // Both calls are in flight before the server asks: the request could be either client's, so neither is asked.
        await using var upstream = await UnlinkedRequestUpstream.StartAsync(together: 2);
        await using var gateway = await GatewayProcess.InFrontOfAsync("unlinked", upstream.Url);
        var asked = 0;
        McpClientOptions Options() => new()
        {
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = (request, _) =>
                {
                    Interlocked.Increment(ref asked);
                    return ValueTask.FromResult(new ElicitResult { Action = "decline" });
                },
            },
        };
        await using var first = await Clients.ConnectAsync(gateway.ProfileUrl("p"), Options());
        await using var second = await Clients.ConnectAsync(gateway.ProfileUrl("p"), Options());

        var results = await Task.WhenAll(first.CallToolAsync("unlinked__ask").AsTask(), second.CallToolAsync("unlinked__ask").AsTask()).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, asked);
        Assert.All(results, result => Assert.Contains("refused: The gateway relays a server-to-client request only when it is certain which client", Clients.Text(result), StringComparison.Ordinal));
    }
}
