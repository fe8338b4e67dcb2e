using System.Collections.Frozen;
using System.Collections.Immutable;
using Archestra.Edge.Configuration.Documents;
using Archestra.Edge.Model;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Configuration.Validation;

/// <summary>
/// Validates a deserialized <see cref="EdgeConfig"/> and compiles it into a <see cref="GatewaySnapshot"/>.
/// Every rule runs even after an earlier one failed, so one run reports every problem in the file
/// (the YARP ConfigValidator habit). Split by section into partial files.
/// </summary>
internal sealed partial class ConfigCompiler
{
    private readonly DiagnosticBag _diagnostics;
    private readonly string _sourcePath;
    private readonly string _baseDirectory;

    /// <summary>The environment the gateway will run in (its <c>PATH</c> decides the default container runtime).</summary>
    private readonly Func<string, string?> _environment;

    public ConfigCompiler(DiagnosticBag diagnostics, string sourcePath, Func<string, string?>? environment = null)
    {
        _diagnostics = diagnostics;
        _sourcePath = sourcePath;
        _environment = environment ?? Environment.GetEnvironmentVariable;
        _baseDirectory = Path.GetDirectoryName(Path.GetFullPath(sourcePath)) ?? Directory.GetCurrentDirectory();
    }

    /// <summary>Returns the snapshot, or null when any error was reported.</summary>
    public GatewaySnapshot? Compile(EdgeConfig config, FrozenDictionary<string, string>? fingerprints = null, string? fingerprint = null)
    {
        if (config.Version is { } version && version != 1)
        {
            _diagnostics.Add("version", $"unsupported version {version}", "this gateway reads version: 1");
        }

        var limits = CompileLimits(config.Limits ?? new LimitsConfig());
        var identity = CompileIdentity(config);
        var servers = CompileServers(config.Servers, limits);
        CheckCredentialReferences(servers, identity);
        var listener = CompileListener(config.Server ?? new ServerSectionConfig());
        // Profiles check references against every declared server, valid or not, so one bad server
        // definition is reported once rather than again at every profile that uses it.
        var profiles = CompileProfiles(config.Profiles, config.Servers?.Keys ?? (IEnumerable<string>)[]);
        var auth = CompileAuth(config.Auth, identity, profiles);
        profiles = CompileAccess(config.Profiles, profiles, identity, auth);
        profiles = CompilePolicies(config, profiles, identity, auth);
        var audit = CompileAudit(config.Observability?.Audit);
        var catalogs = CompileCatalogs(config.Registry);
        var storage = CompileStorage(config.Storage, listener, auth);
        foreach (var server in servers)
        {
            if (server.Remote?.OAuth is not null && storage.EncryptionKeys.IsEmpty)
            {
                _diagnostics.Add($"servers.{server.Name}.remote.oauth", "the gateway keeps OAuth connections sealed, and storage.encryption_key is not set",
                    "storage: { encryption_key: ${env:ARCHESTRA_ENCRYPTION_KEY} } with at least 32 random characters");
            }
        }

        if (_diagnostics.HasErrors || listener is null)
        {
            return null;
        }

        return new GatewaySnapshot
        {
            SourcePath = _sourcePath,
            Listener = listener,
            Limits = limits,
            Servers = servers,
            ServersByName = servers.ToFrozenDictionary(s => s.Name, StringComparer.Ordinal),
            ProfileList = profiles,
            Profiles = profiles.ToFrozenDictionary(p => p.Name, StringComparer.Ordinal),
            Identity = identity,
            Auth = auth,
            Audit = audit,
            Storage = storage,
            Fingerprints = fingerprints ?? FrozenDictionary<string, string>.Empty,
            ConfigFingerprint = fingerprint ?? string.Empty,
            RegistryCatalogs = catalogs,
            JsonLogs = CompileLogFormat(config.Observability?.Logs),
            LogLevel = CompileLogLevel(config.Observability?.Logs),
            MetricsPath = CompileMetricsPath(config.Observability?.Metrics),
            Tracing = CompileTracing(config.Observability?.Tracing),
            Warnings = [.. _diagnostics.Warnings()],
        };
    }

    private bool CompileLogFormat(LogsConfig? logs)
    {
        switch (logs?.Format)
        {
            case null or "console":
                return false;
            case "json":
                return true;
            default:
                _diagnostics.Add("observability.logs.format", $"'{logs.Format}' is not one of console, json");
                return false;
        }
    }

    private static readonly string[] s_logLevels = ["trace", "debug", "information", "warning", "error", "critical"];

