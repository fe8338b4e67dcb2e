using System.Diagnostics;

namespace Archestra.Edge.Observability.Tracing;

/// <summary>
/// The gateway's spans: one per relayed request (<c>tools/call</c>, <c>prompts/get</c>, <c>resources/read</c>,
/// <c>completion/complete</c>), a child of the client's <c>traceparent</c> when it sent one. Without an exporter
/// listening, <see cref="ActivitySource.StartActivity(string, ActivityKind, ActivityContext, IEnumerable{KeyValuePair{string, object}}, IEnumerable{ActivityLink}, DateTimeOffset)"/>
/// returns null at once, so tracing costs nothing when it is off.
/// </summary>
internal static class GatewayTracing
{
    public const string SourceName = "Archestra.Edge";

    public static readonly ActivitySource Source = new(SourceName, Utilities.BuildInfo.Version);

    /// <summary>Starts the span of a relayed request, or returns null when nobody listens.</summary>
    public static Activity? StartCall(string method, string? traceparent, string? tracestate)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(traceparent, tracestate, out var parent);
        return Source.StartActivity(method, ActivityKind.Server, parent);
    }
}
