using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>
/// A hand-driven Streamable HTTP client for byte-level and negative tests: it sends exactly the bytes and
/// headers a test chooses and reads JSON or SSE answers.
/// </summary>
internal sealed class RawMcpClient : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public RawMcpClient(Uri endpoint)
    {
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public string? SessionId { get; set; }

    public string ProtocolVersion { get; set; } = "2025-11-25";

    /// <summary>Sent as <c>Authorization: Bearer …</c> on every request when set.</summary>
    public string? BearerToken { get; set; }

    /// <summary>Runs initialize and notifications/initialized; remembers the session id.</summary>
    public async Task<JsonNode> InitializeAsync(string protocolVersion = "2025-11-25", string capabilities = "{}")
    {
        var response = await SendAsync("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"" + protocolVersion + "\",\"capabilities\":" + capabilities + ",\"clientInfo\":{\"name\":\"raw\",\"version\":\"1\"}}}");
        response.EnsureSuccessStatusCode();
        SessionId = response.Headers.GetValues("Mcp-Session-Id").Single();
        var result = (await ReadMessagesAsync(response)).Last();
        ProtocolVersion = result["result"]!["protocolVersion"]!.GetValue<string>();
        var initialized = await SendAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        Assert.Equal(202, (int)initialized.StatusCode);
        return result;
    }

    /// <summary>Sends a request and returns its response message (the last message of an SSE answer).</summary>
    public async Task<JsonNode> RequestAsync(string json)
    {
        using var response = await SendAsync(json);
        var body = await ReadMessagesAsync(response);
        Assert.True(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}: {string.Join("\n", body.Select(b => b.ToJsonString()))}");
        return body.Last();
    }

    /// <summary>Calls a tool without arguments and returns the text of its first content block (null when the call failed).</summary>
    public async Task<string?> CallTextAsync(string tool) => Text(await CallAsync(tool));

    /// <summary>Calls a tool without arguments that must succeed, and returns the text of its first content block.</summary>
    public async Task<string> ToolTextAsync(string tool)
    {
        var response = await CallAsync(tool);
        return Text(response) ?? throw new Xunit.Sdk.XunitException($"{tool} failed: {response.ToJsonString()}");
    }

    private Task<JsonNode> CallAsync(string tool)
        => RequestAsync("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":" + JsonSerializer.Serialize(tool) + ",\"arguments\":{}}}");

    private static string? Text(JsonNode response) => response["result"]?["content"]?[0]?["text"]?.GetValue<string>();

    /// <summary>
    /// A 2026-07-28 request: no session; <c>_meta</c> with the protocol version, <paramref name="capabilities"/> and
    /// client info (plus <paramref name="meta"/>, raw members) is added to <paramref name="parameters"/> (a JSON object),
    /// and the <c>MCP-Protocol-Version</c>, <c>Mcp-Method</c> and <c>Mcp-Name</c> headers are set from the body unless
    /// <paramref name="headers"/> overrides them (a null value leaves one out).
    /// </summary>
    public Task<HttpResponseMessage> SendModernAsync(string method, string parameters = "{}", string capabilities = "{}", string? meta = null, IDictionary<string, string?>? headers = null, object? id = null, CancellationToken cancellationToken = default)
    {
        var node = JsonNode.Parse(parameters)!.AsObject();
        var metaObject = JsonNode.Parse("{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientInfo\":{\"name\":\"raw\",\"version\":\"1\"},\"io.modelcontextprotocol/clientCapabilities\":" + capabilities + (meta is null ? string.Empty : "," + meta) + "}")!;
        node["_meta"] ??= metaObject;
        var body = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = JsonValue.Create(id ?? 1), ["method"] = method, ["params"] = node };
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["MCP-Protocol-Version"] = "2026-07-28",
            ["Mcp-Method"] = method,
            ["Mcp-Name"] = method switch
            {
                "tools/call" or "prompts/get" => node["name"]?.GetValue<string>(),
                "resources/read" => node["uri"]?.GetValue<string>(),
                _ => null,
            },
        };
        foreach (var (name, value) in headers ?? new Dictionary<string, string?>())
        {
            all[name] = value;
        }

        var request = new HttpRequestMessage(HttpMethod.Post, Endpoint) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        if (BearerToken is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {BearerToken}");
        }

        foreach (var (name, value) in all)
        {
            if (value is not null)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>A 2026-07-28 request that must get an HTTP answer; returns the status and its last message.</summary>
    public async Task<(int Status, JsonNode Message)> ModernAsync(string method, string parameters = "{}", string capabilities = "{}", string? meta = null, IDictionary<string, string?>? headers = null)
    {
        using var response = await SendModernAsync(method, parameters, capabilities, meta, headers);
        var messages = await ReadMessagesAsync(response);
        Assert.True(messages.Count > 0, $"HTTP {(int)response.StatusCode} without a message");
        return ((int)response.StatusCode, messages.Last());
    }

    /// <summary>Sends <paramref name="body"/> as a POST with the usual headers, unless overridden.</summary>
    public Task<HttpResponseMessage> SendAsync(string body, string contentType = "application/json", string? accept = "application/json, text/event-stream", IDictionary<string, string>? headers = null)
        => SendAsync(Encoding.UTF8.GetBytes(body), contentType, accept, headers);

    public Task<HttpResponseMessage> SendAsync(byte[] body, string contentType = "application/json", string? accept = "application/json, text/event-stream", IDictionary<string, string>? headers = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        AddSessionHeaders(request, headers);
        return _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    public Task<HttpResponseMessage> GetStreamAsync(IDictionary<string, string>? headers = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Endpoint);
        request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        AddSessionHeaders(request, headers);
        return _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    public Task<HttpResponseMessage> DeleteAsync()
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, Endpoint);
        AddSessionHeaders(request, null);
        return _http.SendAsync(request);
    }

    /// <summary>Reads every JSON-RPC message of a response: one for JSON, each data event for SSE.</summary>
    public static async Task<List<JsonNode>> ReadMessagesAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            return ParseEvents(text).Where(e => e.Length > 0).Select(e => JsonNode.Parse(e)!).ToList();
        }

        return text.Length == 0 ? [] : [JsonNode.Parse(text)!];
    }

    /// <summary>The data of each SSE event in <paramref name="text"/>, multi-line data joined with \n.</summary>
    public static List<string> ParseEvents(string text)
    {
        var events = new List<string>();
        var data = new List<string>();
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
        {
            if (line.Length == 0)
            {
                if (data.Count > 0)
                {
                    events.Add(string.Join("\n", data));
                    data.Clear();
                }
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Add(line.Length > 5 && line[5] == ' ' ? line[6..] : line[5..]);
            }
        }

        if (data.Count > 0)
        {
            events.Add(string.Join("\n", data));
        }

        return events;
    }

    public void Dispose() => _http.Dispose();

    private void AddSessionHeaders(HttpRequestMessage request, IDictionary<string, string>? headers)
    {
        if (BearerToken is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {BearerToken}");
        }

        if (SessionId is not null)
        {
            request.Headers.TryAddWithoutValidation("Mcp-Session-Id", SessionId);
            request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", ProtocolVersion);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Remove(name);
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }
    }
}
