using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Archestra.Edge.TestServer;

/// <summary>
/// The conformance suite's multi-round-trip tools (2026-07-28, SEP-2322): each returns an <c>InputRequiredResult</c>
/// until the client retries with the answers. The request state is HMAC-signed with a per-process key, so a
/// tampered state is refused with -32602 and nothing is remembered between rounds.
/// </summary>
internal static class InputRequiredTools
{
    private static readonly byte[] s_key = RandomNumberGenerator.GetBytes(32);
    private static readonly JsonSerializerOptions s_json = McpJsonUtilities.DefaultOptions;

    public const string Catalog = """
      {"name":"test_input_required_result_elicitation","description":"Asks for the user's name through an InputRequiredResult","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_input_required_result_sampling","description":"Asks for a sampling answer through an InputRequiredResult","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_input_required_result_list_roots","description":"Asks for the client's roots through an InputRequiredResult","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_input_required_result_request_state","description":"Round-trips a signed request state","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_input_required_result_multiple_inputs","description":"Asks for elicitation, sampling and roots at once","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_input_required_result_multi_round","description":"Asks twice, in two rounds","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_input_required_result_tampered_state","description":"Refuses a tampered request state","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_input_required_result_capabilities","description":"Asks only for what the client declared","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_missing_capability","description":"Needs sampling: refused with -32021 unless the client declared it","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_streaming_elicitation","description":"Elicits through the SDK's high-level API (an InputRequiredResult on 2026-07-28)","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_logging_tool","description":"Logs during the call (nothing reaches a client that set no logLevel)","inputSchema":{"type":"object","properties":{}}},
      {"name":"many_inputs","description":"Asks for as many elicitations at once as it is told","inputSchema":{"type":"object","properties":{"count":{"type":"integer"}}}}
    """;

    public const string PromptCatalog = """
      {"name":"test_input_required_result_prompt","description":"A prompt that needs input from the user first"}
    """;

    private const string NameSchema = """{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}""";

    public static bool Handles(string name)
        => name.StartsWith("test_input_required_result_", StringComparison.Ordinal) || name is "test_missing_capability" or "test_streaming_elicitation" or "test_logging_tool" or "many_inputs";

    public static async ValueTask<CallToolResult> CallAsync(RequestContext<CallToolRequestParams> context, CancellationToken ct)
    {
        var request = context.Params!;
        var responses = request.InputResponses;
        switch (request.Name)
        {
            case "many_inputs":
                var count = request.Arguments?.TryGetValue("count", out var c) == true ? c.GetInt32() : 2;
                if (responses is { Count: > 0 })
                {
                    return Text($"{responses.Count} answers");
                }

                throw Ask(null, [.. Enumerable.Range(0, count).Select(i => ($"q{i}", Elicit($"Question {i}", NameSchema)))]);

            case "test_missing_capability":
                if (context.Server.ClientCapabilities?.Sampling is null)
                {
                    throw new McpProtocolException("Missing required client capability: sampling", (McpErrorCode)(-32021))
                    {
                        Data = { ["requiredCapabilities"] = new JsonObject { ["sampling"] = new JsonObject() } },
                    };
                }

                return Text("The client declared sampling");

            case "test_streaming_elicitation":
                var elicited = await context.Server.ElicitAsync(new ElicitRequestParams
                {
                    Message = "What is your name?",
                    RequestedSchema = JsonSerializer.Deserialize<ElicitRequestParams.RequestSchema>(NameSchema, s_json)!,
                }, ct);
                return Text($"Elicitation answered: {elicited.Action}");

            case "test_logging_tool":
                // 2026-07-28: logs only for a request that asked for them in _meta.
                if (context.Server.LoggingLevel is null)
                {
                    return Text("no logLevel asked: nothing logged");
                }

                await context.Server.SendNotificationAsync(NotificationMethods.LoggingMessageNotification,
                    new LoggingMessageNotificationParams { Level = LoggingLevel.Info, Data = JsonSerializer.SerializeToElement("a log line", s_json) }, cancellationToken: ct);
                return Text("logged");

            case "test_input_required_result_elicitation":
                if (Answer(responses, "user_name") is not { } user || user["content"]?["name"]?.GetValue<string>() is not { } name)
                {
                    throw Ask(null, ("user_name", Elicit("What is your name?", NameSchema)));
                }

                return Text($"Hello, {name}!");

            case "test_input_required_result_sampling":
                if (Answer(responses, "capital_question") is not { } sampled)
                {
                    throw Ask(null, ("capital_question", Sample("What is the capital of France?", 100)));
                }

                return Text($"The model said: {sampled["content"]?["text"]}");

            case "test_input_required_result_list_roots":
                if (Answer(responses, "client_roots") is not { } roots)
                {
                    throw Ask(null, ("client_roots", new JsonObject { ["method"] = "roots/list", ["params"] = new JsonObject() }));
                }

                return Text($"Roots: {roots["roots"]?.ToJsonString()}");

            case "test_input_required_result_request_state" or "test_input_required_result_tampered_state":
                if (request.RequestState is null)
                {
                    throw Ask(Sign($"{request.Name}:round1"), ("confirm", Elicit("Please confirm", """{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}""")));
                }

                _ = Verify(request.RequestState, $"{request.Name}:round1");
                return Text("state-ok: the request state came back intact");

            case "test_input_required_result_multiple_inputs":
                if (request.RequestState is null || Answer(responses, "user_name") is null || Answer(responses, "greeting") is null || Answer(responses, "client_roots") is null)
                {
                    throw Ask(Sign("multiple:round1"),
                        ("user_name", Elicit("What is your name?", NameSchema)),
                        ("greeting", Sample("Generate a greeting", 50)),
                        ("client_roots", new JsonObject { ["method"] = "roots/list", ["params"] = new JsonObject() }));
                }

                _ = Verify(request.RequestState, "multiple:round1");
                return Text("All three answers arrived");

            case "test_input_required_result_multi_round":
                if (request.RequestState is null)
                {
                    throw Ask(Sign("multi:round1"), ("step1", Elicit("Step 1: What is your name?", NameSchema)));
                }

                var round = Verify(request.RequestState, null);
                if (round == "multi:round1")
                {
                    var first = Answer(responses, "step1")?["content"]?["name"]?.GetValue<string>() ?? "?";
                    throw Ask(Sign($"multi:round2:{first}"), ("step2", Elicit("Step 2: What is your favorite color?", """{"type":"object","properties":{"color":{"type":"string"}},"required":["color"]}""")));
                }

                var color = Answer(responses, "step2")?["content"]?["color"]?.GetValue<string>() ?? "?";
                return Text($"{round.Split(':')[2]} likes {color}");

            case "test_input_required_result_capabilities":
                var capabilities = context.Server.ClientCapabilities;
                if (responses is { Count: > 0 })
                {
                    return Text($"Answered: {string.Join(", ", responses.Keys.Order())}");
                }

                var asks = new List<(string, JsonObject)>();
                if (capabilities?.Sampling is not null)
                {
                    asks.Add(("sampling", Sample("Say something", 20)));
                }

                if (capabilities?.Elicitation is not null)
                {
                    asks.Add(("elicitation", Elicit("Say something", NameSchema)));
                }

                if (asks.Count == 0)
                {
                    return Text("The client declared neither sampling nor elicitation: nothing to ask");
                }

                throw Ask(null, [.. asks]);

            default:
                throw new McpProtocolException($"Unknown tool: {request.Name}", McpErrorCode.InvalidParams);
        }
    }