    private Microsoft.Extensions.Logging.LogLevel? CompileLogLevel(LogsConfig? logs)
    {
        if (logs?.Level is not { } level)
        {
            return null;
        }

        var index = Array.IndexOf(s_logLevels, level);
        if (index < 0)
        {
            _diagnostics.Add("observability.logs.level", $"'{level}' is not one of {string.Join(", ", s_logLevels)}");
            return null;
        }

        return (Microsoft.Extensions.Logging.LogLevel)index;
    }

    // Paths the gateway serves itself: metrics may not hide one of them.
    private static readonly string[] s_reservedPaths = ["/v1/", "/.well-known/", "/oauth/", "/admin/", "/healthz", "/readyz"];

    private string CompileMetricsPath(MetricsConfig? metrics)
    {
        if (metrics?.Path is not { } path)
        {
            return GatewaySnapshot.DefaultMetricsPath;
        }

        if (path.Length < 2 || path[0] != '/' || path.AsSpan().IndexOfAny('?', '#', ' ') >= 0 || path.Contains("//", StringComparison.Ordinal))
        {
            _diagnostics.Add("observability.metrics.path", $"'{path}' is not an absolute URL path", "e.g. /metrics or /internal/metrics");
            return GatewaySnapshot.DefaultMetricsPath;
        }

        foreach (var reserved in s_reservedPaths)
        {
            if (path.StartsWith(reserved, StringComparison.OrdinalIgnoreCase) || (path + "/").StartsWith(reserved, StringComparison.OrdinalIgnoreCase))
            {
                _diagnostics.Add("observability.metrics.path", $"'{path}' is a path the gateway serves itself", "choose another, e.g. /metrics");
                return GatewaySnapshot.DefaultMetricsPath;
            }
        }

        return path;
    }

    private TracingSettings? CompileTracing(TracingConfig? tracing)
    {
        if (tracing?.OtlpEndpoint is not { } endpoint)
        {
            return null;
        }

        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            _diagnostics.Add("observability.tracing.otlp_endpoint", $"'{endpoint}' is not an http(s) URL", "the collector's OTLP/HTTP address, e.g. http://127.0.0.1:4318");
            return null;
        }

        // OTLP/HTTP: a bare collector address gets the standard path; a full traces URL is used as given.
        var traces = uri.AbsolutePath.TrimEnd('/').Length == 0 ? new Uri(uri, "/v1/traces") : uri;
        var headers = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var (name, value) in tracing.Headers ?? [])
        {
            headers.Add(new(name, value));
        }

        return new TracingSettings(traces, tracing.ServiceName ?? "archestra-edge", headers.ToImmutable());
    }

    private ImmutableArray<string> CompileCatalogs(RegistryConfig? registry)
    {
        var catalogs = ImmutableArray.CreateBuilder<string>();
        var index = 0;
        foreach (var catalog in registry?.Catalogs ?? [])
        {
            var path = ResolvePath(catalog);
            if (!File.Exists(path))
            {
                _diagnostics.Add($"registry.catalogs[{index}]", $"no such file: {path}", "paths are relative to this config file");
            }

            catalogs.Add(path);
            index++;
        }

        return catalogs.ToImmutable();
    }

    private AuditSettings CompileAudit(AuditConfig? audit)
    {
        if (audit is null)
        {
            return AuditSettings.Default;
        }

        var arguments = audit.Arguments switch
        {
            null or "redacted" => AuditArguments.Redacted,
            "full" => AuditArguments.Full,
            "none" => AuditArguments.None,
            _ => (AuditArguments?)null,
        };
        if (arguments is null)
        {
            _diagnostics.Add("observability.audit.arguments", $"'{audit.Arguments}' is not one of redacted, full, none", "redacted keeps argument names and hides values");
        }

        return new AuditSettings(audit.Enabled ?? true, arguments ?? AuditArguments.Redacted,
            Duration(audit.Retention, "observability.audit.retention", AuditSettings.Default.Retention));
    }

    private TimeSpan Duration(string? text, string path, TimeSpan fallback)
    {
        if (text is null)
        {
            return fallback;
        }

        if (Units.TryParseDuration(text, out var value) && value > TimeSpan.Zero)
        {
            return value;
        }

        _diagnostics.Add(path, $"'{text}' is not a duration", "use a number and a unit: 500ms, 30s, 10m, 1h, 7d");
        return fallback;
    }

    private string ResolvePath(string path) => Path.GetFullPath(Path.Combine(_baseDirectory, path));

    /// <summary>Names that appear in URLs and prefixed tool names.</summary>
    private static bool IsValidName(string name)
    {
        if (name.Length is 0 or > 64 || !char.IsAsciiLetterOrDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
