using Archestra.Edge.TestServer;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Protocol;

var options = TestServerOptions.Parse(args);
if (options.ExitAtStart is { } exitCode)
{
    Console.Error.WriteLine($"{options.Name}: exiting at start with code {exitCode}, as asked");
    return exitCode;
}

if (options.StartDelayMs > 0)
{
    Console.Error.WriteLine($"{options.Name}: starting slowly ({options.StartDelayMs} ms), as asked");
    await Task.Delay(options.StartDelayMs);
}

if (options.FailUnlessFile is { } file && !File.Exists(file))
{
    Console.Error.WriteLine($"{options.Name}: {file} does not exist, so this server fails to start, as asked");
    return 4;
}

if (options.GarbageAtStart)
{
    Console.Out.WriteLine("this is not json-rpc");
    Console.Out.Flush();
}

var state = new TestServerState(options);

if (options.Stdio)
{
    var hostBuilder = Host.CreateApplicationBuilder();
    Configure(hostBuilder.Services, hostBuilder.Logging).WithStdioServerTransport();
    await hostBuilder.Build().RunAsync();
    return 0;
}

var builder = WebApplication.CreateSlimBuilder();
// Stateful: sessions, the GET stream and server-to-client requests (2025-11-25 and earlier), like the servers the gateway fronts.
Configure(builder.Services, builder.Logging).WithHttpTransport(http =>
{
    http.SessionMode = options.Era switch
    {
        "2026" => ModelContextProtocol.AspNetCore.HttpServerSessionMode.Stateless,
        "both" => ModelContextProtocol.AspNetCore.HttpServerSessionMode.StatefulForInitializeClients,
        _ => ModelContextProtocol.AspNetCore.HttpServerSessionMode.Stateful,
    };
    http.EnableLegacySse = options.LegacySse;
});
// DNS-rebinding protection, as the spec asks of local servers.
builder.Services.Configure<Microsoft.AspNetCore.HostFiltering.HostFilteringOptions>(o => o.AllowedHosts = ["localhost", "127.0.0.1", "[::1]"]);
builder.WebHost.UseUrls($"http://127.0.0.1:{options.Port}");
var app = builder.Build();
app.UseHostFiltering();
app.Use(async (context, next) =>
{
    // Remember what the last request carried, for tests about what reaches an upstream.
    state.LastHeaders = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
    await next(context);
});
app.MapMcp("/mcp");
await app.StartAsync();
foreach (var address in app.Urls)
{
    Console.Out.WriteLine($"{options.Name} listening on {address}/mcp");
}

Console.Out.Flush();
await app.WaitForShutdownAsync();
return 0;

IMcpServerBuilder Configure(IServiceCollection services, ILoggingBuilder logging)
{
    logging.ClearProviders();
    // Logs go to stderr: stdout belongs to the protocol in stdio mode.
    logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    logging.SetMinimumLevel(LogLevel.Warning);
    return services.AddMcpServer(server =>
    {
        server.ServerInfo = new Implementation { Name = options.Name, Version = "1.0.0" };
        if (options.Stdio && !options.Modern)
        {
            // Over stdio the SDK speaks every revision; a 2025-era fixture refuses 2026-07-28 (server/discover), as
            // the servers the gateway mostly fronts do, so it is initialized.
            server.ProtocolVersion = "2025-11-25";
        }
        server.Capabilities = new ServerCapabilities
        {
            Tools = new ToolsCapability { ListChanged = !options.SilentLists },
            Prompts = new PromptsCapability { ListChanged = !options.SilentLists },
            Resources = new ResourcesCapability { Subscribe = true, ListChanged = !options.SilentLists },
            Logging = new LoggingCapability(),
            Completions = new CompletionsCapability(),
        };
    }).AddTestHandlers(state);
}
