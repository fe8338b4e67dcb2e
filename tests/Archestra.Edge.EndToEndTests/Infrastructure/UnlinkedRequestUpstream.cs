using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Archestra.Edge.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>
/// A Streamable HTTP MCP server that does what many servers built on the TypeScript SDK's low-level <c>Server</c> do:
/// its tool <c>ask</c> calls elicitation inside the handler without linking the request to the call, so the
/// <c>elicitation/create</c> goes out on the GET stream while the POST of the call waits, and the call answers with
/// what came back. JSON answers only; one session.
/// </summary>
internal sealed class UnlinkedRequestUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<string> _getStream = Channel.CreateUnbounded<string>();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonNode>> _waiting = new(StringComparer.Ordinal);
    private readonly int _together;
    private readonly TaskCompletionSource _allInFlight = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _allAnswered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _asked;
    private int _answered;
    private int _calls;

    private UnlinkedRequestUpstream(WebApplication app, int together)
    {
        _app = app;
        _together = together;
    }

    public Uri Url => new($"{_app.Urls.First()}/mcp");

    /// <summary>What the server got back for its requests, refusals included.</summary>
    public ConcurrentQueue<JsonNode> Answers { get; } = new();

    /// <param name="together">
    /// How many calls must be in flight before any of them asks, and be answered before any of them ends (1: each asks
    /// at once and ends when answered).
    /// </param>
    public static async Task<UnlinkedRequestUpstream> StartAsync(int together = 1)
    {
        var server = new UnlinkedRequestUpstream(LoopbackApp.Create(), together);
        server._app.MapPost("/mcp", (RequestDelegate)server.PostAsync);
        server._app.MapGet("/mcp", (RequestDelegate)server.ListenAsync);
        server._app.MapDelete("/mcp", (RequestDelegate)(context => Task.CompletedTask));
        await server._app.StartAsync();
        return server;
    }

    private async Task PostAsync(HttpContext context)
    {
        var message = (await JsonNode.ParseAsync(context.Request.Body))!;
        var id = message["id"]?.DeepClone();
        var method = message["method"]?.GetValue<string>();
        if (method is null)
        {
            // A client's answer to one of our requests.
            Answers.Enqueue(message);
            if (id?.ToString() is { } key && _waiting.TryRemove(key, out var waiter))
            {
                waiter.TrySetResult(message);
            }

            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }

        if (id is null)
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }

        JsonNode result = method switch
        {
            "initialize" => JsonNode.Parse("""{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"unlinked","version":"1"}}""")!,
            "tools/list" => JsonNode.Parse("""{"tools":[{"name":"ask","description":"Asks the user, without linking the request to the call","inputSchema":{"type":"object"}}]}""")!,
            "tools/call" => await AskAsync(context.RequestAborted),
            _ => new JsonObject(),
        };
        if (method == "initialize")
        {
            context.Response.Headers["Mcp-Session-Id"] = "unlinked-session";
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["result"] = result }.ToJsonString());
    }

    private async Task<JsonNode> AskAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _calls) >= _together)
        {
            _allInFlight.TrySetResult();
        }

        await _allInFlight.Task.WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
        var id = $"ask-{Interlocked.Increment(ref _asked)}";
        var answer = new TaskCompletionSource<JsonNode>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[id] = answer;
        await _getStream.Writer.WriteAsync(new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = id,
            ["method"] = "elicitation/create",
            ["params"] = JsonNode.Parse("""{"message":"Who are you?","requestedSchema":{"type":"object","properties":{"name":{"type":"string"}}}}"""),
        }.ToJsonString(), cancellationToken);
        var reply = await answer.Task.WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);

        // No call ends before every one of them was answered: until then all of them stay in flight together.
        if (Interlocked.Increment(ref _answered) >= _together)
        {
            _allAnswered.TrySetResult();
        }

        await _allAnswered.Task.WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);
        var text = reply["result"] is { } result ? result.ToJsonString() : $"refused: {reply["error"]?["message"]}";
        return new JsonObject { ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }) };
    }

    private async Task ListenAsync(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        await context.Response.Body.FlushAsync(context.RequestAborted);
        try
        {
            await foreach (var message in _getStream.Reader.ReadAllAsync(context.RequestAborted))
            {
                await context.Response.WriteAsync($"data: {message}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
