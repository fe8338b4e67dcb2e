using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Model;
using Archestra.Edge.Protocol.Mcp;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary>The transport-level checks every request to an MCP endpoint passes, in order.</summary>
internal static class RequestGuard
{
    /// <summary>DNS-rebinding protection (Host) and browser-origin protection (Origin): 403 when refused.</summary>
    public static GatewayError CheckHostAndOrigin(HttpRequest request, HostPolicy policy)
    {
        if (!policy.IsHostAllowed(HostName(request.Headers.Host.ToString())))
        {
            return new(GatewayErrorKind.ForbiddenHost, "Forbidden: the Host header names a host this gateway does not serve");
        }

        var origin = request.Headers.Origin;
        if (!StringValues.IsNullOrEmpty(origin) && !policy.IsOriginAllowed(origin.ToString()))
        {
            return new(GatewayErrorKind.ForbiddenOrigin, "Forbidden: this Origin is not allowed");
        }

        return default;
    }

    /// <summary>A POST must carry JSON.</summary>
    public static bool IsJsonContent(HttpRequest request)
    {
        var contentType = request.ContentType;
        if (contentType is null)
        {
            return false;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var mediaType = (semicolon < 0 ? contentType.AsSpan() : contentType.AsSpan(0, semicolon)).Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A POST must accept both JSON and an event stream (wildcards count).</summary>
    public static bool AcceptsJsonAndEventStream(HttpRequest request)
    {
        bool json = false, stream = false;
        foreach (var value in request.Headers.Accept)
        {
            foreach (var range in (value ?? string.Empty).Split(','))
            {
                var mediaType = MediaType(range);
                json |= mediaType is "application/json" or "application/*" or "*/*";
                stream |= mediaType is "text/event-stream" or "text/*" or "*/*";
            }
        }

        return json && stream;
    }

    /// <summary>A GET must accept an event stream.</summary>
    public static bool AcceptsEventStream(HttpRequest request)
    {
        foreach (var value in request.Headers.Accept)
        {
            foreach (var range in (value ?? string.Empty).Split(','))
            {
                if (MediaType(range) is "text/event-stream" or "text/*" or "*/*")
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Finds the session a request names. A session is bound to the profile it was opened on and to its principal.</summary>
    public static GatewayError ResolveSession(HttpRequest request, GatewayRuntime runtime, ProfileRuntime profile, Identity.Principal caller, out DownstreamSession? session)
    {
        session = null;
        var header = request.Headers[McpHeaders.SessionId];
        if (StringValues.IsNullOrEmpty(header))
        {
            return new(GatewayErrorKind.SessionRequired, "Bad Request: Mcp-Session-Id header is required");
        }

        // Another profile's session, or another principal's, does not exist as far as this request is concerned.
        if (!runtime.Sessions.TryGet(header.ToString(), out var found) || !string.Equals(found.ProfileName, profile.Name, StringComparison.Ordinal) || found.IsClosed || !found.Caller.SameParty(caller))
        {
            return new(GatewayErrorKind.SessionNotFound, "Session not found");
        }

        session = found;
        return default;
    }

    /// <summary>
    /// After initialization the client sends the negotiated revision in <c>MCP-Protocol-Version</c>; a missing header
    /// means the session's revision. A revision this gateway does not speak is refused with 400 and JSON-RPC
    /// -32022 listing the supported ones, so a client that tried a newer revision (2026-07-28) downgrades at once.
    /// A different but supported revision is tolerated, as the SDKs do (the conformance suite itself sends one).
    /// </summary>
    public static GatewayError CheckProtocolVersion(HttpRequest request)
    {
        var header = request.Headers[McpHeaders.ProtocolVersion];
        if (StringValues.IsNullOrEmpty(header))
        {
            return default;
        }

        var value = header.ToString();
        return ProtocolVersions.MatchDownstream(value) is null
            ? new(GatewayErrorKind.UnsupportedProtocolVersion, $"Bad Request: Unsupported protocol version: {value} (supported versions: {string.Join(", ", ProtocolVersions.Downstream)})")
            : default;
    }

    /// <summary>The <c>data</c> of an unsupported-version error: <c>{"supported":[…],"requested":"…"}</c>.</summary>
    public static byte[] UnsupportedVersionData(HttpRequest request)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer, Protocol.JsonRpc.JsonRpcWriter.RelaxedOptions))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("supported");
            foreach (var version in ProtocolVersions.Supported)
            {
                writer.WriteStringValue(version);
            }

            writer.WriteEndArray();
            writer.WriteString("requested", request.Headers[McpHeaders.ProtocolVersion].ToString());
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string MediaType(string range)
    {
        var semicolon = range.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? range : range[..semicolon]).Trim().ToLowerInvariant();
    }

    /// <summary>The host part of a Host header: no port, IPv6 brackets kept for the policy to strip.</summary>
    private static ReadOnlySpan<char> HostName(string host)
    {
        var span = host.AsSpan();
        if (span.Length > 0 && span[0] == '[')
        {
            var close = span.IndexOf(']');
            return close < 0 ? span : span[..(close + 1)];
        }

        var colon = span.LastIndexOf(':');
        return colon < 0 ? span : span[..colon];
    }
}
