using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Fleet;

/// <summary>What became of a request for another instance's session.</summary>
internal enum ForwardOutcome : byte
{
    /// <summary>The owner answered; its answer was relayed whole (status, headers, body or stream).</summary>
    Answered,

    /// <summary>The owner is not live or could not be reached: the session is gone (the caller answers 404, so the client re-initializes).</summary>
    OwnerGone,
}

/// <summary>
/// Relays a request for a session owned by another instance to that instance's <c>server.advertise_url</c>, as it
/// came (method, path, query, headers including <c>Authorization</c> and <c>Host</c>, body), sealed with a
/// <see cref="FleetHop"/>, and streams the owner's answer back as it comes — an SSE stream event by event, a GET
/// stream for as long as it lasts, cancelled when the client goes. The owner checks the caller itself (tokens are
/// shared), so forwarding grants nothing. Connections to peers are pooled; connecting is bounded at 2 s, after which
/// the owner counts as gone.
/// </summary>
internal sealed partial class FleetForwarder : IDisposable
{
    private static readonly HashSet<string> s_hopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Authorization",
        "Proxy-Authenticate", "Host", "Content-Length", FleetHop.Header,
    };

    private readonly FleetNode _node;
    private readonly HttpMessageInvoker _http;
    private readonly ILogger _logger;
    private long _forwarded;
    private long _ownerGone;

    public FleetForwarder(FleetNode node, ILogger logger)
    {
        _node = node;
        _logger = logger;
        _http = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ActivityHeadersPropagator = null,
        });
    }

    /// <summary>Requests relayed to their owner so far.</summary>
    public long Forwarded => Interlocked.Read(ref _forwarded);

    /// <summary>Requests whose owner was gone so far.</summary>
    public long OwnerGone => Interlocked.Read(ref _ownerGone);

    /// <summary>Forwards <paramref name="context"/>'s request (with <paramref name="body"/>, already read, if it had one) to <paramref name="owner"/>.</summary>
    public async Task<ForwardOutcome> ForwardAsync(HttpContext context, string owner, ReadOnlyMemory<byte> body)
    {
        var membership = _node.Membership!;
        if (FleetHop.IsSealed(_node, context.Request, _node.Time.GetUtcNow()))
        {
            // Forwarded here already, yet not ours: an instance's advertised address leads elsewhere (the balancer,
            // another instance). Relaying again could go round for ever; the session is as good as gone.
            Log.Misrouted(_logger, owner);
            Interlocked.Increment(ref _ownerGone);
            return ForwardOutcome.OwnerGone;
        }

        if (!membership.TryGetLive(owner, out var member))
        {
            Interlocked.Increment(ref _ownerGone);
            return ForwardOutcome.OwnerGone;
        }

        var request = context.Request;
        var path = request.Path.Value ?? "/";
        var target = new Uri(member.Url, path + request.QueryString.Value);
        using var message = new HttpRequestMessage(HttpMethod.Parse(request.Method), target) { Version = HttpVersion.Version11 };
        if (!body.IsEmpty || HttpMethods.IsPost(request.Method))
        {
            message.Content = new ReadOnlyMemoryContent(body);
        }

        foreach (var (name, values) in request.Headers)
        {
            if (s_hopByHop.Contains(name))
            {
                continue;
            }

            if (!message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        message.Headers.Host = request.Host.Value;
        message.Headers.TryAddWithoutValidation(FleetHop.Header,
            FleetHop.Seal(_node, request.Method, path, request.Headers[Protocol.Mcp.McpHeaders.SessionId].ToString(), _node.Time.GetUtcNow()));
        if (context.Connection.RemoteIpAddress is { } client)
        {
            message.Headers.TryAddWithoutValidation("X-Forwarded-For", client.ToString());
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return ForwardOutcome.Answered; // the client left before the owner answered
        }
        catch (HttpRequestException ex)
        {
            Log.ForwardFailed(_logger, owner, member.Url.ToString(), ex.Message);
            Interlocked.Increment(ref _ownerGone);
            return ForwardOutcome.OwnerGone;
        }

        Interlocked.Increment(ref _forwarded);
        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            CopyHeaders(response.Headers, context.Response.Headers);
            CopyHeaders(response.Content.Headers, context.Response.Headers);
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            var stream = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                try
                {
                    // Kestrel flushes every write, so an SSE event reaches the client as soon as the owner sends it.
                    await stream.CopyToAsync(context.Response.Body, 16 * 1024, context.RequestAborted).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
                {
                    // The owner died mid-stream, or the client left: the stream ends here as it would have there.
                    context.Abort();
                }
            }
        }

        return ForwardOutcome.Answered;
    }

    public void Dispose() => _http.Dispose();

    private static void CopyHeaders(System.Net.Http.Headers.HttpHeaders from, IHeaderDictionary to)
    {
        foreach (var (name, values) in from)
        {
            if (!s_hopByHop.Contains(name))
            {
                to[name] = values.ToArray();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.FleetForwardFailed, LogLevel.Warning, "Cannot reach instance {Instance} at {Url} for one of its sessions ({Reason}); answering that the session is gone")]
        public static partial void ForwardFailed(ILogger logger, string instance, string url, string reason);

        [LoggerMessage(Observability.EventIds.FleetMisrouted, LogLevel.Warning, "A request forwarded to this instance belongs to instance {Instance}: some instance's server.advertise_url does not lead to it; answering that the session is gone")]
        public static partial void Misrouted(ILogger logger, string instance);
    }
}
