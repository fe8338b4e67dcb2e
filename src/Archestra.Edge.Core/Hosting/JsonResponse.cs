using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Hosting;

/// <summary>The one way a JSON document (a contract of <see cref="Contracts.EdgeJsonContext"/>) becomes a response.</summary>
internal static class JsonResponse
{
    /// <summary>
    /// Writes <paramref name="value"/> with <paramref name="status"/>, a Content-Length and <c>Cache-Control:
    /// no-store</c> (these documents hold tokens, or state that is stale a second later).
    /// </summary>
    public static Task WriteAsync<T>(HttpContext context, int status, T value, JsonTypeInfo<T> type)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(value, type);
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        response.Headers.CacheControl = "no-store";
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
