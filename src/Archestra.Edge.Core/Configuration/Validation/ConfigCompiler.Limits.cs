using Archestra.Edge.Configuration.Model;
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

        return new LimitSettings(
            maxRequestBytes,
            Duration(limits.CallTimeout, "limits.call_timeout", LimitSettings.DefaultCallTimeout),
            maxSessions,
            Duration(limits.SessionIdleTimeout, "limits.session_idle_timeout", LimitSettings.DefaultSessionIdleTimeout));
    }
}
