using System.Collections.Immutable;
using System.ComponentModel;
using System.Diagnostics;
using System.Net.Sockets;
using Archestra.Edge.Model;
using Archestra.Edge.Upstreams.Supervision.Processes;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams.Supervision.Containers;

/// <summary>
/// Runs container servers with the podman or docker command line. Every container the gateway starts carries the
/// label <c>archestra.edge.instance=&lt;instance id&gt;</c> (the id is kept in <c>data_dir</c>), so leftovers of a
/// previous run of this gateway are found and removed at start-up, and nothing of another gateway is touched.
/// Images come from the local store only (<c>--pull=never</c>).
/// </summary>
internal sealed partial class ContainerRuntime
{
    public const string InstanceLabel = "archestra.edge.instance";
    public const string ServerLabel = "archestra.edge.server";

    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(30);
    private readonly ILogger _logger;

    public ContainerRuntime(string instanceId, ILogger logger)
    {
        InstanceId = instanceId;
        _logger = logger;
    }

    public string InstanceId { get; }

    /// <summary>A name for a new container of <paramref name="server"/>: unique, and recognisably the gateway's.</summary>
    public string NewName(string server) => $"archestra-{InstanceId}-{server.Replace('_', '-')}-{Utilities.SecureRandom.HexString(4)}";

    /// <summary>The <c>run -i</c> of a stdio container, as a process the gateway talks to over stdio.</summary>
    public ProcessLaunch StdioLaunch(ServerModel server, string workingDirectory)
    {
        var model = server.Container!;
        var name = NewName(server.Name);
        var args = ImmutableArray.CreateBuilder<string>();
        args.AddRange("run", "-i", "--rm");
        AddCommon(args, server, name);
        args.Add(model.Image);
        args.AddRange(model.Args);
        return new ProcessLaunch(model.RuntimeCommand, args.ToImmutable(), [], InheritEnvironment: true, workingDirectory)
        {
            Identity = name,
            // Killing `podman run` would leave the container running; removing it by name stops it for sure.
            StopHook = () => RemoveAsync(model.Runtime, name),
        };
    }

