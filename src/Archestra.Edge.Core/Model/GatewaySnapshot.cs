using System.Collections.Frozen;
using System.Collections.Immutable;

namespace Archestra.Edge.Model;

/// <summary>
/// A validated, compiled configuration. Immutable: the running gateway holds one and swaps it whole on reload,
/// so request handling reads it without locks.
/// </summary>
internal sealed class GatewaySnapshot
{
    public required string SourcePath { get; init; }

    public required ListenerSettings Listener { get; init; }

    public required LimitSettings Limits { get; init; }

    /// <summary>Servers in config order.</summary>
    public required ImmutableArray<ServerModel> Servers { get; init; }

    public required FrozenDictionary<string, ServerModel> ServersByName { get; init; }

    /// <summary>Profiles in config order.</summary>
    public required ImmutableArray<ProfileModel> ProfileList { get; init; }

    public required FrozenDictionary<string, ProfileModel> Profiles { get; init; }

    /// <summary>Teams, users and upstream credentials.</summary>
    public IdentityModel Identity { get; init; } = IdentityModel.Empty;

    /// <summary>How callers authenticate (disabled when the file has no <c>auth:</c>).</summary>
    public AuthSettings Auth { get; init; } = AuthSettings.Disabled;

    /// <summary>
    /// A canonical text of each part of the file as loaded (references resolved), by part: <c>servers/&lt;name&gt;</c>,
    /// <c>profiles/&lt;name&gt;</c>, <c>server</c>, <c>auth</c>, <c>credentials</c>. A reload compares them to see what changed.
    /// </summary>
    public FrozenDictionary<string, string> Fingerprints { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>The fingerprint of the file as written (<c>ConfigFingerprints.Whole</c>): shown on <c>/readyz</c>, <c>/metrics</c> and <c>status</c>.</summary>
    public string ConfigFingerprint { get; init; } = string.Empty;

    /// <summary>Whether <paramref name="part"/> reads the same in both snapshots.</summary>
    public bool SameAs(GatewaySnapshot other, string part)
        => Fingerprints.GetValueOrDefault(part) == other.Fingerprints.GetValueOrDefault(part);

    /// <summary>What loaded but most likely does not do what was meant (<c>validate</c> prints them, <c>serve</c> logs them).</summary>
    public ImmutableArray<Configuration.ConfigDiagnostic> Warnings { get; init; } = [];

    /// <summary>Registry catalog files (absolute paths) for the <c>registry</c> command.</summary>
    public ImmutableArray<string> RegistryCatalogs { get; init; } = [];

    /// <summary>Logs as JSON lines instead of console lines.</summary>
    public bool JsonLogs { get; init; }

    /// <summary>The lock file's pinned definitions (read only when a server has <c>pinning:</c> on).</summary>
    public PinLock? Pins { get; init; }

    /// <summary>The least severe events logged (<c>observability.logs.level</c>); null: the command line's default.</summary>
    public Microsoft.Extensions.Logging.LogLevel? LogLevel { get; init; }

    /// <summary>Where <c>/metrics</c> is served.</summary>
    public string MetricsPath { get; init; } = DefaultMetricsPath;

    public const string DefaultMetricsPath = "/metrics";

    /// <summary>OTLP trace export (null: no spans are made at all).</summary>
    public TracingSettings? Tracing { get; init; }

    /// <summary>The audit trail (on by default).</summary>
    public AuditSettings Audit { get; init; } = AuditSettings.Default;

    /// <summary>Where state lives: SQLite in <c>data_dir</c>, or a fleet's PostgreSQL.</summary>
    public StorageSettings Storage { get; init; } = StorageSettings.Sqlite;

    /// <summary>This snapshot with another data directory (the <c>--data-dir</c> option).</summary>
    public GatewaySnapshot WithDataDirectory(string directory) => With(Listener with { DataDirectory = directory }, Pins);

    /// <summary>This snapshot with the lock file's pins.</summary>
    public GatewaySnapshot WithPins(PinLock pins) => With(Listener, pins);

    private GatewaySnapshot With(ListenerSettings listener, PinLock? pins) => new()
    {
        SourcePath = SourcePath,
        Listener = listener,
        Limits = Limits,
        Servers = Servers,
        ServersByName = ServersByName,
        ProfileList = ProfileList,
        Profiles = Profiles,
        Identity = Identity,
        Auth = Auth,
        Audit = Audit,
        Storage = Storage,
        Fingerprints = Fingerprints,
        ConfigFingerprint = ConfigFingerprint,
        RegistryCatalogs = RegistryCatalogs,
        JsonLogs = JsonLogs,
        LogLevel = LogLevel,
        MetricsPath = MetricsPath,
        Tracing = Tracing,
        Pins = pins,
        Warnings = Warnings,
    };
}

/// <summary>Where state lives: <see cref="PostgresConnection"/> null means SQLite in <c>data_dir</c>.</summary>
internal sealed record StorageSettings(string? PostgresConnection)
{
    public static readonly StorageSettings Sqlite = new((string?)null);

    /// <summary>The key that seals upstream connections, then the previous ones (rotation); empty when none is configured.</summary>
    public ImmutableArray<string> EncryptionKeys { get; init; } = [];

