using ModelContextProtocol;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>
/// Progress checked on the wire, where nothing reorders it. (The C# SDK client hands each incoming message to the
/// thread pool and drops a call's progress handler once the response is in, so through it an update read together
/// with the response can arrive out of order or not at all: tests through the SDK only check what does arrive.)
/// </summary>
internal static class ProgressOnTheWire
{
    /// <summary>Calls a test server's <c>progress</c> tool with 3 steps; asserts 3 updates in order with the client's token, then the response.</summary>
    public static async Task AssertInOrderAsync(Uri profileUrl, string tool)
    {
        using var raw = new RawMcpClient(profileUrl);
        await raw.InitializeAsync();
        using var response = await raw.SendAsync(
            """{"jsonrpc":"2.0","id":"p-1","method":"tools/call","params":{"name":"TOOL","arguments":{"steps":3},"_meta":{"progressToken":"mine"}}}""".Replace("TOOL", tool, StringComparison.Ordinal));
        var messages = await RawMcpClient.ReadMessagesAsync(response);

        Assert.Equal(4, messages.Count);
        Assert.All(messages.Take(3), m => Assert.Equal("notifications/progress", m["method"]!.GetValue<string>()));
        Assert.All(messages.Take(3), m => Assert.Equal("mine", m["params"]!["progressToken"]!.GetValue<string>()));
        Assert.Equal([0f, 50f, 100f], messages.Take(3).Select(m => m["params"]!["progress"]!.GetValue<float>()));
        Assert.Equal("step 3 of 3", messages[2]["params"]!["message"]!.GetValue<string>());
        Assert.Equal("p-1", messages[3]["id"]!.GetValue<string>());
        Assert.Equal("done in 3 steps", messages[3]["result"]!["content"]![0]!["text"]!.GetValue<string>());
    }

    /// <summary>What the SDK client's progress handler received: updates of the three the server sent, none twice.</summary>
    public static void AssertReceivedThroughTheSdk(IReadOnlyCollection<float> received)
    {
        Assert.NotEmpty(received);
        Assert.All(received, p => Assert.Contains(p, (float[])[0f, 50f, 100f]));
        Assert.Equal(received.Count, received.Distinct().Count());
    }
}

/// <summary>Collects what an SDK client's progress handler receives (on pool threads).</summary>
internal sealed class ProgressCollector : IProgress<ProgressNotificationValue>
{
    private readonly List<float> _received = [];

    public void Report(ProgressNotificationValue value)
    {
        lock (_received)
        {
            _received.Add(value.Progress);
        }
    }

    public List<float> Received()
    {
        lock (_received)
        {
            return [.. _received];
        }
    }
}
