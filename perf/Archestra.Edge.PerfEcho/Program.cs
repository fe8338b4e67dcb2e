using System.Buffers;
using System.IO.Pipelines;
using Archestra.Edge.PerfEcho;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.Framing;

// archestra-perf-echo --http --port N [--host ADDR] [--tools N] [--name X] | --stdio [--tools N] | --canned --port N
// (also the MCP server inside the container image of the end-to-end tests)
var mode = "stdio";
var host = "127.0.0.1";
var port = 0;
var tools = 1;
var name = "echo";
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--http": mode = "http"; break;
        case "--stdio": mode = "stdio"; break;
        case "--canned": mode = "canned"; break;
        case "--port": port = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--tools": tools = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--name": name = args[++i]; break;
        case "--host": host = args[++i]; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

var protocol = new EchoProtocol(name, tools);
if (mode == "stdio")
{
    await StdioLoop.RunAsync(protocol);
    return 0;
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://{host}:{port}");
builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
var app = builder.Build();
RequestDelegate handler = mode == "canned" ? Handlers.Canned : context => Handlers.EchoAsync(context, protocol);
app.MapPost("/mcp", handler);
app.MapGet("/mcp", (RequestDelegate)(context =>
{
    context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
    return Task.CompletedTask;
}));
await app.StartAsync();
foreach (var url in app.Urls)
{
    Console.Out.WriteLine($"{name} listening on {url}/mcp");
}

Console.Out.Flush();
await app.WaitForShutdownAsync();
return 0;

internal static class Handlers
{
    private static readonly byte[] s_canned = """{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"canned"}]}}"""u8.ToArray();
    private static readonly byte[] s_cannedInitialize = """{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"canned","version":"1"}}}"""u8.ToArray();

    public static async Task EchoAsync(HttpContext context, EchoProtocol protocol)
    {
        var reader = context.Request.BodyReader;
        ReadResult result;
        while (true)
        {
            result = await reader.ReadAsync();
            if (result.IsCompleted)
            {
                break;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }

        var body = result.Buffer;
        byte[]? rented = null;
        ReadOnlyMemory<byte> message;
        if (body.IsSingleSegment)
        {
            message = body.First;
        }
        else
        {
            rented = ArrayPool<byte>.Shared.Rent((int)body.Length);
            body.CopyTo(rented);
            message = rented.AsMemory(0, (int)body.Length);
        }

        using var output = new PooledBufferWriter();
        var answered = protocol.TryAnswer(message.Span, output, out var isInitialize);
        reader.AdvanceTo(body.End);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        if (!answered)
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }

        if (isInitialize)
        {
            context.Response.Headers["Mcp-Session-Id"] = Guid.NewGuid().ToString("N");
        }

        context.Response.ContentType = "application/json";
        context.Response.ContentLength = output.WrittenCount;
        await context.Response.BodyWriter.WriteAsync(output.WrittenMemory);
    }

    /// <summary>The ceiling: no parsing beyond spotting initialize and notifications; a fixed reply.</summary>
    public static async Task Canned(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        ReadResult result;
        while (true)
        {
            result = await reader.ReadAsync();
            if (result.IsCompleted)
            {
                break;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }

        var isInitialize = result.Buffer.FirstSpan.IndexOf("\"initialize\""u8) >= 0;
        var isNotification = result.Buffer.FirstSpan.IndexOf("\"id\""u8) < 0;
        reader.AdvanceTo(result.Buffer.End);
        if (isNotification)
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }

        if (isInitialize)
        {
            context.Response.Headers["Mcp-Session-Id"] = "canned";
        }

        var reply = isInitialize ? s_cannedInitialize : s_canned;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = reply.Length;
        await context.Response.BodyWriter.WriteAsync(reply);
    }
}

internal static class StdioLoop
{
    public static async Task RunAsync(EchoProtocol protocol)
    {
        var input = PipeReader.Create(Console.OpenStandardInput());
        var output = PipeWriter.Create(Console.OpenStandardOutput());
        using var scratch = new PooledBufferWriter();
        while (true)
        {
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            var wrote = false;
            while (LineFraming.TryReadLine(ref buffer, out var line))
            {
                if (line.IsEmpty)
                {
                    continue;
                }

                scratch.Reset();
                byte[]? rented = null;
                ReadOnlySpan<byte> message;
                if (line.IsSingleSegment)
                {
                    message = line.FirstSpan;
                }
                else
                {
                    rented = ArrayPool<byte>.Shared.Rent((int)line.Length);
                    line.CopyTo(rented);
                    message = rented.AsSpan(0, (int)line.Length);
                }

                if (protocol.TryAnswer(message, scratch, out _))
                {
                    output.Write(scratch.WrittenSpan);
                    output.Write("\n"u8);
                    wrote = true;
                }

                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (wrote)
            {
                // One flush per batch of lines read together.
                await output.FlushAsync();
            }

            if (result.IsCompleted)
            {
                return;
            }
        }
    }
}
