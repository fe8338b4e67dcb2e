using System.Runtime.InteropServices;
using Archestra.Edge.Configuration;
using Archestra.Edge.Gateway;
using Archestra.Edge.Model;
using Archestra.Edge.Observability;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Hosting;

/// <summary>
/// Reloads <c>archestra.yaml</c> when it (or its lock file, <c>archestra.lock.json</c>) changes on disk (its directory is watched, so editors that replace the file
/// and Kubernetes ConfigMap symlink swaps are seen; changes are debounced and compared by content) or on SIGHUP
/// (always, since referenced files and variables may have changed). A file that does not load, or changes what
/// only a restart can change, keeps the running config and says why: in the log, in <c>/readyz</c> and in the
/// reload counter. A good one is compiled into a successor runtime and swapped in atomically.
/// </summary>
internal sealed partial class ConfigReloader : IHostedService, IDisposable
{
    private static readonly TimeSpan s_debounce = TimeSpan.FromMilliseconds(300);

    private readonly GatewayHost _host;
    private readonly Func<GatewaySnapshot, GatewayRuntime, GatewayRuntime> _successor;
    private readonly Identity.IdentityServices _identity;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _serial = new(1, 1);
    private readonly string _path;
    private FileSystemWatcher? _watcher;
    private PosixSignalRegistration? _hangup;
    private ITimer? _debounceTimer;
    private byte[] _loaded;

    public ConfigReloader(GatewayHost host, Func<GatewaySnapshot, GatewayRuntime, GatewayRuntime> successor, Identity.IdentityServices identity,
        GatewayMetrics metrics, TimeProvider time, ILogger logger)
    {
        _host = host;
        _successor = successor;
        _identity = identity;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _path = Path.GetFullPath(host.Current.Snapshot.SourcePath);
        _loaded = ContentOf(_path) ?? [];
    }

    /// <summary>The last reload attempt: when, and why it failed (null when it succeeded or none was made).</summary>
    public (DateTimeOffset At, string? Error)? Last { get; private set; }

