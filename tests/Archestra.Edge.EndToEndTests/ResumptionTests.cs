using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>A client that loses an event stream resumes it with <c>Last-Event-ID</c> and gets exactly what it missed.</summary>
public sealed class ResumptionTests(ResumptionTests.Fixture fixture) : IClassFixture<ResumptionTests.Fixture>
{
    private readonly GatewayProcess _gateway = fixture.Gateway;

    public sealed class Fixture() : GatewayFixture(() => $$"""
            servers:
              local:
                {{TestServerProcess.StdioYaml("local")}}
            profiles:
              p: { tools: [{ server: local }] }
            """);

    [Fact]
    public async Task LostCallStream_IsResumed_WithExactlyTheMissedEvents_AndTheResponse()
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync();

        var response = await client.SendAsync("""{"jsonrpc":"2.0","id":"call-1","method":"tools/call","params":{"name":"local__progress","arguments":{"steps":10},"_meta":{"progressToken":"tok"}}}""");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var received = new List<SseTestEvent>();
        using (var reader = new SseReader(await response.Content.ReadAsStreamAsync()))
        {
            var priming = (await reader.ReadAsync(TimeSpan.FromSeconds(10)))!;
            Assert.Equal(string.Empty, priming.Data); // 2025-11-25 priming: an id, no data
            Assert.NotNull(priming.Id);
            Assert.Equal(1000, priming.Retry);
            for (var i = 0; i < 3; i++)
            {
                received.Add((await reader.ReadAsync(TimeSpan.FromSeconds(10)))!);
            }
        }

        response.Dispose(); // the connection drops mid-call
        var lastSeen = received[^1].Id!;

        using var resumed = await client.GetStreamAsync(new Dictionary<string, string> { ["Last-Event-ID"] = lastSeen });
        Assert.Equal(200, (int)resumed.StatusCode);
        using (var reader = new SseReader(await resumed.Content.ReadAsStreamAsync()))
        {
            while (await reader.ReadAsync(TimeSpan.FromSeconds(20)) is { } sseEvent)
            {
                received.Add(sseEvent);
            }
        }

        var messages = received.Select(e => JsonNode.Parse(e.Data)!).ToList();
        var progress = messages.Where(m => m["method"]?.GetValue<string>() == "notifications/progress").ToList();
        Assert.Equal(10, progress.Count);
        Assert.All(progress, p => Assert.Equal("tok", p["params"]!["progressToken"]!.GetValue<string>()));
        Assert.Equal(
            Enumerable.Range(1, 10).Select(i => $"step {i} of 10"),
            progress.Select(p => p["params"]!["message"]!.GetValue<string>()));
        var final = messages[^1];
        Assert.Equal("call-1", final["id"]!.GetValue<string>());
        Assert.Equal("done in 10 steps", final["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(received.Count, received.Select(e => e.Id).Distinct().Count()); // no event twice
    }

    [Fact]
    public async Task LostGetStream_IsResumed_WithoutLosingOrRepeatingNotifications()
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        using var trigger = new RawMcpClient(_gateway.ProfileUrl("p"));
        await trigger.InitializeAsync();

        string lastSeen;
        var stream = await client.GetStreamAsync();
        using (var reader = new SseReader(await stream.Content.ReadAsStreamAsync()))
        {
            var priming = (await reader.ReadAsync(TimeSpan.FromSeconds(10)))!;
            Assert.Equal(string.Empty, priming.Data);
            await AddToolAsync(trigger, "one");
            var first = (await reader.ReadAsync(TimeSpan.FromSeconds(10)))!;
            Assert.Contains("notifications/tools/list_changed", first.Data, StringComparison.Ordinal);
            lastSeen = first.Id!;
        }

        stream.Dispose();
        await AddToolAsync(trigger, "two");
        await AddToolAsync(trigger, "three");

        using var resumed = await client.GetStreamAsync(new Dictionary<string, string> { ["Last-Event-ID"] = lastSeen });
        Assert.Equal(200, (int)resumed.StatusCode);
        var after = new List<SseTestEvent>();
        using (var reader = new SseReader(await resumed.Content.ReadAsStreamAsync()))
        {
            after.Add((await reader.ReadAsync(TimeSpan.FromSeconds(10)))!);
            after.Add((await reader.ReadAsync(TimeSpan.FromSeconds(10)))!);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.ReadAsync(TimeSpan.FromMilliseconds(700)));
        }

        Assert.All(after, e => Assert.Contains("notifications/tools/list_changed", e.Data, StringComparison.Ordinal));
        var sequence = after.Select(e => long.Parse(e.Id!.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var firstSequence = long.Parse(lastSeen.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal([firstSequence + 1, firstSequence + 2], sequence);
    }

    [Fact]
    public async Task UnknownLastEventId_OpensAPlainStream()
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync();

        using var stream = await client.GetStreamAsync(new Dictionary<string, string> { ["Last-Event-ID"] = "99.5" });

        Assert.Equal(200, (int)stream.StatusCode);
        using var reader = new SseReader(await stream.Content.ReadAsStreamAsync());
        Assert.Equal(string.Empty, (await reader.ReadAsync(TimeSpan.FromSeconds(10)))!.Data);
    }

    [Fact]
    public async Task OlderClients_GetEventIds_ButNoPrimingEvent()
    {
        using var client = new RawMcpClient(_gateway.ProfileUrl("p"));
        await client.InitializeAsync("2025-06-18");

        using var response = await client.SendAsync("""{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"local__progress","arguments":{"steps":2},"_meta":{"progressToken":1}}}""");
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        var first = (await reader.ReadAsync(TimeSpan.FromSeconds(10)))!;

        Assert.Contains("notifications/progress", first.Data, StringComparison.Ordinal);
        Assert.Matches(@"^\d+\.1$", first.Id!);
    }

    /// <summary>
    /// Adds a tool upstream, and waits until the gateway has read the new list (and so told its clients): the gateway
    /// coalesces announcements that arrive while it reads, so two quick additions could be one notification.
    /// </summary>
    private static async Task AddToolAsync(RawMcpClient client, string name)
    {
        var result = await client.RequestAsync($"{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"local__add_tool\",\"arguments\":{{\"name\":\"{name}\"}}}}}}");
        Assert.Equal($"added {name}", result["result"]!["content"]![0]!["text"]!.GetValue<string>());
        await Eventually.TrueAsync(async () => (await client.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/list"}""")).ToJsonString().Contains($"\"local__{name}\"", StringComparison.Ordinal), 10);
    }
}
