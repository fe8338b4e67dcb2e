using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Identity.Jwt;

/// <summary>
/// The keys of an external identity provider, fetched from its <c>jwks_uri</c> and cached for <c>jwks_cache_ttl</c>.
/// A token signed with a key id the cache does not know triggers one refetch, at most once per
/// <c>jwks_refresh_interval</c> however many such tokens arrive (a key rotation is picked up at once; a flood of
/// forged key ids cannot make the gateway hammer the provider).
/// </summary>
internal sealed partial class JwksCache : IDisposable
{
    private readonly Uri _uri;
    private readonly TimeSpan _ttl;
    private readonly TimeSpan _refreshInterval;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _fetching = new(1, 1);
    private volatile Dictionary<string, JsonWebKey> _keys = [];
    private long _fetchedAt = long.MinValue;
    private long _lastAttempt = long.MinValue;
    private int _fetches;

    public JwksCache(Uri uri, TimeSpan ttl, TimeSpan refreshInterval, TimeProvider time, HttpMessageHandler handler, ILogger logger)
    {
        _uri = uri;
        _ttl = ttl;
        _refreshInterval = refreshInterval;
        _time = time;
        _logger = logger;
        _http = new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>How many times the JWKS was fetched (for status and tests).</summary>
    public int Fetches => Volatile.Read(ref _fetches);

    public async ValueTask<JsonWebKey?> GetAsync(string? kid, CancellationToken cancellationToken)
    {
        var found = Find(_keys, kid);
        var fetchedAt = Interlocked.Read(ref _fetchedAt);
        if (found is not null && fetchedAt != long.MinValue && _time.GetElapsedTime(fetchedAt) < _ttl)
        {
            return found;
        }

        // Stale (refetch, keep using the old keys if that fails), or an unknown key id (refetch, rate-limited).
        if (found is null && !MayFetch())
        {
            return null;
        }

        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        return Find(_keys, kid) ?? found;
    }

    private bool MayFetch()
    {
        var last = Interlocked.Read(ref _lastAttempt);
        return last == long.MinValue || _time.GetElapsedTime(last) >= _refreshInterval;
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _fetching.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!MayFetch())
            {
                return; // another caller fetched while this one waited
            }

            Interlocked.Exchange(ref _lastAttempt, _time.GetTimestamp());
            Interlocked.Increment(ref _fetches);
            using var response = await _http.GetAsync(_uri, cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            var keys = new Dictionary<string, JsonWebKey>(StringComparer.Ordinal);
            foreach (var key in JsonWebKey.ReadSet(body))
            {
                keys[key.Kid] = key;
            }

            _keys = keys;
            Interlocked.Exchange(ref _fetchedAt, _time.GetTimestamp());
            Log.Fetched(_logger, _uri.ToString(), keys.Count);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            Log.FetchFailed(_logger, _uri.ToString(), ex.Message);
        }
        finally
        {
            _fetching.Release();
        }
    }

    private static JsonWebKey? Find(Dictionary<string, JsonWebKey> keys, string? kid)
    {
        if (kid is not null)
        {
            return keys.GetValueOrDefault(kid);
        }

        // No kid: only unambiguous with a single key.
        return keys.Count == 1 ? keys.Values.First() : null;
    }

    public void Dispose()
    {
        _http.Dispose();
        _fetching.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.JwksFetched, LogLevel.Information, "Fetched the JWKS of {Uri}: {Count} key(s)")]
        public static partial void Fetched(ILogger logger, string uri, int count);

        [LoggerMessage(Observability.EventIds.JwksFetchFailed, LogLevel.Warning, "Cannot fetch the JWKS of {Uri}: {Reason}")]
        public static partial void FetchFailed(ILogger logger, string uri, string reason);
    }
}
