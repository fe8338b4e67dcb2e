using System.Buffers;
using Archestra.Edge.Gateway.Sessions;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Gateway;

/// <summary>
/// Logging levels towards upstreams. A client's <c>logging/setLevel</c> is answered by the gateway, which filters what
/// each client receives; but many servers (the C# SDK's among them) send <c>notifications/message</c> only once a
/// level was set, and only at or above it. So each upstream session is asked for the most verbose level any client
/// of it wants: every client of a shared session, or the one owner of a <c>per_session</c> one. A level is lowered
/// (made more verbose) when a client asks for more, never raised while the session lives; per-client filtering keeps
/// each client's own level.
/// </summary>
internal sealed partial class GatewayRuntime
{
    private static readonly TimeSpan s_setLevelTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a client's <c>logging/setLevel</c> waits for the upstreams to take the level before it is answered.</summary>
    private static readonly TimeSpan s_setLevelWait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A client set its level: every running upstream session it reaches is asked for at least that much. Completes
    /// when they answered (so the client's next call already logs at that level), or after a short wait: a slow
    /// server does not hold up the client's answer.
    /// </summary>
    public Task OnClientLogLevelAsync(DownstreamSession client)
    {
        var level = client.LogLevel;
        if (level == LogLevels.Unset)
        {
            return Task.CompletedTask;
        }

        var sends = new List<Task>();
        foreach (var server in client.Profile.Servers)
        {
            foreach (var replica in server.Replicas)
            {
                if (replica.CurrentSession is { } shared && RequestLogLevel(server, shared, level) is { } send)
                {
                    sends.Add(send);
                }
            }
        }

        foreach (var own in client.OwnUpstreamSessions())
        {
            if (RequestLogLevel(null, own, level) is { } send)
            {
                sends.Add(send);
            }
        }

        return sends.Count == 0 ? Task.CompletedTask
            : Task.WhenAll(sends).WaitAsync(s_setLevelWait, TimeProvider).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    /// <summary>An upstream session opened: it is asked for the most verbose level its clients want, if any set one.</summary>
    private void ApplyLogLevel(UpstreamServer server, UpstreamSession session, ICallerContext? owner)
    {
        var level = LogLevels.Unset;
        if (owner is DownstreamSession only)
        {
            level = only.LogLevel;
        }
        else
        {
            foreach (var client in Sessions.All)
            {
                if (client.LogLevel != LogLevels.Unset && client.Profile.Uses(server) && (level == LogLevels.Unset || client.LogLevel < level))
                {
                    level = client.LogLevel;
                }
            }
        }

        if (level != LogLevels.Unset)
        {
            _ = RequestLogLevel(server, session, level);
        }
    }

    /// <summary>Sends the level if it is more verbose than what the session was asked for; null when nothing is sent.</summary>
    private Task? RequestLogLevel(UpstreamServer? server, UpstreamSession session, int level)
        => session.Info.Logging && session.IsAlive && !session.IsModern && session.TryLowerLoggingLevel(level)
            ? SendLogLevelAsync(session, level, server?.Name ?? session.ServerName)
            : null;

    private async Task SendLogLevelAsync(UpstreamSession session, int level, string serverName)
    {
        var parameters = new ArrayBufferWriter<byte>(32);
        parameters.Write("{\"level\":"u8);
        JsonRpcWriter.WriteString(parameters, LogLevels.Name(level));
        parameters.Write("}"u8);
        try
        {
            using var timeout = new CancellationTokenSource(s_setLevelTimeout, TimeProvider);
            var (response, error) = await session.RequestAsync("logging/setLevel"u8.ToArray(), parameters.WrittenMemory, timeout.Token).ConfigureAwait(false);
            using (response)
            {
                if (response is null || response.Envelope.Kind == JsonRpcMessageKind.ErrorResponse)
                {
                    LogLevelLog.SetLevelFailed(_logger, serverName, response is null ? error.Message : "the server answered with an error");
                }
            }
        }
        catch (OperationCanceledException)
        {
            LogLevelLog.SetLevelFailed(_logger, serverName, "no answer");
        }
    }

    private static partial class LogLevelLog
    {
        [LoggerMessage(Observability.EventIds.UpstreamSetLevelFailed, LogLevel.Debug, "Upstream '{Server}' did not take logging/setLevel: {Reason}")]
        public static partial void SetLevelFailed(ILogger logger, string server, string reason);
    }
}
