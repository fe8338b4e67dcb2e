using System.Buffers;
using System.Text.Json;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Upstreams.Builtin;

/// <summary>
/// The embedded <c>archestra</c> MCP server: a few tools about the gateway itself, answered in process, so a
/// profile works on a machine with no other services. It speaks the same JSON-RPC as any upstream.
/// </summary>
internal sealed class ArchestraBuiltinSession : UpstreamSession
{
    private readonly IGatewayIntrospection _gateway;
    private readonly TimeProvider _timeProvider;

    public ArchestraBuiltinSession(string serverName, IGatewayIntrospection gateway, TimeProvider timeProvider)
        : base(serverName)
    {
        _gateway = gateway;
        _timeProvider = timeProvider;
        Info = new UpstreamInfo(ProtocolVersions.Latest, "archestra", BuildInfo.Version,
            Tools: true, ToolsListChanged: false, Prompts: false, PromptsListChanged: false, Resources: false,
            ResourcesSubscribe: false, ResourcesListChanged: false, Logging: false, Completions: false);
    }

    public override bool IsAlive => true;

    public override string? Identity => "in-process";

    public override ValueTask<(IUpstreamReply? Reply, UpstreamError Error)> SendRequestAsync(
        long id, ReadOnlyMemory<byte> message, ICallerContext? caller, CancellationToken cancellationToken)
    {
        var span = message.Span;
        var envelope = EnvelopeReader.Read(span);
        var idToken = envelope.Id.Slice(span);
        using var output = new PooledBufferWriter();
        switch (envelope.Method)
        {
            case McpMethod.Ping:
                JsonRpcWriter.WriteResult(output, idToken, "{}"u8);
                break;
            case McpMethod.ToolsList:
                JsonRpcWriter.WriteResult(output, idToken, BuiltinTools.ListResult);
                break;
            case McpMethod.ToolsCall:
                WriteCall(output, idToken, envelope, span, caller);
                break;
            default:
                JsonRpcWriter.WriteError(output, idToken, JsonRpcErrorCode.MethodNotFound, "Method not found");
                break;
        }

        IUpstreamReply reply = new CompletedReply(UpstreamMessage.Copy(output.WrittenSpan));
        return ValueTask.FromResult<(IUpstreamReply?, UpstreamError)>((reply, UpstreamError.None));
    }

    public override ValueTask<UpstreamError> SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
        => ValueTask.FromResult(UpstreamError.None);

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private void WriteCall(IBufferWriter<byte> output, ReadOnlySpan<byte> idToken, JsonRpcEnvelope envelope, ReadOnlySpan<byte> message, ICallerContext? caller)
    {
        var name = envelope.Name.IsEmpty ? [] : envelope.Name.StringContent(message);
        using var structured = new PooledBufferWriter();
        using (var writer = new Utf8JsonWriter(structured, JsonRpcWriter.RelaxedOptions))
        {
            if (name.SequenceEqual(BuiltinTools.ListServers))
            {
                WriteServers(writer, caller);
            }
            else if (name.SequenceEqual(BuiltinTools.WhoAmI))
            {
                WriteWhoAmI(writer, caller);
            }
            else if (name.SequenceEqual(BuiltinTools.GatewayInfo))
            {
                WriteGatewayInfo(writer, caller);
            }
            else
            {
                JsonRpcWriter.WriteError(output, idToken, JsonRpcErrorCode.InvalidParams, $"Unknown tool: {System.Text.Encoding.UTF8.GetString(name)}");
                return;
            }
        }

        // Structured content, plus the same JSON as text for clients that only read text (the spec's SHOULD).
        using var result = new PooledBufferWriter();
        using (var writer = new Utf8JsonWriter(result, JsonRpcWriter.RelaxedOptions))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("content");
            writer.WriteStartObject();
            writer.WriteString("type", "text");
            writer.WriteString("text", structured.WrittenSpan);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WritePropertyName("structuredContent");
            writer.WriteRawValue(structured.WrittenSpan, skipInputValidation: true);
            writer.WriteEndObject();
        }

        JsonRpcWriter.WriteResult(output, idToken, result.WrittenSpan);
    }

    private void WriteServers(Utf8JsonWriter writer, ICallerContext? caller)
    {
        writer.WriteStartObject();
        writer.WriteString("profile", caller?.ProfileName);
        writer.WriteStartArray("servers");
        foreach (var server in caller is null ? [] : _gateway.ServersOf(caller.ProfileName))
        {
            writer.WriteStartObject();
            writer.WriteString("name", server.Name);
            writer.WriteString("kind", server.Kind);
            writer.WriteString("state", server.State switch
            {
                UpstreamState.Stopped => "stopped",
                UpstreamState.Starting => "starting",
                UpstreamState.Ready => "ready",
                _ => "failed",
            });
            WriteOptional(writer, "identity", server.Identity);
            WriteOptional(writer, "serverInfo", server.ServerInfo);
            if (server.ReadySince is { } since)
            {
                writer.WriteString("readySince", since);
            }

            writer.WriteNumber("starts", server.Starts);
            WriteOptional(writer, "lastError", server.LastError);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteWhoAmI(Utf8JsonWriter writer, ICallerContext? caller)
    {
        writer.WriteStartObject();
        var authenticated = caller?.Authenticated == true;
        writer.WriteString("principal", authenticated ? caller!.Principal : "anonymous");
        writer.WriteBoolean("authenticated", authenticated);
        if (!authenticated)
        {
            writer.WriteString("note", "This gateway authenticates nobody (its config has no auth: section): every caller is served alike, as the organisation.");
        }

        writer.WriteString("profile", caller?.ProfileName);
        WriteOptional(writer, "clientName", caller?.ClientName);
        WriteOptional(writer, "clientVersion", caller?.ClientVersion);
        writer.WriteString("protocolVersion", caller?.ProtocolVersion);
        writer.WriteEndObject();
    }

    private void WriteGatewayInfo(Utf8JsonWriter writer, ICallerContext? caller)
    {
        writer.WriteStartObject();
        writer.WriteString("name", BuildInfo.ProductName);
        writer.WriteString("version", BuildInfo.Version);
        writer.WriteString("startedAt", _gateway.StartedAt);
        writer.WriteNumber("uptimeSeconds", Math.Round((_timeProvider.GetUtcNow() - _gateway.StartedAt).TotalSeconds, 1));
        writer.WriteString("profile", caller?.ProfileName);
        writer.WriteStartArray("protocolVersions");
        foreach (var version in ProtocolVersions.Downstream)
        {
            writer.WriteStringValue(version);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }
}
