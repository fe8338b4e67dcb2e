using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>
/// A Streamable HTTP MCP server whose every byte is scripted by the test: answers are plain
/// <c>application/json</c>, pretty-printed (line breaks included), with fields no SDK knows. It records what it
/// receives and can end its session on demand (HTTP 404), like a restarted server.
/// </summary>
internal sealed class CannedUpstream : IAsyncDisposable
{
    public const string ToolsListResult = """
        {
          "tools": [
            {
              "name": "canned",
              "description": "A tool with fields no SDK knows",
              "inputSchema": { "type": "object", "properties": { "q": { "type": "string" } }, "x-vendor-keyword": [1, 2.50, null] },
              "x-unknown-field": { "kept": "byte for byte" },
              "_meta": { "io.example/extra": true }
            }
          ]
        }
        """;

    private readonly WebApplication _app;
    private int _sessionCounter;

    private CannedUpstream(WebApplication app)
    {
        _app = app;
    }

    public Uri Url { get; private set; } = null!;

    /// <summary>The session the server currently accepts.</summary>
    public string? CurrentSession { get; private set; }

    public ConcurrentQueue<(string Method, string? Session, IDictionary<string, string> Headers, string Body)> Requests { get; } = new();

    public int Initializations => _sessionCounter;

    /// <summary>Forget the session: requests carrying it get 404 until the client initializes again.</summary>
    public void EndSession() => CurrentSession = null;

    public static async Task<CannedUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var upstream = new CannedUpstream(app);
        app.MapPost("/mcp", upstream.HandleAsync);
        app.MapGet("/mcp", (HttpContext context) => Results.StatusCode(StatusCodes.Status405MethodNotAllowed));
        app.MapDelete("/mcp", (HttpContext context) => Results.Ok());
        await app.StartAsync();
        upstream.Url = new Uri(app.Urls.First() + "/mcp");
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
        var message = JsonNode.Parse(body)!;
        var method = message["method"]?.GetValue<string>() ?? "(response)";
        var session = context.Request.Headers["Mcp-Session-Id"].ToString();
        Requests.Enqueue((method, session.Length == 0 ? null : session,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body));

        if (method == "initialize")
        {
            CurrentSession = $"canned-{Interlocked.Increment(ref _sessionCounter)}";
            context.Response.Headers["Mcp-Session-Id"] = CurrentSession;
            await JsonAsync(context, message, """{ "protocolVersion": "2025-06-18", "capabilities": { "tools": { "listChanged": false } }, "serverInfo": { "name": "canned", "version": "0.0.1" } }""");
            return;
        }

        if (session != CurrentSession)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (message["id"] is null)
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }

        switch (method)
        {
            case "tools/list":
                await JsonAsync(context, message, ToolsListResult);
                return;
            case "tools/call":
                var arguments = message["params"]?["arguments"]?.ToJsonString() ?? "{}";
                await JsonAsync(context, message, $$"""
                    {
                      "content": [ { "type": "text", "text": "canned answer" } ],
                      "structuredContent": { "echo": {{arguments}}, "session": "{{CurrentSession}}" },
                      "_meta": { "io.example/trace": "abc" }
                    }
                    """);
                return;
            default:
                await JsonAsync(context, message, null, """{ "code": -32601, "message": "Method not found" }""");
                return;
        }
    }

    private static Task JsonAsync(HttpContext context, JsonNode request, string? result, string? error = null)
    {
        var id = request["id"]!.ToJsonString();
        var text = result is not null
            ? $"{{\n  \"jsonrpc\": \"2.0\",\n  \"id\": {id},\n  \"result\": {result}\n}}"
            : $"{{\n  \"jsonrpc\": \"2.0\",\n  \"id\": {id},\n  \"error\": {error}\n}}";
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(text, Encoding.UTF8);
    }
}