    public bool IsPostgres => PostgresConnection is not null;
}

/// <summary>Where spans go: an OTLP/HTTP traces endpoint.</summary>
internal sealed record TracingSettings(Uri TracesEndpoint, string ServiceName, ImmutableArray<KeyValuePair<string, string>> Headers);

/// <summary>What the audit trail keeps of a call's arguments.</summary>
internal enum AuditArguments : byte
{
    /// <summary>The argument names, with every value replaced by <c>"[redacted]"</c>.</summary>
    Redacted,
    Full,
    None,
}

/// <summary>The audit trail: whether it is written, what it keeps of arguments, and for how long.</summary>
internal sealed record AuditSettings(bool Enabled, AuditArguments Arguments, TimeSpan Retention)
{
    public static readonly AuditSettings Default = new(true, AuditArguments.Redacted, TimeSpan.FromDays(30));
}

/// <summary>Where and how the gateway listens.</summary>
internal sealed record ListenerSettings(
    ImmutableArray<Uri> Listen,
    Uri? PublicUrl,
    TlsSettings? Tls,
    HostPolicy Hosts,
    string DataDirectory,
    Uri? AdvertiseUrl = null)
{
    /// <summary>The read-only web console is served at <c>/console</c>.</summary>
    public bool Console { get; init; } = true;

    /// <summary><c>server.public_url</c> without a trailing slash, if configured.</summary>
    public string? PublicBase => PublicUrl is { } configured
        ? configured.GetLeftPart(UriPartial.Authority) + configured.AbsolutePath.TrimEnd('/')
        : null;

    /// <summary>The first listen URL as a local client reaches it (a wildcard address becomes loopback).</summary>
    public string LocalBase
    {
        get
        {
            var listen = Listen[0];
            var host = listen.Host is "0.0.0.0" or "*" or "+" ? "127.0.0.1" : listen.Host is "[::]" or "::" ? "[::1]" : listen.Host;
            return $"{listen.Scheme}://{host}:{listen.Port}";
        }
    }
}

internal sealed record TlsSettings(string CertificatePath, string KeyPath);

internal static class LimitSettingsDefaults
{
    // 1 MiB: a few hundred progress and log events per session; most sessions hold nothing (only SSE answers are kept).
    public const long ReplayBufferBytes = 1L << 20;
}

/// <summary><paramref name="Count"/> requests per <paramref name="Period"/>, in bursts of up to <paramref name="Count"/>.</summary>
internal sealed record RateLimit(int Count, TimeSpan Period)
{
    public static bool TryParse(string text, out RateLimit? limit)
    {
        limit = null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !int.TryParse(text.AsSpan(0, slash), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count) || count < 1)
        {
            return false;
        }

        TimeSpan? period = text.AsSpan(slash + 1).Trim() switch
        {
            "s" => TimeSpan.FromSeconds(1),
            "m" => TimeSpan.FromMinutes(1),
            "h" => TimeSpan.FromHours(1),
            _ => null,
        };
        if (period is null)
        {
            return false;
        }

        limit = new RateLimit(count, period.Value);
        return true;
    }

    public override string ToString() => $"{Count}/{(Period.TotalSeconds <= 1 ? "s" : Period.TotalMinutes <= 1 ? "m" : "h")}";
}

internal sealed record LimitSettings(long MaxRequestBytes, TimeSpan CallTimeout, int MaxSessions, TimeSpan SessionIdleTimeout)
{
    /// <summary>Items per page of list results; 0 means one page with everything.</summary>
    public int ListPageSize { get; init; }

    /// <summary>Bytes of SSE events each session keeps so a client can resume a lost stream.</summary>
    public long ReplayBufferBytes { get; init; } = LimitSettingsDefaults.ReplayBufferBytes;

    /// <summary>Requests per caller, per profile, and calls per tool (null: unlimited).</summary>
    public RateLimit? RatePerPrincipal { get; init; }

    public RateLimit? RatePerProfile { get; init; }

    public RateLimit? RatePerTool { get; init; }

    /// <summary>Time a client has to send its request headers (slow-client protection).</summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Open client connections at most (Kestrel's MaxConcurrentConnections; upgraded ones included).</summary>
    public int MaxConnections { get; init; } = DefaultMaxConnections;

    /// <summary>An idle keep-alive connection is closed after this long (Kestrel's default is 130 s).</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = DefaultKeepAliveTimeout;

    // 10000: one descriptor each, well inside the limit .NET raises the soft RLIMIT_NOFILE to at start.
    public const int DefaultMaxConnections = 10_000;

    public static readonly TimeSpan DefaultKeepAliveTimeout = TimeSpan.FromSeconds(30);

    // Defaults, with where they come from.
    // 4 MiB: a request is a single JSON-RPC message; large tool arguments fit, a runaway body does not.
    public const long DefaultMaxRequestBytes = 4L << 20;

    // 60 s: the TypeScript SDK's DEFAULT_REQUEST_TIMEOUT_MSEC.
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(60);

    public const int DefaultMaxSessions = 10_000;

    public static readonly TimeSpan DefaultSessionIdleTimeout = TimeSpan.FromMinutes(30);
}
