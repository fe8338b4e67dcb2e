using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Archestra.Edge.EndToEndTests;

/// <summary>Resources, templates, subscriptions and completions of several servers in one profile, routed back by URI.</summary>
public sealed class ResourceAggregationTests(ResourceAggregationTests.Fixture fixture) : IClassFixture<ResourceAggregationTests.Fixture>
{
    private readonly GatewayProcess _gateway = fixture.Gateway;

    public sealed class Fixture() : GatewayFixture(() => $$"""
            servers:
              alpha:
                {{TestServerProcess.StdioYaml("alpha")}}
              beta:
                {{TestServerProcess.StdioYaml("beta")}}
            profiles:
              both:
                tools: [{ server: alpha }, { server: beta }]
                prompts: [{ server: alpha }, { server: beta }]
                resources:
                  - server: alpha
                  - server: beta
                    exclude: ["test://static-binary"]
              flat:
                naming: bare
                tools: [{ server: beta, include: [touch_resource] }]
                resources:
                  - server: alpha
                    exclude: ["test://identity"]
                  - server: beta
            """);

    [Fact]
    public async Task ResourcesOfEveryServer_AreListed_WithTheirServerInFrontOfTheUri()
    {
        await using var client = await Clients.ConnectAsync(_gateway.ProfileUrl("both"));
        var uris = (await client.ListResourcesAsync()).Select(r => r.Uri).ToList();

        Assert.Contains("alpha+test://static-text", uris);
        Assert.Contains("beta+test://static-text", uris);
        Assert.Contains("alpha+test://static-binary", uris);
        Assert.DoesNotContain("beta+test://static-binary", uris); // excluded
        Assert.Equal(uris.Order(StringComparer.Ordinal), uris);

        var templates = (await client.ListResourceTemplatesAsync()).Select(t => t.UriTemplate).ToList();
        Assert.Equal(["alpha+test://template/{id}/data", "beta+test://template/{id}/data"], templates);

        var prompts = (await client.ListPromptsAsync()).Select(p => p.Name).ToList();
        Assert.Contains("alpha__test_simple_prompt", prompts);
        Assert.Contains("beta__test_simple_prompt", prompts);
    }

    [Fact]
    public async Task Reads_GoToTheServerInTheUri_AndComeBackUnderTheUriTheClientKnows()
    {
        await using var client = await Clients.ConnectAsync(_gateway.ProfileUrl("both"));

        var beta = await client.ReadResourceAsync("beta+test://identity");
        Assert.Equal("beta+test://identity", beta.Contents[0].Uri);
        Assert.Equal("beta", ((TextResourceContents)beta.Contents[0]).Text);
        var alpha = await client.ReadResourceAsync("alpha+test://identity");
        Assert.Equal("alpha", ((TextResourceContents)alpha.Contents[0]).Text);

        var templated = await client.ReadResourceAsync("alpha+test://template/7/data");
        Assert.Equal("alpha+test://template/7/data", templated.Contents[0].Uri);
        Assert.Contains("Data for ID: 7", ((TextResourceContents)templated.Contents[0]).Text);

        var excluded = await Assert.ThrowsAsync<McpProtocolException>(() => client.ReadResourceAsync("beta+test://static-binary").AsTask());
        Assert.Equal(-32002, (int)excluded.ErrorCode);

        var unknown = await Assert.ThrowsAsync<McpProtocolException>(() => client.ReadResourceAsync("alpha+test://nothing-here").AsTask());
        Assert.Equal(-32002, (int)unknown.ErrorCode); // the upstream's own answer, relayed
    }

    [Fact]
    public async Task Completions_RouteByThePromptName_OrByTheTemplateUri()
    {
        await using var client = await Clients.ConnectAsync(_gateway.ProfileUrl("both"));

        var byTemplate = await client.CompleteAsync(new ResourceTemplateReference { Uri = "beta+test://template/{id}/data" }, "id", "pa");
        Assert.Equal(["paris", "park", "party"], byTemplate.Completion.Values);

        var byPrompt = await client.CompleteAsync(new PromptReference { Name = "alpha__test_prompt_with_arguments" }, "arg1", "test");
        Assert.Equal(["test-one", "test-two"], byPrompt.Completion.Values);
    }

    [Fact]
    public async Task ResourceUpdates_ReachTheSubscriber_UnderTheUriItSubscribedTo()
    {
        await using var client = await Clients.ConnectAsync(_gateway.ProfileUrl("both"));
        var updates = new List<string>();
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = client.RegisterNotificationHandler(NotificationMethods.ResourceUpdatedNotification, (notification, _) =>
        {
            lock (updates)
            {
                updates.Add(notification.Params!["uri"]!.GetValue<string>());
            }

            received.TrySetResult();
            return ValueTask.CompletedTask;
        });

        await client.SubscribeToResourceAsync("beta+test://watched-resource");
        await client.CallToolAsync("alpha__touch_resource", new Dictionary<string, object?> { ["uri"] = "test://watched-resource" });
        await client.CallToolAsync("beta__touch_resource", new Dictionary<string, object?> { ["uri"] = "test://watched-resource" });

        await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(300);
        lock (updates)
        {
            Assert.Equal(["beta+test://watched-resource"], updates); // alpha's resource of the same upstream URI is another resource
        }
    }

    [Fact]
    public async Task BareNaming_KeepsUris_AndRoutesToTheServerThatListsThem()
    {
        await using var client = await Clients.ConnectAsync(_gateway.ProfileUrl("flat"));
        var uris = (await client.ListResourcesAsync()).Select(r => r.Uri).ToList();
        Assert.Contains("test://identity", uris);
        Assert.Contains("test://static-text", uris);
        Assert.DoesNotContain(uris, u => u.Contains('+', StringComparison.Ordinal));

        // alpha excludes test://identity, so only beta lists it; both list static-text, alpha (first) wins.
        Assert.Equal("beta", ((TextResourceContents)(await client.ReadResourceAsync("test://identity")).Contents[0]).Text);
        Assert.Equal("test://identity", (await client.ReadResourceAsync("test://identity")).Contents[0].Uri);
    }

    [Fact]
    public async Task UnprefixedUris_UnderPrefixedNaming_StillFindTheirServer()
    {
        // A URI a client got elsewhere (a resource link in a tool result) carries no prefix.
        using var raw = new RawMcpClient(_gateway.ProfileUrl("both"));
        await raw.InitializeAsync();
        var read = await raw.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"test://template/3/data"}}""");

        var content = read["result"]!["contents"]![0]!;
        Assert.Contains("Data for ID: 3", content["text"]!.GetValue<string>());
        Assert.Equal("test://template/3/data", content["uri"]!.GetValue<string>());
    }

    [Fact]
    public async Task MissingOrWrongUri_IsInvalidParams()
    {
        using var raw = new RawMcpClient(_gateway.ProfileUrl("both"));
        await raw.InitializeAsync();
        var missing = await raw.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{}}""");
        Assert.Equal(-32602, missing["error"]!["code"]!.GetValue<int>());
        var number = await raw.RequestAsync("""{"jsonrpc":"2.0","id":2,"method":"resources/subscribe","params":{"uri":42}}""");
        Assert.Equal(-32602, number["error"]!["code"]!.GetValue<int>());
        Assert.IsType<JsonObject>(number);
    }
}
