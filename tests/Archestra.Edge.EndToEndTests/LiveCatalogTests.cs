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
