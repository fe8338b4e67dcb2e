using System.Buffers;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;

namespace Archestra.Edge.PerfEcho;

/// <summary>The echo server's behaviour, transport-independent: one message in, at most one message out.</summary>
internal sealed class EchoProtocol
{
    private readonly byte[] _toolsList;
    private readonly byte[] _initializeResult;

    public EchoProtocol(string name, int tools)
    {
        _initializeResult = Encoding.UTF8.GetBytes(
            $$$"""{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"{{{name}}}","version":"1.0.0"}}""");
        var list = new StringBuilder("""{"tools":[{"name":"echo","description":"Echoes its text argument","inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}}""");
        for (var i = 1; i < tools; i++)
        {
            list.Append($$$""",{"name":"tool_{{{i}}}","description":"Synthetic tool {{{i}}} for catalog benchmarks","inputSchema":{"type":"object","properties":{"a":{"type":"string","description":"first"},"b":{"type":"integer","minimum":0}},"required":["a"]},"annotations":{"readOnlyHint":true}}""");
        }

        list.Append("]}");
        _toolsList = Encoding.UTF8.GetBytes(list.ToString());
    }

    /// <summary>Writes the answer to <paramref name="message"/>; false for notifications and responses (no answer).</summary>
    public bool TryAnswer(ReadOnlySpan<byte> message, IBufferWriter<byte> output, out bool isInitialize)
    {
        var envelope = EnvelopeReader.Read(message);
        isInitialize = envelope.Method == McpMethod.Initialize;
        if (envelope.Kind != JsonRpcMessageKind.Request)
        {
            return false;
        }

        var id = envelope.Id.Slice(message);
        switch (envelope.Method)
        {
            case McpMethod.Initialize:
                JsonRpcWriter.WriteResult(output, id, _initializeResult);
                return true;
            case McpMethod.Ping:
                JsonRpcWriter.WriteResult(output, id, "{}"u8);
                return true;
            case McpMethod.ToolsList:
                JsonRpcWriter.WriteResult(output, id, _toolsList);
                return true;
            case McpMethod.ToolsCall:
                WriteEcho(output, id, envelope.Params.Slice(message));
                return true;
            default:
                JsonRpcWriter.WriteError(output, id, JsonRpcErrorCode.MethodNotFound, "Method not found");
                return true;
        }
    }

    /// <summary><c>{"content":[{"type":"text","text":ARGUMENTS.TEXT}]}</c>, the text token copied as it came.</summary>
    private static void WriteEcho(IBufferWriter<byte> output, ReadOnlySpan<byte> id, ReadOnlySpan<byte> parameters)
    {
        var text = FindText(parameters);
        output.Write("{\"jsonrpc\":\"2.0\",\"id\":"u8);
        output.Write(id);
        output.Write(",\"result\":{\"content\":[{\"type\":\"text\",\"text\":"u8);
        output.Write(text.IsEmpty ? "\"\""u8 : text);
        output.Write("}]}}"u8);
    }

    private static ReadOnlySpan<byte> FindText(ReadOnlySpan<byte> parameters)
    {
        var reader = new Utf8JsonReader(parameters);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return default;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("arguments"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isText = reader.ValueTextEquals("text"u8);
                reader.Read();
                if (isText && reader.TokenType == JsonTokenType.String)
                {
                    var start = (int)reader.TokenStartIndex;
                    return parameters[start..(int)reader.BytesConsumed];
                }

                reader.Skip();
            }

            return default;
        }

        return default;
    }
}