    public static GetPromptResult GetPrompt(RequestContext<GetPromptRequestParams> context)
    {
        if (Answer(context.Params!.InputResponses, "user_context") is not { } answer)
        {
            throw Ask(null, ("user_context", Elicit("What context should the prompt use?", """{"type":"object","properties":{"context":{"type":"string"}},"required":["context"]}""")));
        }

        var text = $"Use this context: {answer["content"]?["context"]}";
        return JsonSerializer.Deserialize<GetPromptResult>($$$"""{"messages":[{"role":"user","content":{"type":"text","text":{{{JsonSerializer.Serialize(text)}}}}}]}""", s_json)!;
    }

    private static JsonNode? Answer(IDictionary<string, InputResponse>? responses, string key)
    {
        if (responses is null || !responses.TryGetValue(key, out var response))
        {
            return null;
        }

        var node = JsonNode.Parse(response.RawValue.GetRawText());
        // A response that is not an object is no answer: the question is asked again.
        return node as JsonObject;
    }

    private static JsonObject Elicit(string message, string schema) => new()
    {
        ["method"] = "elicitation/create",
        ["params"] = new JsonObject { ["message"] = message, ["requestedSchema"] = JsonNode.Parse(schema) },
    };

    private static JsonObject Sample(string question, int maxTokens) => new()
    {
        ["method"] = "sampling/createMessage",
        ["params"] = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = new JsonObject { ["type"] = "text", ["text"] = question } }),
            ["maxTokens"] = maxTokens,
        },
    };

    private static InputRequiredException Ask(string? state, params (string Key, JsonObject Request)[] requests)
    {
        var map = new Dictionary<string, InputRequest>();
        foreach (var (key, request) in requests)
        {
            map[key] = JsonSerializer.Deserialize<InputRequest>(request.ToJsonString(), s_json)!;
        }

        return new InputRequiredException(map, state!);
    }

    private static string Sign(string payload)
    {
        var bytes = Encoding.UTF8.GetBytes(payload);
        return $"{Convert.ToBase64String(bytes)}.{Convert.ToBase64String(HMACSHA256.HashData(s_key, bytes))}";
    }

    /// <summary>The signed payload, or -32602 when the state was altered (or is not the one expected).</summary>
    private static string Verify(string state, string? expected)
    {
        var dot = state.IndexOf('.', StringComparison.Ordinal);
        try
        {
            if (dot > 0)
            {
                var payload = Convert.FromBase64String(state[..dot]);
                var mac = Convert.FromBase64String(state[(dot + 1)..]);
                if (CryptographicOperations.FixedTimeEquals(mac, HMACSHA256.HashData(s_key, payload)))
                {
                    var text = Encoding.UTF8.GetString(payload);
                    if (expected is null || text == expected)
                    {
                        return text;
                    }
                }
            }
        }
        catch (FormatException)
        {
        }

        throw new McpProtocolException("Invalid params: the requestState failed its integrity check", McpErrorCode.InvalidParams);
    }

    private static CallToolResult Text(string text) => new() { Content = [new TextContentBlock { Text = text }] };
}
