using Archestra.Edge.Configuration.Documents;
using Archestra.Edge.Model;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Configuration.Validation;

internal sealed partial class ConfigCompiler
{
    private LimitSettings CompileLimits(LimitsConfig limits)
    {
        var maxRequestBytes = LimitSettings.DefaultMaxRequestBytes;
        if (limits.MaxRequestBytes is { } sizeText)
        {
            if (!Units.TryParseSize(sizeText, out maxRequestBytes) || maxRequestBytes < 1024)
            {
                _diagnostics.Add("limits.max_request_bytes", $"'{sizeText}' is not a size of at least 1KiB", "use bytes or a unit: 512KiB, 4MiB, 1GiB");
                maxRequestBytes = LimitSettings.DefaultMaxRequestBytes;
            }
        }

        var maxSessions = limits.MaxSessions ?? LimitSettings.DefaultMaxSessions;
        if (maxSessions < 1)
        {
            _diagnostics.Add("limits.max_sessions", $"must be at least 1 (found {maxSessions})");
        }

        var replayBytes = LimitSettingsDefaults.ReplayBufferBytes;
        if (limits.ReplayBufferBytes is { } replayText && (!Units.TryParseSize(replayText, out replayBytes) || replayBytes < 0))
        {
            _diagnostics.Add("limits.replay_buffer_bytes", $"'{replayText}' is not a size", "use bytes or a unit: 0 (no resumption), 256KiB, 1MiB");
            replayBytes = LimitSettingsDefaults.ReplayBufferBytes;
        }

        var pageSize = limits.ListPageSize ?? 0;
        if (pageSize < 0)
        {
            _diagnostics.Add("limits.list_page_size", $"must be 0 (one page) or more (found {pageSize})");
            pageSize = 0;
        }

        var maxConnections = limits.MaxConnections ?? LimitSettings.DefaultMaxConnections;
        if (maxConnections < 1)
        {
            _diagnostics.Add("limits.max_connections", $"must be at least 1 (found {maxConnections})");
            maxConnections = LimitSettings.DefaultMaxConnections;
        }

        return new LimitSettings(
            maxRequestBytes,
            Duration(limits.CallTimeout, "limits.call_timeout", LimitSettings.DefaultCallTimeout),
            maxSessions,
            Duration(limits.SessionIdleTimeout, "limits.session_idle_timeout", LimitSettings.DefaultSessionIdleTimeout))
        {
            ListPageSize = pageSize,
            ReplayBufferBytes = replayBytes,
            RatePerPrincipal = Rate(limits.RatePerPrincipal, "limits.rate_per_principal"),
            RatePerProfile = Rate(limits.RatePerProfile, "limits.rate_per_profile"),
            RatePerTool = Rate(limits.RatePerTool, "limits.rate_per_tool"),
            RequestHeadersTimeout = Duration(limits.RequestHeadersTimeout, "limits.request_headers_timeout", TimeSpan.FromSeconds(30)),
            MaxConnections = maxConnections,
            KeepAliveTimeout = Duration(limits.KeepAliveTimeout, "limits.keep_alive_timeout", LimitSettings.DefaultKeepAliveTimeout),
        };
    }

    private RateLimit? Rate(string? text, string path)
    {
        if (text is null)
        {
            return null;
        }

        if (!RateLimit.TryParse(text, out var limit))
        {
            _diagnostics.Add(path, $"'{text}' is not a rate", "write requests per second, minute or hour: 20/s, 600/m, 10000/h");
        }

        return limit;
    }
}
