namespace Archestra.Edge.Upstreams;

/// <summary>Receives what an upstream session sends outside of any request: list changes, resource updates, logs, pings.</summary>
internal interface IUpstreamListener
{
    /// <summary>The <c>params</c> of the <c>initialize</c> request the gateway sends (client capabilities, client info).</summary>
    ReadOnlyMemory<byte> InitializeParameters { get; }

    /// <summary>
    /// The revision era the server was found to speak (2026-07-28, or a 2025 one), remembered across its sessions so a
    /// new session asks the right way at once; null until known.
    /// </summary>
    string? KnownEra { get; set; }

    /// <summary>A notification not tied to a request. The listener owns (and disposes) the message.</summary>
    void OnNotification(UpstreamSession session, UpstreamMessage message);

    /// <summary>A server-to-client request not tied to a request. The listener owns it and must answer it.</summary>
    void OnRequest(UpstreamSession session, UpstreamMessage message);

    /// <summary>The session ended (process exit, HTTP 404, disposal).</summary>
    void OnClosed(UpstreamSession session, UpstreamError reason);
}
