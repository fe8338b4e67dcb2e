using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Archestra.Edge.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>
/// A Streamable HTTP MCP server that polls, as SEP-1699 lets a server do: it answers a <c>tools/call</c> with an event
/// stream, sends a priming event (an id and <c>retry</c>), and closes the stream; the answer comes on the GET that
/// resumes it with <c>Last-Event-ID</c> — or, with <see cref="RefuseResumption"/>, that GET gets 405.
/// </summary>
internal sealed class ResumableStreamUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, JsonNode> _callsByEvent = new(StringComparer.Ordinal);
    private int _calls;

    private ResumableStreamUpstream(WebApplication app)
    {
        _app = app;
    }

    public Uri Url => new($"{_app.Urls.First()}/mcp");

    public bool RefuseResumption { get; init; }

    /// <summary>The <c>Last-Event-ID</c> of every resuming GET, in order.</summary>
    public ConcurrentQueue<string> Resumptions { get; } = new();

    public static async Task<ResumableStreamUpstream> StartAsync(bool refuseResumption = false)
    {
        var server = new ResumableStreamUpstream(LoopbackApp.Create()) { RefuseResumption = refuseResumption };
        server._app.MapPost("/mcp", (RequestDelegate)server.PostAsync);
        server._app.MapGet("/mcp", (RequestDelegate)server.ResumeAsync);
        server._app.MapDelete("/mcp", (RequestDelegate)(context => Task.CompletedTask));
        await server._app.StartAsync();
        return server;
    }

    private async Task PostAsync(HttpContext context)
    {
        var message = (await JsonNode.ParseAsync(context.Request.Body))!;
        var id = message["id"]?.DeepClone();
        var method = message["method"]?.GetValue<string>();
        if (id is null || method is null)
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }

        if (method == "tools/call")
        {
            // Prime the stream with an event id, tell the client when to come back, and close it.
            var eventId = $"call-{Interlocked.Increment(ref _calls)}-0";
            _callsByEvent[eventId] = id;
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync($"id: {eventId}\nretry: 100\ndata: \n\n");
            return;
        }

        JsonNode result = method switch
        {
            "initialize" => JsonNode.Parse("""{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"resumable","version":"1"}}""")!,
            "tools/list" => JsonNode.Parse("""{"tools":[{"name":"wait","description":"Answers on a resumed stream","inputSchema":{"type":"object"}}]}""")!,
            _ => new JsonObject(),
        };
        if (method == "initialize")
        {
            context.Response.Headers["Mcp-Session-Id"] = "resumable-session";
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["result"] = result }.ToJsonString());
    }

    private async Task ResumeAsync(HttpContext context)
    {
        var lastEventId = context.Request.Headers["Last-Event-ID"].ToString();
        if (lastEventId.Length == 0)
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed; // no standalone GET stream
            return;
        }

        Resumptions.Enqueue(lastEventId);
        if (RefuseResumption || !_callsByEvent.TryRemove(lastEventId, out var id))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }

        context.Response.ContentType = "text/event-stream";
        var answer = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = id,
            ["result"] = new JsonObject { ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = $"resumed after {lastEventId}" }) },
        };
        await context.Response.WriteAsync($"id: {lastEventId[..^2]}-1\ndata: {answer.ToJsonString()}\n\n");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
