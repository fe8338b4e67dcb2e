using System.Text.Json;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Archestra.Edge.EndToEndTests;

/// <summary>The official C# SDK client uses three real servers (HTTP, stdio, npm stdio) through one profile of the AOT gateway.</summary>
public sealed class RelayTests : IClassFixture<MixedProfileFixture>
{
    private readonly MixedProfileFixture _fixture;

    public RelayTests(MixedProfileFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task ListTools_MergesEveryServer_WithPrefixedNames()
    {
        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("mixed"));
        var names = (await client.ListToolsAsync()).Select(t => t.Name).ToHashSet();

        Assert.Contains("remote__echo", names);
        Assert.Contains("remote__test_simple_text", names);
        Assert.Contains("local__echo", names);
        Assert.Contains("everything__echo", names);
        Assert.Contains("everything__get-sum", names);
        Assert.Contains("edge__list_servers", names);
        Assert.DoesNotContain("everything__get-env", names); // not included
        Assert.All(names, n => Assert.Matches("^[A-Za-z0-9_.-]{1,128}$", n));
        Assert.Equal("Mixed profile", client.ServerInfo?.Title);
    }

    [Fact]
    public async Task CallTool_IsRoutedToTheServerItNames()
    {
        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("mixed"));

        Assert.Equal("remote", Clients.Text(await client.CallToolAsync("remote__identify")));
        Assert.Equal("local", Clients.Text(await client.CallToolAsync("local__identify")));
        Assert.Equal("3", Clients.Text(await client.CallToolAsync("remote__add", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 })));
        Assert.Contains("hello from the gateway", Clients.Text(await client.CallToolAsync("everything__echo", new Dictionary<string, object?> { ["message"] = "hello from the gateway" })));
        Assert.Contains("42", Clients.Text(await client.CallToolAsync("everything__get-sum", new Dictionary<string, object?> { ["a"] = 40, ["b"] = 2 })));
    }

    [Fact]
    public async Task StructuredContent_AndUnicode_ArriveIntact()
    {
        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("mixed"));
        const string text = "naïve café ☕ \u2028 \"quoted\" \\ back\nslash 🚀";

        foreach (var server in new[] { "remote", "local" })
        {
            var result = await client.CallToolAsync($"{server}__echo", new Dictionary<string, object?> { ["text"] = text });
            Assert.Equal(text, Clients.Text(result));
            Assert.Equal(text, result.StructuredContent!.Value.GetProperty("text").GetString());
        }
    }

    [Fact]
    public async Task BuiltinServer_ReportsTheProfilesServersAndTheCaller()
    {
        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("mixed"));
        await client.CallToolAsync("remote__identify"); // make sure one server is running

        var servers = (await client.CallToolAsync("edge__list_servers")).StructuredContent!.Value;
        Assert.Equal("mixed", servers.GetProperty("profile").GetString());
        var byName = servers.GetProperty("servers").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal(["remote", "local", "everything", "edge"], byName.Keys);
        Assert.Equal("ready", byName["remote"].GetProperty("state").GetString());
        Assert.Equal("remote", byName["remote"].GetProperty("kind").GetString());
        Assert.Equal("process", byName["local"].GetProperty("kind").GetString());

        var who = (await client.CallToolAsync("edge__whoami")).StructuredContent!.Value;
        Assert.Equal("archestra-e2e", who.GetProperty("clientName").GetString());
        Assert.Equal("mixed", who.GetProperty("profile").GetString());

        // No auth: section: nobody is authenticated, and whoami says so rather than naming the organisation.
        Assert.Equal("anonymous", who.GetProperty("principal").GetString());
        Assert.False(who.GetProperty("authenticated").GetBoolean());
        Assert.Contains("authenticates nobody", who.GetProperty("note").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("remote")]
    [InlineData("local")]
    public async Task Progress_TravelsOnTheCallsStream_WithTheClientsToken(string server)
    {
        await ProgressOnTheWire.AssertInOrderAsync(_fixture.Gateway.ProfileUrl("mixed"), $"{server}__progress");

        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("mixed"));
        var updates = new ProgressCollector();
        var result = await client.CallToolAsync($"{server}__progress", new Dictionary<string, object?> { ["steps"] = 3 }, updates);

        Assert.Equal("done in 3 steps", Clients.Text(result));
        ProgressOnTheWire.AssertReceivedThroughTheSdk(updates.Received());
    }

    [Theory]
    [InlineData("remote")]
    [InlineData("local")]
    public async Task LogMessages_DuringACall_ReachTheClient(string server)
    {
        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("mixed"));
        var messages = new List<string>();
        await using var registration = client.RegisterNotificationHandler(NotificationMethods.LoggingMessageNotification, (notification, _) =>
        {
            lock (messages)
            {
                messages.Add(notification.Params!["data"]!.GetValue<string>());
            }

            return ValueTask.CompletedTask;
        });

        await client.CallToolAsync($"{server}__log", new Dictionary<string, object?> { ["level"] = "warning", ["message"] = $"hello from {server}" });

        // The SDK client runs notification handlers asynchronously.
        await Eventually.TrueAsync(() => { lock (messages) { return messages.Contains($"hello from {server}"); } }, seconds: 5);

        lock (messages)
        {
            Assert.Contains($"hello from {server}", messages);
        }
    }

    [Theory]
    [InlineData("remote")]
    [InlineData("local")]
    public async Task Sampling_IsAskedOfTheCallingClient_AndAnsweredBack(string server)
    {
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                SamplingHandler = (request, _, _) => ValueTask.FromResult(new CreateMessageResult
                {
                    Role = Role.Assistant,
                    Model = "test-model",
                    Content = [new TextContentBlock { Text = $"sampled: {((TextContentBlock)request!.Messages[0].Content[0]).Text}" }],
                }),
            },
        };
        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("mixed"), options);

        var result = await client.CallToolAsync($"{server}__sample", new Dictionary<string, object?> { ["prompt"] = "the prompt" });

        Assert.Equal("LLM response: sampled: the prompt", Clients.Text(result));
    }

    [Theory]
    [InlineData("remote")]
    [InlineData("local")]
    public async Task Elicitation_IsAskedOfTheCallingClient_AndAnsweredBack(string server)
    {
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = (request, _) => ValueTask.FromResult(new ElicitResult
                {
                    Action = "accept",
                    Content = new Dictionary<string, JsonElement>
                    {
                        ["username"] = JsonSerializer.SerializeToElement("ada"),
                        ["email"] = JsonSerializer.SerializeToElement("ada@example.com"),
                    },
                }),
            },
        };
        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("mixed"), options);

        var result = await client.CallToolAsync($"{server}__elicit", new Dictionary<string, object?> { ["message"] = "who are you?" });

        Assert.Contains("\"action\":\"accept\"", Clients.Text(result));
        Assert.Contains("ada@example.com", Clients.Text(result));
    }

    [Fact]
    public async Task Sampling_FromAClientWithoutTheCapability_IsRefusedToTheUpstream()
    {
        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("mixed"));

        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("remote__sample", new Dictionary<string, object?> { ["prompt"] = "x" }).AsTask());

        Assert.Contains("sampling", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task PromptsResourcesAndCompletion_OfASingleServerProfile_AreRelayed()
    {
        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("docs"));

        Assert.NotNull(client.ServerCapabilities.Prompts);
        Assert.NotNull(client.ServerCapabilities.Resources);
        Assert.True(client.ServerCapabilities.Resources!.Subscribe);

        var prompts = await client.ListPromptsAsync();
        Assert.Contains(prompts, p => p.Name == "test_prompt_with_arguments");
        var prompt = await client.GetPromptAsync("test_prompt_with_arguments", new Dictionary<string, object?> { ["arg1"] = "A", ["arg2"] = "B" });
        Assert.Equal("Prompt with arguments: arg1='A', arg2='B'", ((TextContentBlock)prompt.Messages[0].Content).Text);

        var resources = await client.ListResourcesAsync();
        Assert.Contains(resources, r => r.Uri == "test://static-text");
        var templates = await client.ListResourceTemplatesAsync();
        Assert.Contains(templates, t => t.UriTemplate == "test://template/{id}/data");
        var read = await client.ReadResourceAsync("test://template/77/data");
        Assert.Contains("Data for ID: 77", ((TextResourceContents)read.Contents[0]).Text);

        await client.SubscribeToResourceAsync("test://watched-resource");
        await client.UnsubscribeFromResourceAsync("test://watched-resource");

        var completion = await client.CompleteAsync(new PromptReference { Name = "test_prompt_with_arguments" }, "arg1", "par");
        Assert.Equal(["paris", "park", "party"], completion.Completion.Values);

        var tools = await client.ListToolsAsync();
        Assert.All(tools, t => Assert.StartsWith("test_", t.Name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ResourceUpdates_ReachOnlySubscribedSessions()
    {
        await using var subscriber = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("docs"));
        await using var bystander = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("docs"));
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bystanderSaw = 0;
        await using var a = subscriber.RegisterNotificationHandler(NotificationMethods.ResourceUpdatedNotification, (n, _) =>
        {
            received.TrySetResult(n.Params!["uri"]!.GetValue<string>());
            return ValueTask.CompletedTask;
        });
        await using var b = bystander.RegisterNotificationHandler(NotificationMethods.ResourceUpdatedNotification, (_, _) =>
        {
            Interlocked.Increment(ref bystanderSaw);
            return ValueTask.CompletedTask;
        });

        await subscriber.SubscribeToResourceAsync("test://watched-resource");
        await bystander.CallToolAsync("test_simple_text"); // a second session of the same profile
        await using var admin = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("mixed"));
        await admin.CallToolAsync("remote__touch_resource", new Dictionary<string, object?> { ["uri"] = "test://watched-resource" });

        Assert.Equal("test://watched-resource", await received.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        await Task.Delay(300);
        Assert.Equal(0, bystanderSaw);
        await subscriber.UnsubscribeFromResourceAsync("test://watched-resource");
    }

    [Fact]
    public async Task ToolAddedUpstream_IsAnnounced_AndListedAfterwards()
    {
        await using var client = await Clients.ConnectAsync(_fixture.Gateway.ProfileUrl("mixed"));
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = client.RegisterNotificationHandler(NotificationMethods.ToolListChangedNotification, (_, _) =>
        {
            changed.TrySetResult();
            return ValueTask.CompletedTask;
        });
        var name = $"fresh_{Guid.NewGuid():N}"[..14];
        Assert.DoesNotContain(await client.ListToolsAsync(), t => t.Name == $"local__{name}");

        await client.CallToolAsync("local__add_tool", new Dictionary<string, object?> { ["name"] = name });

        await changed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(await client.ListToolsAsync(), t => t.Name == $"local__{name}");
        Assert.Equal($"dynamic tool {name} called", Clients.Text(await client.CallToolAsync($"local__{name}")));
    }

    [Fact]
    public async Task ToolDefinitions_PassByteForByte_ExceptTheName()
    {
        using var direct = new RawMcpClient(_fixture.Remote.Url);
        await direct.InitializeAsync();
        var upstream = RawTool(await direct.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}"""), "rich");

        using var viaGateway = new RawMcpClient(_fixture.Gateway.ProfileUrl("mixed"));
        await viaGateway.InitializeAsync();
        var relayed = RawTool(await viaGateway.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}"""), "remote__rich");

        Assert.Equal(upstream.Replace("\"name\":\"rich\"", "\"name\":\"remote__rich\"", StringComparison.Ordinal), relayed);
        Assert.Contains("\"$defs\"", relayed, StringComparison.Ordinal);
        Assert.Contains("\"_meta\":{\"vendor.example/x\"", relayed, StringComparison.Ordinal);
    }

    private static string RawTool(JsonNode response, string name)
        => response["result"]!["tools"]!.AsArray().Single(t => t!["name"]!.GetValue<string>() == name)!.ToJsonString();
}
