using System.Collections.Immutable;
using System.Globalization;
using Archestra.Edge.Configuration.Documents;
using Archestra.Edge.Model;
using Archestra.Edge.Upstreams.Supervision;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Configuration.Validation;

internal sealed partial class ConfigCompiler
{
    private SupervisionPolicy CompileSupervision(UpstreamServerConfig server, string path, bool selfHosted, TimeSpan callTimeout)
    {
        var start = server.Start switch
        {
            null or "lazy" => StartMode.Lazy,
            "eager" => StartMode.Eager,
            _ => InvalidStart($"{path}.start", server.Start),
        };

        TimeSpan? idleStop = server.IdleStop is null or "off" ? null : Duration(server.IdleStop, $"{path}.idle_stop", TimeSpan.FromMinutes(10));
        if (!selfHosted && (server.Start is not null || idleStop is not null || server.Restart is not null))
        {
            _diagnostics.Add(path, "start, idle_stop and restart apply to process and container servers", "the gateway does not run remote or builtin servers");
        }

        if (start == StartMode.Eager && idleStop is not null)
        {
            _diagnostics.Add($"{path}.idle_stop", "an eager server is kept running; idle_stop applies to lazy servers", "remove idle_stop, or use start: lazy");
        }

        if (idleStop is { } idle && idle <= callTimeout)
        {
            _diagnostics.Add($"{path}.idle_stop", $"idle_stop ({Units.FormatDuration(idle)}) must be longer than the call timeout ({Units.FormatDuration(callTimeout)})",
                "a server must not be stopped while a call may still be running on it");
        }

        var restart = RestartPolicy.Default;
        if (server.Restart is { } r)
        {
            var initial = Duration(r.InitialBackoff, $"{path}.restart.initial_backoff", restart.InitialBackoff);
            var maximum = Duration(r.MaxBackoff, $"{path}.restart.max_backoff", restart.MaxBackoff);
            if (maximum < initial)
            {
                _diagnostics.Add($"{path}.restart.max_backoff", "max_backoff is shorter than initial_backoff");
            }

            var after = r.CrashLoopAfter ?? restart.CrashLoopAfter;
            if (after < 2)
            {
                _diagnostics.Add($"{path}.restart.crash_loop_after", $"must be at least 2 (found {after})");
                after = restart.CrashLoopAfter;
            }

            restart = new RestartPolicy(initial, maximum, after, Duration(r.CrashLoopPause, $"{path}.restart.crash_loop_pause", restart.CrashLoopPause));
        }

        var health = HealthPolicy.Default;
        if (server.Health is { } h)
        {
            TimeSpan? interval = h.PingInterval is "off" ? null : Duration(h.PingInterval, $"{path}.health.ping_interval", health.PingInterval!.Value);
            health = new HealthPolicy(interval, Duration(h.PingTimeout, $"{path}.health.ping_timeout", health.PingTimeout));
        }

        return new SupervisionPolicy(start, idleStop, restart, health);
    }

    private StartMode InvalidStart(string path, string value)
    {
        _diagnostics.Add(path, $"unknown start '{value}'", "use lazy (on first use) or eager (with the gateway)");
        return StartMode.Lazy;
    }

