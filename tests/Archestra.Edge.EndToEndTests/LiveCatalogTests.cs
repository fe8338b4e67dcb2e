using Archestra.Edge.EndToEndTests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Archestra.Edge.EndToEndTests;

/// <summary>Lists stay current without clients doing anything: servers that never announce changes, and servers that come back.</summary>
public sealed class LiveCatalogTests
{
    [Fact]
    public async Task ServerThatNeverAnnouncesChanges_IsReRead_AndClientsAreTold()
    {
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              quiet:
                {{TestServerProcess.StdioYaml("quiet", "--silent-lists")}}
                list_refresh: 1s
            profiles:
              p: { tools: [{ server: quiet }] }
            """);
        await using var client = await Clients.ConnectAsync(gateway.ProfileUrl("p"));
        var changed = ListChangedSignal(client);
        Assert.DoesNotContain(await client.ListToolsAsync(), t => t.Name == "quiet__late_arrival");

        // The server adds a tool and says nothing; the gateway notices on its next re-read.
        await client.CallToolAsync("quiet__add_tool", new Dictionary<string, object?> { ["name"] = "late_arrival" });

        await changed.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Contains(await client.ListToolsAsync(), t => t.Name == "quiet__late_arrival");
    }

    [Fact]
    public async Task ServerThatIsDown_DropsOutOfTheList_ThenReturns_AndClientsAreTold()
    {
        var repairFile = Path.Combine(Path.GetTempPath(), $"archestra-repair-{Guid.NewGuid():N}");
        try
        {
            await using var gateway = await GatewayProcess.StartAsync($$"""
                servers:
                  stable:
                    {{TestServerProcess.StdioYaml("stable")}}
                  flaky:
                    {{TestServerProcess.StdioYaml("flaky", "--fail-unless-file", repairFile)}}
                profiles:
                  p: { tools: [{ server: stable, include: [identify] }, { server: flaky, include: [identify] }] }
                """);
            await using var client = await Clients.ConnectAsync(gateway.ProfileUrl("p"));
            var changed = ListChangedSignal(client);

            Assert.Equal(["stable__identify"], (await client.ListToolsAsync()).Select(t => t.Name).ToArray());
            var down = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("flaky__identify").AsTask());
            Assert.Equal(-32010, (int)down.ErrorCode);
            Assert.Contains("flaky", down.Message, StringComparison.Ordinal);
            Assert.Contains("does not exist", down.Message, StringComparison.Ordinal); // its stderr, quoted

            await File.WriteAllTextAsync(repairFile, "fixed");

            await changed.Task.WaitAsync(TimeSpan.FromSeconds(45));
            Assert.Equal(["flaky__identify", "stable__identify"], (await client.ListToolsAsync()).Select(t => t.Name).ToArray());
            Assert.Equal("flaky", Clients.Text(await client.CallToolAsync("flaky__identify")));
        }
        finally
        {
            File.Delete(repairFile);
        }
    }

    /// <summary>
    /// Clients hear of the lists that changed, once: a server's announcement is checked against a fresh read (servers
    /// announce at start-up and repeat themselves), and a reload that changes a tool's description tells of tools only.
    /// </summary>
    [Fact]
    public async Task OnlyListsThatChanged_AreAnnounced_Once()
    {
        string Config(string description) => $$"""
            servers:
              s:
                {{TestServerProcess.StdioYaml("announcer")}}
            profiles:
              p:
                tools: [{ server: s, include: [add_tool, identify], describe: { identify: "{{description}}" } }]
                prompts: [{ server: s }]
                resources: [{ server: s }]
            """;
        await using var gateway = await GatewayProcess.StartAsync(Config("first"));
        await using var client = await Clients.ConnectAsync(gateway.ProfileUrl("p"));
        var heard = new System.Collections.Concurrent.ConcurrentQueue<string>();
        foreach (var method in new[] { NotificationMethods.ToolListChangedNotification, NotificationMethods.PromptListChangedNotification, NotificationMethods.ResourceListChangedNotification })
        {
            client.RegisterNotificationHandler(method, (_, _) =>
            {
                heard.Enqueue(method);
                return ValueTask.CompletedTask;
            });
        }

        await client.ListToolsAsync();
        await client.ListPromptsAsync();
        await client.ListResourcesAsync();

        // A new tool: announced upstream, read again, different: clients are told.
        await client.CallToolAsync("s__add_tool", new Dictionary<string, object?> { ["name"] = "fresh" });
        await Eventually.TrueAsync(() => heard.Contains(NotificationMethods.ToolListChangedNotification));
        await Task.Delay(500);
        Assert.Equal([NotificationMethods.ToolListChangedNotification], heard.ToArray());

        // The same tool again: announced upstream, read again, the same: nobody is told.
        heard.Clear();
        await client.CallToolAsync("s__add_tool", new Dictionary<string, object?> { ["name"] = "fresh" });
        await Task.Delay(1500);
        Assert.Empty(heard);
        Assert.Single(gateway.Process.Output.Split('\n'), l => l.Contains("the tools of server 's' changed", StringComparison.Ordinal));

        // A reload that changes a description: tools/list_changed, and not prompts or resources.
        var temporary = gateway.ConfigPath + ".tmp";
        await File.WriteAllTextAsync(temporary, Config("second"));
        File.Move(temporary, gateway.ConfigPath, overwrite: true);
        await Eventually.TrueAsync(async () => (await client.ListToolsAsync()).Any(t => t.Description == "second"), 20);
        await Task.Delay(500);
        Assert.Equal([NotificationMethods.ToolListChangedNotification], heard.ToArray());
    }

    private static TaskCompletionSource ListChangedSignal(McpClient client)
    {
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.RegisterNotificationHandler(NotificationMethods.ToolListChangedNotification, (_, _) =>
        {
            changed.TrySetResult();
            return ValueTask.CompletedTask;
        });
        return changed;
    }
}
