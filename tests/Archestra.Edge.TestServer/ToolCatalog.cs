namespace Archestra.Edge.TestServer;

/// <summary>The tool definitions, as raw JSON so every schema keyword is exactly as a real server would send it.</summary>
internal static class ToolCatalog
{
    public const string Tools = """
    [
      {"name":"echo","description":"Echoes the text back","inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}},
      {"name":"add","description":"Adds two numbers","inputSchema":{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}},
      {"name":"identify","description":"Says which server answered","inputSchema":{"type":"object","properties":{}}},
      {"name":"pid","description":"Says which process answered","inputSchema":{"type":"object","properties":{}}},
      {"name":"env","description":"Returns the environment variables it was started with","inputSchema":{"type":"object","properties":{}}},
      {"name":"slow","description":"Answers after a delay","inputSchema":{"type":"object","properties":{"ms":{"type":"integer"}}}},
      {"name":"hang","description":"Never answers (until cancelled)","inputSchema":{"type":"object","properties":{}}},
      {"name":"crash","description":"Kills the server process mid-call","inputSchema":{"type":"object","properties":{}}},
      {"name":"spam_stderr","description":"Writes many lines to stderr","inputSchema":{"type":"object","properties":{"lines":{"type":"integer"}}}},
      {"name":"garbage_stdout","description":"Writes a non-JSON line to stdout, then answers","inputSchema":{"type":"object","properties":{}}},
      {"name":"big","description":"Returns a large text","inputSchema":{"type":"object","properties":{"bytes":{"type":"integer"}}}},
      {"name":"headers","description":"Returns the HTTP headers of the last request","inputSchema":{"type":"object","properties":{}}},
      {"name":"progress","description":"Reports progress in steps","inputSchema":{"type":"object","properties":{"steps":{"type":"integer"}}}},
      {"name":"log","description":"Sends a log message during the call","inputSchema":{"type":"object","properties":{"level":{"type":"string"},"message":{"type":"string"}}}},
      {"name":"sample","description":"Asks the client to sample","inputSchema":{"type":"object","properties":{"prompt":{"type":"string"}}}},
      {"name":"elicit","description":"Asks the client for input","inputSchema":{"type":"object","properties":{"message":{"type":"string"}}}},
      {"name":"roots","description":"Asks the client for its roots and returns them","inputSchema":{"type":"object","properties":{}}},
      {"name":"args","description":"Returns the arguments it was called with","inputSchema":{"type":"object","properties":{"owner":{"type":"string"},"title":{"type":"string"}},"required":["owner","title"]}},
      {"name":"redescribe","description":"Changes a tool's description and announces it","inputSchema":{"type":"object","properties":{"name":{"type":"string"},"description":{"type":"string"}},"required":["name","description"]}},
      {"name":"leak","description":"Returns the text as content and as structured content","inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}},
      {"name":"add_tool","description":"Adds a tool at run time and announces it","inputSchema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}},
      {"name":"touch_resource","description":"Announces that a resource changed","inputSchema":{"type":"object","properties":{"uri":{"type":"string"}},"required":["uri"]}},
      {"name":"rich","title":"Rich tool","description":"A tool whose definition uses every field","inputSchema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","$defs":{"point":{"type":"object","properties":{"x":{"type":"number","exclusiveMinimum":0},"y":{"type":"number"}},"required":["x"]}},"properties":{"at":{"$ref":"#/$defs/point"},"mode":{"enum":["a","b"],"default":"a"},"unicode":{"type":"string","description":"naïve café ☕ \u2028"}},"additionalProperties":false},"outputSchema":{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]},"annotations":{"title":"Rich","readOnlyHint":true,"destructiveHint":false,"idempotentHint":true,"openWorldHint":false},"icons":[{"src":"data:image/png;base64,iVBORw0KGgo=","mimeType":"image/png","sizes":["16x16"]}],"_meta":{"vendor.example/x":{"nested":[1,2.50,null,true]}},"x-unknown-field":{"kept":"byte for byte"}},
      {"name":"test_simple_text","description":"Returns simple text","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_image_content","description":"Returns an image","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_audio_content","description":"Returns audio","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_embedded_resource","description":"Returns an embedded resource","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_multiple_content_types","description":"Returns text, image and resource","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_tool_with_logging","description":"Logs three messages while running","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_tool_with_progress","description":"Reports progress 0, 50, 100","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_error_handling","description":"Always fails","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_sampling","description":"Requests sampling from the client","inputSchema":{"type":"object","properties":{"prompt":{"type":"string"}},"required":["prompt"]}},
      {"name":"test_elicitation","description":"Requests user input from the client","inputSchema":{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}},
      {"name":"test_elicitation_sep1034_defaults","description":"Elicitation with defaults for every primitive type","inputSchema":{"type":"object","properties":{}}},
      {"name":"test_elicitation_sep1330_enums","description":"Elicitation with every enum variant","inputSchema":{"type":"object","properties":{}}},
      {"name":"json_schema_2020_12_tool","description":"Tool with JSON Schema 2020-12 features","inputSchema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","$defs":{"address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},"properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"}},"additionalProperties":false}}
    ]
    """;

    public const string Prompts = """
    [
      {"name":"test_simple_prompt","description":"A simple prompt without arguments"},
      {"name":"test_prompt_with_arguments","description":"A prompt with two arguments","arguments":[{"name":"arg1","description":"First test argument","required":true},{"name":"arg2","description":"Second test argument","required":true}]},
      {"name":"test_prompt_with_embedded_resource","description":"A prompt embedding a resource","arguments":[{"name":"resourceUri","description":"URI of the resource to embed","required":true}]},
      {"name":"test_prompt_with_image","description":"A prompt with an image"}
    ]
    """;

    public const string Resources = """
    [
      {"uri":"test://static-text","name":"static-text","description":"A static text resource","mimeType":"text/plain"},
      {"uri":"test://static-binary","name":"static-binary","description":"A static binary resource","mimeType":"image/png"},
      {"uri":"test://watched-resource","name":"watched-resource","description":"A resource to subscribe to","mimeType":"text/plain"},
      {"uri":"test://identity","name":"identity","description":"Names the server that answers","mimeType":"text/plain"}
    ]
    """;

    public const string ResourceTemplates = """
    [
      {"uriTemplate":"test://template/{id}/data","name":"template-data","description":"Data by id","mimeType":"application/json"}
    ]
    """;
}
