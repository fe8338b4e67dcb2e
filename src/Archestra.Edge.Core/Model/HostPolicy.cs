using System.Collections.Frozen;

namespace Archestra.Edge.Model;

/// <summary>
/// DNS-rebinding and browser-origin protection: which Host headers and Origins may reach the gateway.
/// Loopback names, the public URL's host and the listen hosts are always allowed.
/// </summary>
internal sealed class HostPolicy
{
    private readonly FrozenSet<string> _hosts;
    private readonly FrozenSet<string> _origins;

    public HostPolicy(IEnumerable<string> hosts, bool anyHost, IEnumerable<string> origins, bool anyOrigin)
    {
        _hosts = hosts.Select(h => h.Trim('[', ']')).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _origins = origins.Select(o => o.TrimEnd('/')).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        AnyHost = anyHost;
        AnyOrigin = anyOrigin;
    }

    public bool AnyHost { get; }

    public bool AnyOrigin { get; }

    public IEnumerable<string> Hosts => _hosts;

    /// <summary>Checks a Host header's host part (no port, IPv6 without brackets).</summary>
    public bool IsHostAllowed(ReadOnlySpan<char> host)
    {
        return AnyHost || IsNamedHost(host);
    }

    /// <summary>Checks an Origin header: an allowed origin, or any origin on a named allowed host (never just because any host is allowed).</summary>
    public bool IsOriginAllowed(string origin)
    {
        if (AnyOrigin || _origins.Contains(origin.TrimEnd('/')))
        {
            return true;
        }

        return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && IsNamedHost(uri.IdnHost);
    }

    private bool IsNamedHost(ReadOnlySpan<char> host)
    {
        if (host.Length > 1 && host[0] == '[' && host[^1] == ']')
        {
            host = host[1..^1];
        }

        return _hosts.GetAlternateLookup<ReadOnlySpan<char>>().Contains(host);
    }
}