    /// <summary>The errors of the last refused file, with <c>file:line:col</c> (empty after a good reload).</summary>
    public IReadOnlyList<ConfigDiagnostic> LastDiagnostics { get; private set; } = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _debounceTimer = _time.CreateTimer(static state => ((ConfigReloader)state!).Trigger(force: false), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (!OperatingSystem.IsWindows())
        {
            if (HangupIgnored())
            {
                Log.HangupIgnored(_logger);
            }

            _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true; // SIGHUP means reload, not exit
                Trigger(force: true);
            });
        }

        var directory = Path.GetDirectoryName(_path);
        if (directory is not null && Directory.Exists(directory))
        {
            _watcher = new FileSystemWatcher(directory)
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
                IncludeSubdirectories = false,
            };
            _watcher.Changed += OnFileEvent;
            _watcher.Created += OnFileEvent;
            _watcher.Renamed += OnFileEvent;
            _watcher.EnableRaisingEvents = true;
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _hangup?.Dispose();
        _debounceTimer?.Dispose();
    }

    /// <summary>Loads the file and, if it is good and changed (or <paramref name="force"/>), swaps it in.</summary>
    public async Task<bool> ReloadAsync(bool force)
    {
        await _serial.WaitAsync().ConfigureAwait(false);
        try
        {
            var hash = ContentOf(_path);
            if (!force && (hash is null || hash.AsSpan().SequenceEqual(_loaded)))
            {
                return false; // unchanged, or caught mid-replacement (the next event brings the new file)
            }

            Log.Requested(_logger, _path, force ? "SIGHUP" : "file change");
            var current = _host.Current;
            var loaded = ConfigLoader.LoadFile(_path);
            if (!loaded.Succeeded)
            {
                return Fail(hash, $"{loaded.Diagnostics.Count} error(s); first: {loaded.Diagnostics[0]}", loaded.Diagnostics);
            }

            var next = loaded.Snapshot!;
            if (RestartNeeded(current.Snapshot, next) is { } reason)
            {
                return Fail(hash, reason, []);
            }

            // The listener did not change; keep its command-line overrides (--data-dir).
            next = next.WithDataDirectory(current.Snapshot.Listener.DataDirectory);
            var successor = _successor(next, current);
            _host.Swap(successor);
            successor.Activate(current);
            _identity.Tokens.ReplaceDeclared(next.Auth.Tokens);
            await current.RetireAsync(successor).ConfigureAwait(false);
            _loaded = hash ?? [];
            foreach (var warning in next.Warnings)
            {
                Log.Warning(_logger, warning.ToString());
            }

            Last = (_time.GetUtcNow(), null);
            LastDiagnostics = [];
            _metrics.RecordReload(succeeded: true);
            return true;
        }
        finally
        {
            _serial.Release();
        }
    }

    /// <summary>What a running gateway cannot change in place, or null.</summary>
    internal static string? RestartNeeded(GatewaySnapshot current, GatewaySnapshot next)
    {
        if (!current.SameAs(next, "server"))
        {
            return "the server: section (listen addresses, TLS, data_dir, public_url, advertise_url, hosts) changes only with a restart";
        }

        if (!current.SameAs(next, "storage"))
        {
            return "the storage: section changes only with a restart";
        }

        if (current.Auth.Enabled != next.Auth.Enabled || current.Auth.OAuth != next.Auth.OAuth
            || current.Auth.External?.JwksUri != next.Auth.External?.JwksUri || current.Auth.Builtin != next.Auth.Builtin)
        {
            return "turning auth: on or off, and changing its OAuth settings, takes a restart (bearer tokens reload)";
        }

        var (a, b) = (current.Limits, next.Limits);
        if (a.MaxRequestBytes != b.MaxRequestBytes || a.RequestHeadersTimeout != b.RequestHeadersTimeout
            || a.MaxConnections != b.MaxConnections || a.KeepAliveTimeout != b.KeepAliveTimeout)
        {
            return "the listener's limits (max_request_bytes, request_headers_timeout, max_connections, keep_alive_timeout) change only with a restart";
        }

        if (!current.SameAs(next, "observability"))
        {
            return "the observability: section changes only with a restart";
        }

        return null;
    }

    private bool Fail(byte[]? hash, string reason, IReadOnlyList<ConfigDiagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            Log.Diagnostic(_logger, diagnostic.ToString());
        }

        Log.Failed(_logger, _path, reason);
        _loaded = hash ?? _loaded; // the same bad file is not retried until it changes again
        Last = (_time.GetUtcNow(), reason);
        LastDiagnostics = diagnostics;
        _metrics.RecordReload(succeeded: false);
        return false;
    }

    private void OnFileEvent(object sender, FileSystemEventArgs e) => _debounceTimer?.Change(s_debounce, Timeout.InfiniteTimeSpan);

    private void Trigger(bool force) => _ = RunAsync(force);

    private async Task RunAsync(bool force)
    {
        try
        {
            await ReloadAsync(force).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            Log.Failed(_logger, _path, ex.Message);
            Last = (_time.GetUtcNow(), ex.Message);
            _metrics.RecordReload(succeeded: false);
        }
    }

    /// <summary>Whether SIGHUP was ignored when this process started (nohup does that, and children inherit it).</summary>
    private static bool HangupIgnored()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("SigIgn:", StringComparison.Ordinal))
                {
                    return (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 1) != 0; // bit 0 is signal 1, SIGHUP
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
        }

        return false;
    }

    /// <summary>The file's bytes (a config is a few KB): compared whole, so no hashing library is loaded for it.</summary>
    /// <summary>The config file's bytes, then its lock file's (pinned definitions), if any: a change to either reloads.</summary>
    private static byte[]? ContentOf(string path)
    {
        try
        {
            var config = File.ReadAllBytes(path);
            var lockPath = PinLock.PathFor(path);
            return File.Exists(lockPath) ? [.. config, 0, .. File.ReadAllBytes(lockPath)] : config;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.ConfigReloadRequested, LogLevel.Information, "Reloading {Path} ({Trigger})")]
        public static partial void Requested(ILogger logger, string path, string trigger);

        [LoggerMessage(EventIds.ConfigReloadFailed, LogLevel.Error, "Reload of {Path} refused, the running config stays: {Reason}")]
        public static partial void Failed(ILogger logger, string path, string reason);

        [LoggerMessage(EventIds.ConfigReloadSignalIgnored, LogLevel.Warning, "SIGHUP is ignored by this process (started under nohup?), so it cannot trigger reloads; changes to the config file still do")]
        public static partial void HangupIgnored(ILogger logger);

        [LoggerMessage(EventIds.ConfigWarning, LogLevel.Warning, "{Diagnostic}")]
        public static partial void Warning(ILogger logger, string diagnostic);

        [LoggerMessage(EventIds.ConfigReloadFailed, LogLevel.Error, "  {Diagnostic}")]
        public static partial void Diagnostic(ILogger logger, string diagnostic);
    }
}
