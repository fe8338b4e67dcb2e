using System.Buffers;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Endpoints;

/// <summary>Writes whole JSON responses: results the gateway computed and errors it raised.</summary>
internal static class ResponseWriter
{
    /// <summary>Writes <c>{"jsonrpc":"2.0","id":ID,"result":RESULT}</c> as an application/json response.</summary>
    public static Task WriteResultAsync(HttpContext context, ReadOnlySpan<byte> rawId, ReadOnlySpan<byte> rawResult)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = JsonRpcWriter.ResultLength(rawId.Length, rawResult.Length);
        JsonRpcWriter.WriteResult(response.BodyWriter, rawId, rawResult);
        return response.BodyWriter.FlushAsync().AsTask();
    }

    /// <summary>Writes an error with the status and JSON-RPC code <see cref="GatewayErrors"/> maps it to.</summary>
    public static Task WriteErrorAsync(HttpContext context, GatewayError error, ReadOnlySpan<byte> rawId)
    {
        var (status, code) = GatewayErrors.Map(error.Kind);
        var response = context.Response;
        response.StatusCode = status;
        if (error.Kind == GatewayErrorKind.MethodNotAllowed)
        {
            response.Headers.Allow = "GET, POST, DELETE";
        }

        using var body = new PooledBufferWriter();
        var data = error.Kind == GatewayErrorKind.UnsupportedProtocolVersion ? RequestGuard.UnsupportedVersionData(context.Request) : null;
        JsonRpcWriter.WriteError(body, rawId, code, error.Message, data);
        response.ContentType = "application/json";
        response.ContentLength = body.WrittenCount;
        response.BodyWriter.Write(body.WrittenSpan);
        return response.BodyWriter.FlushAsync().AsTask();
    }

    /// <summary>
    /// 401 (no or an invalid credential) or 403 (valid, but not for this profile), with the <c>WWW-Authenticate</c>
    /// challenge that points an MCP client at the profile's protected resource metadata (RFC 9728).
    /// </summary>
    public static Task WriteAuthChallengeAsync(HttpContext context, Identity.AuthResult result, string resourceMetadataUrl, ReadOnlySpan<byte> rawId, Observability.GatewayMetrics? metrics)
    {
        var challenge = result.Outcome switch
        {
            Identity.AuthOutcome.Missing => $"Bearer resource_metadata=\"{resourceMetadataUrl}\"",
            Identity.AuthOutcome.Forbidden => $"Bearer error=\"insufficient_scope\", error_description=\"this credential may not use this profile\", resource_metadata=\"{resourceMetadataUrl}\"",
            _ => $"Bearer error=\"invalid_token\", error_description=\"the token is invalid, expired or revoked\", resource_metadata=\"{resourceMetadataUrl}\"",
        };
        context.Response.Headers.WWWAuthenticate = challenge;
        metrics?.RecordAuthFailure(result.Outcome switch
        {
            Identity.AuthOutcome.Missing => "missing",
            Identity.AuthOutcome.Forbidden => "forbidden",
            _ => "invalid",
        });
        var error = result.Outcome == Identity.AuthOutcome.Forbidden
            ? new GatewayError(GatewayErrorKind.Forbidden, "Forbidden: this credential may not use this profile")
            : new GatewayError(GatewayErrorKind.Unauthorized, result.Outcome == Identity.AuthOutcome.Missing ? "Unauthorized: a bearer token is required" : "Unauthorized: the token is invalid, expired or revoked");
        return WriteErrorAsync(context, error, rawId);
    }

    /// <summary>202 Accepted, no body: for notifications and responses the gateway took.</summary>
    public static Task AcceptedAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }
}
