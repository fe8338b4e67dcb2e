using System.Text.Json;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Utilities;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Endpoints;

internal sealed partial class McpPostHandler
{
    /// <summary>
    /// Opens a session: negotiates the protocol revision (the client's if supported, else the newest), records
    /// the client's capabilities, and answers with the profile's capabilities and a fresh <c>Mcp-Session-Id</c>.
    /// No upstream is contacted: servers start when first used.
    /// </summary>
    private async Task InitializeAsync(HttpContext context, GatewayRuntime runtime, ProfileRuntime profile, Identity.Principal caller, RequestBody body, JsonRpcEnvelope envelope)
    {
        var id = envelope.Id.Slice(body.Span).ToArray();
        string? requested = null, clientName = null, clientVersion = null;
        var capabilities = ClientCapabilities.None;
        try
        {
            if (envelope.Params.IsEmpty)
            {
                throw new JsonException("missing params");
            }

            using var document = JsonDocument.Parse(body.Memory.Slice(envelope.Params.Start, envelope.Params.Length));
            var parameters = document.RootElement;
            if (parameters.ValueKind != JsonValueKind.Object
                || !parameters.TryGetProperty("protocolVersion", out var version)
                || version.ValueKind != JsonValueKind.String)
            {
                throw new JsonException("params.protocolVersion must be a string");
            }

            requested = version.GetString();
            if (parameters.TryGetProperty("capabilities", out var caps))
            {
                capabilities = ClientCapabilities.Parse(caps);
            }

            if (parameters.TryGetProperty("clientInfo", out var info) && info.ValueKind == JsonValueKind.Object)
            {
                clientName = info.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
                clientVersion = info.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            }
        }
        catch (JsonException ex)
        {
            await RejectAsync(context, new GatewayError(GatewayErrorKind.InvalidParams, $"Invalid params: {ex.Message}"), id).ConfigureAwait(false);
            return;
        }

        var negotiated = ProtocolVersions.MatchDownstream(requested) ?? ProtocolVersions.Latest;
        var session = new DownstreamSession(runtime.Sessions.NewId(), profile, negotiated, capabilities, clientName, clientVersion, runtime.TimeProvider)
        {
            ReplayBudget = runtime.Snapshot.Limits.ReplayBufferBytes,
            Caller = caller,
        };
        var limit = runtime.Snapshot.Limits.MaxSessions;
        if (!runtime.Sessions.TryAdd(session, limit))
        {
            Log.SessionLimitReached(_logger, limit);
            context.Response.Headers.RetryAfter = "5";
            await RejectAsync(context, new GatewayError(GatewayErrorKind.TooManySessions, $"Too many sessions are open ({limit}); retry later"), id).ConfigureAwait(false);
            return;
        }

        Log.SessionCreated(_logger, profile.Name, clientName ?? "an unnamed client", negotiated, caller.Name);
        context.Response.Headers[McpHeaders.SessionId] = session.Id;
        using var result = new PooledBufferWriter();
        WriteInitializeResult(result, profile, negotiated);
        await ResponseWriter.WriteResultAsync(context, id, result.WrittenSpan).ConfigureAwait(false);
    }

    private static void WriteInitializeResult(PooledBufferWriter output, ProfileRuntime profile, string protocolVersion)
    {
        using var writer = new Utf8JsonWriter(output, JsonRpcWriter.RelaxedOptions);
        writer.WriteStartObject();
        writer.WriteString("protocolVersion", protocolVersion);
        writer.WritePropertyName("capabilities");
        writer.WriteRawValue(profile.CapabilitiesJson, skipInputValidation: true);
        writer.WriteStartObject("serverInfo");
        writer.WriteString("name", BuildInfo.ProductName);
        writer.WriteString("title", profile.Model.Title ?? $"{BuildInfo.ProductTitle} · {profile.Name}");
        writer.WriteString("version", BuildInfo.Version);
        if (profile.Model.Description is { } description && ProtocolVersions.IsAtLeast(protocolVersion, ProtocolVersions.V20251125))
        {
            writer.WriteString("description", description);
        }

        writer.WriteEndObject();
        if (profile.Model.Instructions is { } instructions)
        {
            writer.WriteString("instructions", instructions);
        }

        writer.WriteEndObject();
    }
}