    private ContainerServerModel? CompileContainer(ContainerServerConfig container, string path)
    {
        var valid = true;
        var runtime = container.Runtime switch
        {
            null => Upstreams.Supervision.Containers.ContainerRuntime.Detect(_environment("PATH")),
            "podman" => ContainerRuntimeKind.Podman,
            "docker" => ContainerRuntimeKind.Docker,
            _ => Invalid(ref valid, $"{path}.runtime", $"unknown runtime '{container.Runtime}'", "use podman or docker", ContainerRuntimeKind.Podman),
        };

        if (string.IsNullOrWhiteSpace(container.Image))
        {
            _diagnostics.Add(path, "a container server needs an image", "for example image: localhost/mcp-jira:1.2 (images are used from the local store, never pulled)");
            valid = false;
        }
        else if (container.Image.StartsWith('-') || container.Image.Any(char.IsWhiteSpace))
        {
            _diagnostics.Add($"{path}.image", $"'{container.Image}' is not an image reference");
            valid = false;
        }

        var transport = container.Transport switch
        {
            null or "stdio" => ContainerTransport.Stdio,
            "http" => ContainerTransport.Http,
            _ => Invalid(ref valid, $"{path}.transport", $"unknown transport '{container.Transport}'", "use stdio or http", ContainerTransport.Stdio),
        };

        var port = container.Port ?? 0;
        if (transport == ContainerTransport.Http && port is < 1 or > 65535)
        {
            _diagnostics.Add($"{path}.port", container.Port is null ? "an http container needs the port its server listens on" : $"{port} is not a port");
            valid = false;
        }
        else if (transport == ContainerTransport.Stdio && container.Port is not null)
        {
            _diagnostics.Add($"{path}.port", "port applies to transport: http");
            valid = false;
        }

        var mcpPath = container.Path ?? "/mcp";
        if (!mcpPath.StartsWith('/'))
        {
            _diagnostics.Add($"{path}.path", $"'{mcpPath}' must start with '/'");
            valid = false;
        }

        var network = container.Network ?? "none";
        if (network.Length == 0 || network.StartsWith('-') || network.Any(char.IsWhiteSpace))
        {
            _diagnostics.Add($"{path}.network", $"'{network}' is not a network name", "none (default), bridge, or a network created with the runtime");
            valid = false;
        }

        if (container.Memory is { } memory && !IsMemoryAmount(memory))
        {
            _diagnostics.Add($"{path}.memory", $"'{memory}' is not a memory amount", "for example 256m or 1g");
            valid = false;
        }

        if (container.Cpus is { } cpus && (!double.TryParse(cpus, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var count) || count <= 0))
        {
            _diagnostics.Add($"{path}.cpus", $"'{cpus}' is not a CPU count", "for example 1 or 0.5");
            valid = false;
        }

        var environment = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var (key, value) in container.Env ?? [])
        {
            if (key.Length == 0 || key.Contains('='))
            {
                _diagnostics.Add($"{path}.env.{key}", $"'{key}' is not a valid environment variable name");
                valid = false;
                continue;
            }

            environment.Add(new(key, value ?? string.Empty));
        }

        var mounts = ImmutableArray.CreateBuilder<string>();
        for (var i = 0; i < (container.Mounts?.Count ?? 0); i++)
        {
            var parts = container.Mounts![i].Split(':');
            if (parts.Length is < 2 or > 3 || parts[0].Length == 0 || !parts[1].StartsWith('/') || (parts.Length == 3 && parts[2] is not ("ro" or "rw")))
            {
                _diagnostics.Add($"{path}.mounts[{i}]", $"'{container.Mounts[i]}' is not host:container[:ro]", "for example ./data:/data:ro");
                valid = false;
                continue;
            }

            var host = ResolvePath(parts[0]);
            if (!Path.Exists(host))
            {
                _diagnostics.Add($"{path}.mounts[{i}]", $"'{host}' does not exist");
                valid = false;
                continue;
            }

            mounts.Add(parts.Length == 3 ? $"{host}:{parts[1]}:{parts[2]}" : $"{host}:{parts[1]}");
        }

        return valid
            ? new ContainerServerModel(runtime, container.Image!, [.. container.Args ?? []], environment.ToImmutable(), transport, port, mcpPath, network, container.Memory, container.Cpus, mounts.ToImmutable())
            : null;
    }

    private T Invalid<T>(ref bool valid, string path, string message, string hint, T fallback)
    {
        _diagnostics.Add(path, message, hint);
        valid = false;
        return fallback;
    }

    private static bool IsMemoryAmount(string text)
    {
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }

        return digits > 0 && (digits == text.Length || (digits == text.Length - 1 && "bkmgBKMG".Contains(text[^1], StringComparison.Ordinal)));
    }
}
