using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>
/// A remote MCP server on raw sockets, so every byte is the test's: it initializes and lists one tool <c>t</c>
/// properly, then answers <c>tools/call</c> according to its path: <c>/error-body</c> (HTTP 500 with an endless
/// body), <c>/sse-endless-line</c> (an event stream whose first line never ends), <c>/broken-chunked</c> (a chunked
/// JSON body whose framing breaks). Each endless answer stops at <see cref="MaxBytes"/> or when the gateway hangs up;
/// <see cref="BytesSent"/> tells how far it got.
/// </summary>
internal sealed class HostileUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private long _bytesSent;

    private HostileUpstream()
    {
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = Task.Run(AcceptAsync);
    }

    public Uri Url { get; }

    public long MaxBytes { get; init; } = 400L << 20;

    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public static HostileUpstream Start(long maxBytes = 400L << 20) => new() { MaxBytes = maxBytes };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var (path, body) = await ReadRequestAsync(stream);
                if (body.Contains("\"initialize\"", StringComparison.Ordinal))
                {
                    await RespondJsonAsync(stream, """{"jsonrpc":"2.0","id":ID,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"hostile","version":"1"}}}""", body);
                }
                else if (body.Contains("\"tools/list\"", StringComparison.Ordinal))
                {
                    await RespondJsonAsync(stream, """{"jsonrpc":"2.0","id":ID,"result":{"tools":[{"name":"t","inputSchema":{"type":"object"}}]}}""", body);
                }
                else if (body.Contains("\"tools/call\"", StringComparison.Ordinal))
                {
                    await MisbehaveAsync(stream, path);
                }
                else
                {
                    await WriteAsync(stream, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The gateway hung up: that is the point.
            }
        }
    }

    private async Task MisbehaveAsync(NetworkStream stream, string path)
    {
        switch (path)
        {
            case "/error-body":
                await WriteAsync(stream, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
                await EndlessAsync(stream, (byte)'x');
                break;
            case "/sse-endless-line":
                await WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: ");
                await EndlessAsync(stream, (byte)'a');
                break;
            case "/broken-chunked":
                await WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n{\"jso\r\nZZZ-not-a-chunk-size\r\n");
                await Task.Delay(500);
                break;
        }
    }

    private async Task EndlessAsync(NetworkStream stream, byte fill)
    {
        var chunk = new byte[64 * 1024];
        chunk.AsSpan().Fill(fill);
        while (BytesSent < MaxBytes && !_stop.IsCancellationRequested)
        {
            await stream.WriteAsync(chunk, _stop.Token);
            Interlocked.Add(ref _bytesSent, chunk.Length);
        }
    }

    private static async Task RespondJsonAsync(NetworkStream stream, string template, string request)
    {
        var id = System.Text.Json.Nodes.JsonNode.Parse(request)!["id"]!.ToJsonString();
        var json = Encoding.UTF8.GetBytes(template.Replace("ID", id, StringComparison.Ordinal));
        await WriteAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nMcp-Session-Id: hostile-1\r\nContent-Length: {json.Length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(json);
    }

    private static async Task WriteAsync(NetworkStream stream, string text) => await stream.WriteAsync(Encoding.ASCII.GetBytes(text));

    private static async Task<(string Path, string Body)> ReadRequestAsync(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (!(buffer.Count >= 4 && buffer[^4] == '\r' && buffer[^3] == '\n' && buffer[^2] == '\r' && buffer[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0)
            {
                throw new IOException("closed");
            }

            buffer.Add(one[0]);
        }

        var head = Encoding.ASCII.GetString(buffer.ToArray());
        var path = head.Split(' ')[1];
        var length = head.Split("\r\n").Where(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            .Select(l => int.Parse(l["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        var body = new byte[length];
        var read = 0;
        while (read < length)
        {
            var n = await stream.ReadAsync(body.AsMemory(read));
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return (path, Encoding.UTF8.GetString(body));
    }
}
