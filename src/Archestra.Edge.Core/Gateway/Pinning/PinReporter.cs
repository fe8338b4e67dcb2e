using System.Collections.Concurrent;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Model;
using Archestra.Edge.Observability;
using Archestra.Edge.Observability.Audit;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Gateway.Pinning;

/// <summary>
/// Says, once per profile and live definition, that a pinned server's item does not match the lock: a warning in the
/// log, <c>archestra_policy_decisions_total{rule="pinning"}</c> and an audit record (method <c>tools/list</c> or
/// <c>prompts/list</c>, principal <c>gateway</c>, outcome what changed). Catalogs are rebuilt often (every list change,
/// every reload), so repeats are dropped; the memory of what was said is bounded and starts over when full (the
/// worst case is saying it again). Lives across reloads.
/// </summary>
internal sealed partial class PinReporter
{
    /// <summary>The name pinning decisions go by in the audit trail and the metric.</summary>
    public const string RuleName = "pinning";

    /// <summary>How many (profile, server, item, definition) reports are remembered.</summary>
    public const int Capacity = 4096;

    private readonly ConcurrentDictionary<(string Profile, string Server, CatalogKind Kind, string Name, string? Digest), byte> _said = new();
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly GatewayMetrics? _metrics;
    private readonly AuditTrail? _audit;

    public PinReporter(ILogger logger, TimeProvider time, GatewayMetrics? metrics, AuditTrail? audit)
    {
        _logger = logger;
        _time = time;
        _metrics = metrics;
        _audit = audit;
    }

    /// <summary>The rule a call to a withheld item is denied by (its message is set per item).</summary>
    public static PolicyRule Rule { get; } = new(RuleName, "servers.*.pinning", [], [], null, [], PolicyDecision.Deny, null);

    /// <summary>How many reports are remembered now (at most <see cref="Capacity"/>).</summary>
    public int Remembered => _said.Count;

    public void Report(string profile, string server, PinningMode mode, PinMismatch mismatch)
    {
        if (_said.Count >= Capacity)
        {
            _said.Clear();
        }

        if (!_said.TryAdd((profile, server, mismatch.Kind, mismatch.Name, mismatch.LiveDigest), 0))
        {
            return;
        }

        var decision = mode == PinningMode.Block ? "blocked" : "warned";
        var noun = CatalogKinds.Noun(mismatch.Kind);
        if (mode == PinningMode.Block)
        {
            Log.Blocked(_logger, profile, server, noun, mismatch.Name, mismatch.What);
        }
        else
        {
            Log.Warned(_logger, profile, server, noun, mismatch.Name, mismatch.What);
        }

        _metrics?.RecordPolicyDecision(profile, RuleName, decision);
        _audit?.Record(new AuditRecord(_time.GetUtcNow(), "gateway", profile, server, mismatch.Kind == CatalogKind.Tools ? "tools/list" : "prompts/list", mismatch.Name, mismatch.What, 0, 0, 0, string.Empty)
        {
            Decision = $"{decision}:{RuleName}",
        });
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.PinBlocked, LogLevel.Warning,
            "Profile '{Profile}': {Noun} '{Name}' of server '{Server}' is withheld, {What} (review it, then archestra-edge pin --update)")]
        public static partial void Blocked(ILogger logger, string profile, string server, string noun, string name, string what);

        [LoggerMessage(EventIds.PinWarned, LogLevel.Warning,
            "Profile '{Profile}': {Noun} '{Name}' of server '{Server}' is served though {What} (pinning: warn; review it, then archestra-edge pin --update)")]
        public static partial void Warned(ILogger logger, string profile, string server, string noun, string name, string what);
    }
}