    /// <summary>Starts an http container with its port published on a random loopback port and waits until it accepts connections.</summary>
    public async Task<(Uri? Url, string Name, UpstreamError Error)> StartHttpAsync(ServerModel server, CancellationToken cancellationToken)
    {
        var model = server.Container!;
        var name = NewName(server.Name);
        var args = new List<string> { "run", "-d", "--rm", "-p", $"127.0.0.1::{model.Port}" };
        var builder = ImmutableArray.CreateBuilder<string>();
        AddCommon(builder, server, name);
        args.AddRange(builder);
        args.Add(model.Image);
        args.AddRange(model.Args);
        try
        {
            return await RunAndWaitAsync(model, name, args, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // start_timeout (or shutdown) before the container answered: it must not outlive the attempt. The name is
            // removed whether or not `run` got as far as creating it.
            await RemoveAsync(model.Runtime, name).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<(Uri? Url, string Name, UpstreamError Error)> RunAndWaitAsync(ContainerServerModel model, string name, List<string> args, CancellationToken cancellationToken)
    {
        var (code, _, error) = await RunAsync(model.Runtime, args, cancellationToken).ConfigureAwait(false);
        if (code != 0)
        {
            return (null, name, UpstreamError.Unavailable($"{model.RuntimeCommand} run failed: {error}"));
        }

        var (portCode, port, portError) = await RunAsync(model.Runtime, ["port", name, $"{model.Port}/tcp"], cancellationToken).ConfigureAwait(false);
        var address = port.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (portCode != 0 || address is null || !Uri.TryCreate($"http://{address}{model.Path}", UriKind.Absolute, out var url))
        {
            await RemoveAsync(model.Runtime, name).ConfigureAwait(false);
            return (null, name, UpstreamError.Unavailable($"cannot find the published port of container {name}: {portError}{port}"));
        }

        // Ready when the server accepts connections (the HTTP handshake then tells the rest).
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(url.Host, url.Port, cancellationToken).ConfigureAwait(false);
                return (url, name, UpstreamError.None);
            }
            catch (SocketException)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Whether the runtime is installed and has the image; an error that says which is missing otherwise.</summary>
    public static async Task<UpstreamError> CheckImageAsync(ContainerServerModel model, CancellationToken cancellationToken)
    {
        var (code, _, error) = await RunAsync(model.Runtime, ["image", "inspect", "--format", "{{.Id}}", model.Image], cancellationToken).ConfigureAwait(false);
        if (code == 0)
        {
            return UpstreamError.None;
        }

        if (code == 127)
        {
            return UpstreamError.Unavailable(error);
        }

        return error.Contains("no such", StringComparison.OrdinalIgnoreCase) || error.Contains("not known", StringComparison.OrdinalIgnoreCase)
            || error.Contains("not found", StringComparison.OrdinalIgnoreCase)
            ? UpstreamError.Unavailable($"image '{model.Image}' is not in {model.RuntimeCommand}'s local store (images are never pulled: build or load it first)")
            : UpstreamError.Unavailable($"{model.RuntimeCommand} cannot be used: {error}");
    }

    /// <summary>Waits until the container exits; its exit code, or null when it cannot be told (gone, or the wait was cancelled).</summary>
    public static async Task<int?> WaitForExitAsync(ContainerRuntimeKind runtime, string name, CancellationToken cancellationToken)
    {
        try
        {
            var (code, output, _) = await RunAsync(runtime, ["wait", name], cancellationToken).ConfigureAwait(false);
            return code == 0 && int.TryParse(output.Trim(), out var exit) ? exit : null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Stops (with a short grace period) and removes a container; quiet if it is already gone.</summary>
    public async Task RemoveAsync(ContainerRuntimeKind runtime, string name)
    {
        using var timeout = new CancellationTokenSource(s_commandTimeout);
        try
        {
            await RunAsync(runtime, ["stop", "-t", "2", name], timeout.Token).ConfigureAwait(false);
            await RunAsync(runtime, ["rm", "-f", name], timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.Failed(_logger, name, "removing it took too long");
        }
    }

    /// <summary>Removes every container of this gateway instance that a previous run left behind.</summary>
    public async Task<int> SweepAsync(ContainerRuntimeKind runtime, CancellationToken cancellationToken)
    {
        var (code, output, _) = await RunAsync(runtime, ["ps", "-aq", "--filter", $"label={InstanceLabel}={InstanceId}"], cancellationToken).ConfigureAwait(false);
        if (code != 0)
        {
            return 0;
        }

        var ids = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var id in ids)
        {
            await RunAsync(runtime, ["rm", "-f", id], cancellationToken).ConfigureAwait(false);
        }

        if (ids.Length > 0)
        {
            Log.Swept(_logger, ids.Length, runtime.ToString().ToLowerInvariant());
        }

        return ids.Length;
    }

    /// <summary>The ids of this instance's containers that exist now (for status and tests).</summary>
    public async Task<string[]> ListAsync(ContainerRuntimeKind runtime, CancellationToken cancellationToken)
    {
        var (code, output, _) = await RunAsync(runtime, ["ps", "-aq", "--filter", $"label={InstanceLabel}={InstanceId}"], cancellationToken).ConfigureAwait(false);
        return code == 0 ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
    }

    private void AddCommon(ImmutableArray<string>.Builder args, ServerModel server, string name)
    {
        var model = server.Container!;
        // --init: a real PID 1 that forwards signals and reaps; --pull=never: only local images.
        args.AddRange("--init", "--pull=never", "--name", name);
        args.AddRange("--label", $"{InstanceLabel}={InstanceId}", "--label", $"{ServerLabel}={server.Name}");
        args.AddRange("--network", model.Network);
        if (model.Memory is { } memory)
        {
            args.AddRange("--memory", memory);
        }

        if (model.Cpus is { } cpus)
        {
            args.AddRange("--cpus", cpus);
        }

        foreach (var (key, value) in model.Environment)
        {
            args.AddRange("-e", $"{key}={value}");
        }

        foreach (var mount in model.Mounts)
        {
            args.AddRange("-v", mount);
        }
    }

    /// <summary>
    /// The runtime a container server uses when its config names none: podman if it is on <paramref name="path"/>,
    /// else docker if that is, else podman (whose absence the first start then reports).
    /// </summary>
    public static ContainerRuntimeKind Detect(string? path)
    {
        var docker = false;
        foreach (var directory in (path ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (IsExecutable(Path.Combine(directory, "podman")))
            {
                return ContainerRuntimeKind.Podman;
            }

            docker |= IsExecutable(Path.Combine(directory, "docker"));
        }

        return docker ? ContainerRuntimeKind.Docker : ContainerRuntimeKind.Podman;

        static bool IsExecutable(string file)
            => File.Exists(file) && !OperatingSystem.IsWindows() && (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
    }

    /// <summary>Runs the runtime's CLI to completion; exit code 127 and a clear message when it is not installed.</summary>
    internal static async Task<(int Code, string Output, string Error)> RunAsync(ContainerRuntimeKind runtime, IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var command = runtime == ContainerRuntimeKind.Docker ? "docker" : "podman";
        var info = new ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (Win32Exception)
        {
            return (127, string.Empty, $"{command} is not installed (not found in PATH); install podman or docker (without container.runtime the gateway uses podman if it is installed, else docker)");
        }

        using (process)
        {
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            return (process.ExitCode, await output.ConfigureAwait(false), (await error.ConfigureAwait(false)).Trim());
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.ContainerSwept, LogLevel.Warning, "Removed {Count} {Runtime} container(s) left by a previous run of this gateway")]
        public static partial void Swept(ILogger logger, int count, string runtime);

        [LoggerMessage(Observability.EventIds.ContainerFailed, LogLevel.Warning, "Container {Name}: {Reason}")]
        public static partial void Failed(ILogger logger, string name, string reason);
    }
}
