using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Archestra.Edge.TestServer;

/// <summary>The server's behaviour, written against the SDK's low-level handlers so results are exactly as specified.</summary>
internal static class TestHandlers
{
    private static readonly JsonSerializerOptions s_json = McpJsonUtilities.DefaultOptions;

    public static IMcpServerBuilder AddTestHandlers(this IMcpServerBuilder builder, TestServerState state) => builder
        .WithListToolsHandler((context, ct) => ValueTask.FromResult(new ListToolsResult { Tools = ListTools(state) }))
        .WithCallToolHandler(async (context, ct) =>
        {
            try
            {
                return await CallToolAsync(context, state, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not McpProtocolException and not InputRequiredException)
            {
                Console.Error.WriteLine($"{state.Options.Name}: tool {context.Params?.Name} failed: {ex}");
                throw;
            }
        })
        .WithListPromptsHandler((context, ct) => ValueTask.FromResult(new ListPromptsResult { Prompts = Parse<List<Prompt>>(state.Options.Modern ? ToolCatalog.Prompts.TrimEnd().TrimEnd(']') + "," + InputRequiredTools.PromptCatalog + "]" : ToolCatalog.Prompts) }))
        .WithGetPromptHandler((context, ct) => ValueTask.FromResult(state.Options.Modern && context.Params!.Name == "test_input_required_result_prompt" ? InputRequiredTools.GetPrompt(context) : GetPrompt(context.Params!)))
        .WithListResourcesHandler((context, ct) => ValueTask.FromResult(new ListResourcesResult { Resources = Parse<List<Resource>>(ToolCatalog.Resources) }))
        .WithListResourceTemplatesHandler((context, ct) => ValueTask.FromResult(new ListResourceTemplatesResult { ResourceTemplates = Parse<List<ResourceTemplate>>(ToolCatalog.ResourceTemplates) }))
        .WithReadResourceHandler((context, ct) => ValueTask.FromResult(ReadResource(context.Params!.Uri, state.Options.Name, context.Server.NegotiatedProtocolVersion == "2026-07-28")))
        .WithSubscribeToResourcesHandler((context, ct) =>
        {
            state.Subscriptions[context.Params!.Uri] = 0;
            return ValueTask.FromResult(new EmptyResult());
        })
        .WithUnsubscribeFromResourcesHandler((context, ct) =>
        {
            state.Subscriptions.TryRemove(context.Params!.Uri, out _);
            return ValueTask.FromResult(new EmptyResult());
        })
        .WithCompleteHandler((context, ct) => ValueTask.FromResult(Complete(context.Params!)));

    private static List<Tool> ListTools(TestServerState state)
    {
        var tools = Parse<List<Tool>>(state.Options.Modern ? ToolCatalog.Tools.TrimEnd().TrimEnd(']') + "," + InputRequiredTools.Catalog + "]" : ToolCatalog.Tools);
        foreach (var (name, description) in state.DynamicTools)
        {
            tools.Add(Parse<Tool>("{\"name\":" + JsonSerializer.Serialize(name) + ",\"description\":" + JsonSerializer.Serialize(description) + ",\"inputSchema\":{\"type\":\"object\",\"properties\":{}}}"));
        }

        foreach (var tool in tools)
        {
            if (state.Descriptions.TryGetValue(tool.Name, out var changed) || state.Options.Descriptions.TryGetValue(tool.Name, out changed))
            {
                tool.Description = changed;
            }
        }

        return tools;
    }

    private static async ValueTask<CallToolResult> CallToolAsync(RequestContext<CallToolRequestParams> context, TestServerState state, CancellationToken ct)
    {
        state.CountCall();
        var server = context.Server;
        var name = context.Params!.Name;
        var args = context.Params.Arguments ?? new Dictionary<string, JsonElement>();
        if (state.Options.Modern && InputRequiredTools.Handles(name))
        {
            return await InputRequiredTools.CallAsync(context, ct);
        }

        switch (name)
        {
            case "echo":
                var text = Arg(args, "text") ?? string.Empty;
                return Result($$$"""{"content":[{"type":"text","text":{{{JsonSerializer.Serialize(text)}}}}],"structuredContent":{"text":{{{JsonSerializer.Serialize(text)}}}}}""");
            case "add":
                var sum = args["a"].GetDouble() + args["b"].GetDouble();
                return Text(sum.ToString(System.Globalization.CultureInfo.InvariantCulture));
            case "identify":
                return Text(state.Options.Name);
            case "pid":
                return Text(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            case "env":
                var variables = Environment.GetEnvironmentVariables();
                var names = new List<string>(variables.Count);
                foreach (System.Collections.DictionaryEntry entry in variables)
                {
                    names.Add($"{entry.Key}={entry.Value}");
                }

                names.Sort(StringComparer.Ordinal);
                return Text(string.Join("\n", names));
            case "slow":
                var ms = args.TryGetValue("ms", out var m) ? m.GetInt32() : 100;
                Console.Error.WriteLine($"{state.Options.Name}: slow call started ({ms} ms)");
                await Task.Delay(ms, ct);
                return Text($"slept {ms} ms");
            case "hang":
                Console.Error.WriteLine($"{state.Options.Name}: hanging call started");
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    Console.Error.WriteLine($"{state.Options.Name}: hanging call cancelled");
                    throw;
                }

                return Text("unreachable");
            case "crash":
                Console.Error.WriteLine($"{state.Options.Name}: crashing mid-call, as asked");
                Console.Error.Flush();
                Environment.Exit(3);
                return Text("unreachable");
            case "spam_stderr":
                var lines = args.TryGetValue("lines", out var l) ? l.GetInt32() : 1000;
                for (var i = 0; i < lines; i++)
                {
                    Console.Error.WriteLine($"{state.Options.Name}: stderr line {i}");
                }

                return Text($"wrote {lines} lines to stderr");
            case "garbage_stdout":
                if (state.Options.Stdio)
                {
                    Console.Out.WriteLine("garbage: this line is not JSON-RPC");
                    Console.Out.Flush();
                }

                return Text("wrote garbage");
            case "big":
                var bytes = args.TryGetValue("bytes", out var b) ? b.GetInt32() : 65536;
                return Text(new string('x', bytes));
            case "headers":
                return Text(JsonSerializer.Serialize(state.LastHeaders ?? new Dictionary<string, string>()));
            case "progress":
                var steps = args.TryGetValue("steps", out var s) ? s.GetInt32() : 3;
                await ReportProgressAsync(context, steps, ct);
                return Text($"done in {steps} steps");
            case "log":
                // As the SDK's own logging does when asked (respect_level): nothing below the level a client set,
                // and nothing at all before any client set one.
                var logLevel = Arg(args, "level") ?? "info";
                if (args.TryGetValue("respect_level", out var respect) && respect.ValueKind == JsonValueKind.True
                    && (server.LoggingLevel is not { } minimum || Severity(logLevel) < (int)minimum))
                {
                    return Text($"not logged (level {server.LoggingLevel?.ToString() ?? "unset"})");
                }

                await LogAsync(server, logLevel, Arg(args, "message") ?? "hello", ct);
                return Text("logged");
            case "sample" or "test_sampling":
                var prompt = Arg(args, "prompt") ?? "hello";
                var sampled = await RequestAsync(server, "sampling/createMessage",
                    $$$"""{"messages":[{"role":"user","content":{"type":"text","text":{{{JsonSerializer.Serialize(prompt)}}}}}],"maxTokens":100}""", ct);
                return Text($"LLM response: {sampled?["content"]?["text"]}");
            case "elicit" or "test_elicitation":
                var message = Arg(args, "message") ?? "Please answer";
                var elicited = await RequestAsync(server, "elicitation/create",
                    $$$"""{"message":{{{JsonSerializer.Serialize(message)}}},"requestedSchema":{"type":"object","properties":{"username":{"type":"string","description":"User's response"},"email":{"type":"string","description":"User's email address"}},"required":["username","email"]}}""", ct);
                return Text($"User response: {elicited?.ToJsonString()}");
            case "add_tool":
                var newName = Arg(args, "name")!;
                state.DynamicTools[newName] = $"Added at run time: {newName}";
                if (!state.Options.SilentLists)
                {
                    await server.SendNotificationAsync(NotificationMethods.ToolListChangedNotification, ct);
                }

                return Text($"added {newName}");
            case "redescribe":
                state.Descriptions[Arg(args, "name")!] = Arg(args, "description")!;
                await server.SendNotificationAsync(NotificationMethods.ToolListChangedNotification, ct);
                return Text("redescribed");
            case "leak":
                var leaked = Arg(args, "text")!;
                return Result("{\"content\":[{\"type\":\"text\",\"text\":" + JsonSerializer.Serialize(leaked) + "}],\"structuredContent\":{\"value\":" + JsonSerializer.Serialize(leaked) + ",\"nested\":[" + JsonSerializer.Serialize(leaked) + "]}}");
            case "roots":
                var roots = await RequestAsync(server, "roots/list", "{}", ct);
                return Text(roots?.ToJsonString() ?? "null");
            case "args":
                return Text(JsonSerializer.Serialize(args, s_json));
            case "touch_resource":
                var uri = Arg(args, "uri")!;
                await server.SendMessageAsync(new JsonRpcNotification
                {
                    Method = NotificationMethods.ResourceUpdatedNotification,
                    Params = new JsonObject { ["uri"] = uri },
                }, ct);
                return Text($"touched {uri}");
            case "rich":
                return Result("""{"content":[{"type":"text","text":"{\"ok\":true}"}],"structuredContent":{"ok":true}}""");
            case "test_simple_text":
                return Text("This is a simple text response for testing.");
            case "test_image_content":
                return Result($$$"""{"content":[{"type":"image","data":"{{{Fixtures.RedPixelPng}}}","mimeType":"image/png"}]}""");
            case "test_audio_content":
                return Result($$$"""{"content":[{"type":"audio","data":"{{{Fixtures.SilentWav}}}","mimeType":"audio/wav"}]}""");
            case "test_embedded_resource":
                return Result("""{"content":[{"type":"resource","resource":{"uri":"test://embedded-resource","mimeType":"text/plain","text":"This is an embedded resource content."}}]}""");
            case "test_multiple_content_types":
                return Result($$$"""{"content":[{"type":"text","text":"Multiple content types test:"},{"type":"image","data":"{{{Fixtures.RedPixelPng}}}","mimeType":"image/png"},{"type":"resource","resource":{"uri":"test://mixed-content-resource","mimeType":"application/json","text":"{\"test\":\"data\",\"value\":123}"}}]}""");
            case "test_tool_with_logging":
                await LogAsync(server, "info", "Tool execution started", ct);
                await Task.Delay(50, ct);
                await LogAsync(server, "info", "Tool processing data", ct);
                await Task.Delay(50, ct);
                await LogAsync(server, "info", "Tool execution completed", ct);
                return Text("Tool with logging executed successfully");
            case "test_tool_with_progress":
                await ReportProgressAsync(context, 3, ct);
                return Text("Tool with progress executed successfully");
            case "test_error_handling":
                return Result("""{"isError":true,"content":[{"type":"text","text":"This tool intentionally returns an error for testing"}]}""");
            case "test_elicitation_sep1034_defaults":
                var defaults = await RequestAsync(server, "elicitation/create",
                    """{"message":"Please review the defaults","requestedSchema":{"type":"object","properties":{"name":{"type":"string","default":"John Doe"},"age":{"type":"integer","default":30},"score":{"type":"number","default":95.5},"status":{"type":"string","enum":["active","inactive","pending"],"default":"active"},"verified":{"type":"boolean","default":true}}}}""", ct);
                return Text($"Elicitation completed: action={defaults?["action"]}, content={defaults?["content"]?.ToJsonString()}");
            case "test_elicitation_sep1330_enums":
                var enums = await RequestAsync(server, "elicitation/create",
                    """{"message":"Please choose","requestedSchema":{"type":"object","properties":{"untitledSingle":{"type":"string","enum":["option1","option2","option3"]},"titledSingle":{"type":"string","oneOf":[{"const":"value1","title":"First Option"},{"const":"value2","title":"Second Option"},{"const":"value3","title":"Third Option"}]},"legacyEnum":{"type":"string","enum":["opt1","opt2","opt3"],"enumNames":["Option One","Option Two","Option Three"]},"untitledMulti":{"type":"array","items":{"type":"string","enum":["option1","option2","option3"]}},"titledMulti":{"type":"array","items":{"anyOf":[{"const":"value1","title":"First Choice"},{"const":"value2","title":"Second Choice"},{"const":"value3","title":"Third Choice"}]}}}}}""", ct);
                return Text($"Elicitation completed: action={enums?["action"]}, content={enums?["content"]?.ToJsonString()}");
            case "json_schema_2020_12_tool":
                return Text("ok");
            default:
                if (state.DynamicTools.ContainsKey(name))
                {
                    return Text($"dynamic tool {name} called");
                }

                throw new McpProtocolException($"Unknown tool: {name}", McpErrorCode.InvalidParams);
        }
    }

    private static async Task ReportProgressAsync(RequestContext<CallToolRequestParams> context, int steps, CancellationToken ct)
    {
        var token = context.Params!.ProgressToken;
        for (var i = 0; i < steps; i++)
        {
            if (token is { } progressToken)
            {
                await context.Server.NotifyProgressAsync(progressToken, new ProgressNotificationValue
                {
                    Progress = steps == 1 ? 100 : i * 100f / (steps - 1),
                    Total = 100,
                    Message = $"step {i + 1} of {steps}",
                }, cancellationToken: ct);
            }

            await Task.Delay(50, ct);
        }
    }

    private static int Severity(string level) => level switch
    {
        "debug" => (int)LoggingLevel.Debug,
        "info" => (int)LoggingLevel.Info,
        "notice" => (int)LoggingLevel.Notice,
        "warning" => (int)LoggingLevel.Warning,
        "error" => (int)LoggingLevel.Error,
        "critical" => (int)LoggingLevel.Critical,
        "alert" => (int)LoggingLevel.Alert,
        _ => (int)LoggingLevel.Emergency,
    };

    private static Task LogAsync(McpServer server, string level, string message, CancellationToken ct)
        => server.SendMessageAsync(new JsonRpcNotification
        {
            Method = NotificationMethods.LoggingMessageNotification,
            Params = new JsonObject { ["level"] = level, ["logger"] = "test-server", ["data"] = message },
        }, ct);

    private static async Task<JsonNode?> RequestAsync(McpServer server, string method, string parameters, CancellationToken ct)
    {
        var response = await server.SendRequestAsync(new JsonRpcRequest { Method = method, Params = JsonNode.Parse(parameters) }, ct);
        return response.Result;
    }

    private static GetPromptResult GetPrompt(GetPromptRequestParams request)
    {
        var args = request.Arguments ?? new Dictionary<string, JsonElement>();
        string Get(string key) => args.TryGetValue(key, out var value) ? value.GetString() ?? string.Empty : string.Empty;
        return request.Name switch
        {
            "test_simple_prompt" => Parse<GetPromptResult>("""{"messages":[{"role":"user","content":{"type":"text","text":"This is a simple prompt for testing."}}]}"""),
            "test_prompt_with_arguments" => Parse<GetPromptResult>($$$"""{"messages":[{"role":"user","content":{"type":"text","text":{{{JsonSerializer.Serialize($"Prompt with arguments: arg1='{Get("arg1")}', arg2='{Get("arg2")}'")}}}}}]}"""),
            "test_prompt_with_embedded_resource" => Parse<GetPromptResult>("{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"resource\",\"resource\":{\"uri\":" + JsonSerializer.Serialize(Get("resourceUri")) + ",\"mimeType\":\"text/plain\",\"text\":\"Embedded resource content for testing.\"}}},{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"Please process the embedded resource above.\"}}]}"),
            "test_prompt_with_image" => Parse<GetPromptResult>($$$"""{"messages":[{"role":"user","content":{"type":"image","data":"{{{Fixtures.RedPixelPng}}}","mimeType":"image/png"}},{"role":"user","content":{"type":"text","text":"Please analyze the image above."}}]}"""),
            _ => throw new McpProtocolException($"Unknown prompt: {request.Name}", McpErrorCode.InvalidParams),
        };
    }

    private static ReadResourceResult ReadResource(string uri, string name, bool modern)
    {
        if (uri == "test://static-text")
        {
            return Parse<ReadResourceResult>("""{"contents":[{"uri":"test://static-text","mimeType":"text/plain","text":"This is the content of the static text resource."}]}""");
        }

        if (uri == "test://identity")
        {
            return Parse<ReadResourceResult>("{\"contents\":[{\"uri\":\"test://identity\",\"mimeType\":\"text/plain\",\"text\":" + JsonSerializer.Serialize(name) + "}]}");
        }

        if (uri == "test://static-binary")
        {
            return Parse<ReadResourceResult>($$$"""{"contents":[{"uri":"test://static-binary","mimeType":"image/png","blob":"{{{Fixtures.RedPixelPng}}}"}]}""");
        }

        if (uri == "test://watched-resource")
        {
            return Parse<ReadResourceResult>("""{"contents":[{"uri":"test://watched-resource","mimeType":"text/plain","text":"Watched resource content."}]}""");
        }

        if (uri.StartsWith("test://template/", StringComparison.Ordinal) && uri.EndsWith("/data", StringComparison.Ordinal))
        {
            var id = uri["test://template/".Length..^"/data".Length];
            var text = JsonSerializer.Serialize(new Dictionary<string, object> { ["id"] = id, ["templateTest"] = true, ["data"] = $"Data for ID: {id}" });
            return Parse<ReadResourceResult>($$$"""{"contents":[{"uri":{{{JsonSerializer.Serialize(uri)}}},"mimeType":"application/json","text":{{{JsonSerializer.Serialize(text)}}}}]}""");
        }

        // 2026-07-28 (SEP-2164): -32602 with the URI in data; earlier revisions: -32002.
        throw new McpProtocolException($"Resource not found: {uri}", modern ? McpErrorCode.InvalidParams : (McpErrorCode)(-32002)) { Data = { ["uri"] = uri } };
    }

    private static CompleteResult Complete(CompleteRequestParams request)
    {
        var value = request.Argument.Value ?? string.Empty;
        string[] candidates = ["paris", "park", "party", "test-one", "test-two"];
        var values = candidates.Where(c => c.StartsWith(value, StringComparison.OrdinalIgnoreCase)).ToList();
        return new CompleteResult { Completion = new Completion { Values = values, Total = values.Count, HasMore = false } };
    }

    private static CallToolResult Text(string text)
        => new() { Content = [new TextContentBlock { Text = text }] };

    private static CallToolResult Result(string json) => Parse<CallToolResult>(json);

    private static T Parse<T>(string json) => JsonSerializer.Deserialize<T>(json, s_json)!;

    private static string? Arg(IDictionary<string, JsonElement> args, string name)
        => args.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
