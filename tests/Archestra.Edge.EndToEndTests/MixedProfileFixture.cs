using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// One gateway (the AOT binary) fronting a remote Streamable HTTP server, a stdio server of our own,
/// <c>@modelcontextprotocol/server-everything</c> from npm over stdio, and the builtin server.
/// </summary>
public sealed class MixedProfileFixture : IAsyncLifetime
{
    internal TestServerProcess Remote { get; private set; } = null!;

    internal GatewayProcess Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Remote = await TestServerProcess.StartHttpAsync("remote");
        var everything = Path.Combine(Repository.NpmPackage("@modelcontextprotocol/server-everything"), "dist", "index.js");
        Gateway = await GatewayProcess.StartAsync($$"""
            servers:
              remote:
                remote: { url: "{{Remote.Url}}" }
              local:
                {{TestServerProcess.StdioYaml("local")}}
              everything:
                process: { command: "{{Repository.Node}}", args: ["{{everything}}", "stdio"] }
              edge:
                builtin: archestra
            profiles:
              mixed:
                title: Mixed profile
                tools:
                  - server: remote
                  - server: local
                  - server: everything
                    include: ["echo", "get-sum", "trigger-long-running-operation"]
                  - server: edge
              docs:
                naming: bare
                tools: [{ server: remote, include: ["test_*"] }]
                prompts: [{ server: remote }]
                resources: [{ server: remote }]
            """);
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Remote.DisposeAsync();
    }
}
