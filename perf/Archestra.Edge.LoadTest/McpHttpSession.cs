using System.Buffers;
using System.Net;
using System.Text;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.Framing;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.LoadTest;

/// <summary>What went wrong with one call, counted by kind in the report.</summary>
internal sealed class CallFailure(string kind) : Exception(kind)
{
    public string Kind { get; } = kind;
}

/// <summary>
/// One MCP session over Streamable HTTP, as an agent holds it: initialize, initialized, then requests that may be
/// answered with JSON or an SSE stream; every answer's id is checked and its result handed back for checking.
/// </summary>
internal sealed class McpHttpSession
{
    private readonly HttpMessageInvoker _http;
    private readonly Uri _endpoint;
    private readonly string? _token;
    private long _nextId;

    public McpHttpSession(HttpMessageInvoker http, Uri endpoint, string? token, bool verify = true, bool stateless = false)
    {
        Stateless = stateless;
        _http = http;
        _endpoint = endpoint;
        _token = token;
        _verify = verify;
    }

    private readonly bool _verify;

    public string? SessionId { get; private set; }

    /// <summary>Where requests go once the session is open (default: where it was opened).</summary>
    public Uri? CallEndpoint { get; init; }

    public string ProtocolVersion { get; private set; } = "2025-11-25";

    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>2026-07-28: nothing to initialize; each request carries its own <c>_meta</c> and headers.</summary>
    public bool Stateless { get; }

    /// <summary>The <c>_meta</c> member of a 2026-07-28 request, with its leading comma.</summary>
    public static ReadOnlySpan<byte> ModernMeta => ",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{},\"io.modelcontextprotocol/clientInfo\":{\"name\":\"archestra-loadtest\",\"version\":\"1.0.0\"}}"u8;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (Stateless)
        {
            return;
        }

        var body = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"archestra-loadtest","version":"1.0.0"}}}""");
        using var answer = await SendAsync(body, 0, cancellationToken).ConfigureAwait(false);
        if (answer.Envelope.Kind != JsonRpcMessageKind.Response)
        {
            throw new CallFailure("initialize-error");
        }

        using var notify = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = Json("""{"jsonrpc":"2.0","method":"notifications/initialized"}"""u8.ToArray()) };
        notify.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        AddHeaders(notify);
        using var response = await _http.SendAsync(notify, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new CallFailure($"http-{(int)response.StatusCode}");
        }
    }

    public async Task DeleteAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, _endpoint);
        AddHeaders(request);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.MethodNotAllowed)
        {
            throw new CallFailure($"delete-http-{(int)response.StatusCode}");
        }
    }

    /// <summary>Sends a request whose id is <paramref name="id"/>; returns its response message (caller disposes).</summary>
    /// <remarks><paramref name="method"/> and <paramref name="name"/> are the <c>Mcp-Method</c> / <c>Mcp-Name</c> headers of a 2026-07-28 request.</remarks>
    public async Task<Answer> SendAsync(byte[] body, long id, CancellationToken cancellationToken, string? method = null, string? name = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, SessionId is null ? _endpoint : CallEndpoint ?? _endpoint) { Content = Json(body) };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        AddHeaders(request);
        if (Stateless)
        {
            request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2026-07-28");
            request.Headers.TryAddWithoutValidation("Mcp-Method", method);
            if (name is not null)
            {
                request.Headers.TryAddWithoutValidation("Mcp-Name", name);
            }
        }

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new CallFailure($"http-{(int)response.StatusCode}");
        }

        if (SessionId is null && response.Headers.TryGetValues("Mcp-Session-Id", out var ids))
        {
            SessionId = ids.First();
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new PooledBufferWriter(4096);
        try
        {
            while (true)
            {
                var memory = buffer.GetMemory(4096);
                var read = await stream.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                buffer.Advance(read);
            }

            if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
            {
                return FindInEvents(buffer, _verify ? id : -1);
            }

            var answer = new Answer(buffer);
            CheckId(answer, _verify ? id : -1);
            return answer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    private static Answer FindInEvents(PooledBufferWriter events, long id)
    {
        using (events)
        {
            using var parser = new SseParser();
            var sequence = new ReadOnlySequence<byte>(events.WrittenMemory);
            while (parser.TryReadEvent(ref sequence, out var sseEvent))
            {
                if (!sseEvent.IsMessage || sseEvent.Data.IsEmpty)
                {
                    continue;
                }

                var envelope = EnvelopeReader.Read(sseEvent.Data.Span);
                if (envelope.IsResponse)
                {
                    var copy = new PooledBufferWriter(sseEvent.Data.Length);
                    copy.Write(sseEvent.Data.Span);
                    var answer = new Answer(copy);
                    CheckId(answer, id);
                    return answer;
                }
            }
        }

        throw new CallFailure("stream-without-response");
    }

    private static void CheckId(Answer answer, long id)
    {
        if (!answer.Envelope.IsResponse)
        {
            answer.Dispose();
            throw new CallFailure("not-a-response");
        }

        if (id < 0)
        {
            return; // not checking (the canned ceiling answers every request alike)
        }

        Span<byte> expected = stackalloc byte[20];
        id.TryFormat(expected, out var length, provider: System.Globalization.CultureInfo.InvariantCulture);
        if (!answer.Envelope.Id.Slice(answer.Span).SequenceEqual(expected[..length]))
        {
            answer.Dispose();
            throw new CallFailure("wrong-id");
        }

        if (answer.Envelope.Kind == JsonRpcMessageKind.ErrorResponse)
        {
            answer.Dispose();
            throw new CallFailure("jsonrpc-error");
        }
    }

    private void AddHeaders(HttpRequestMessage request)
    {
        if (SessionId is not null)
        {
            request.Headers.TryAddWithoutValidation("Mcp-Session-Id", SessionId);
            request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", ProtocolVersion);
        }

        if (_token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {_token}");
        }
    }

    private static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        return content;
    }
}

/// <summary>A response message in a pooled buffer.</summary>
internal sealed class Answer : IDisposable
{
    private readonly PooledBufferWriter _buffer;

    public Answer(PooledBufferWriter buffer)
    {
        _buffer = buffer;
        Envelope = EnvelopeReader.Read(buffer.WrittenSpan);
    }

    public JsonRpcEnvelope Envelope { get; }

    public ReadOnlySpan<byte> Span => _buffer.WrittenSpan;

    public ReadOnlySpan<byte> Result => Envelope.Result.Slice(_buffer.WrittenSpan);

    public void Dispose() => _buffer.Dispose();
}
