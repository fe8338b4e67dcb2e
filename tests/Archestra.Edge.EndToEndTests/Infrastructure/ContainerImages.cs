using System.Diagnostics;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>
/// The local container image the container tests run: the AOT MCP server of <c>perf/Archestra.Edge.PerfEcho</c>
/// with just the libraries <c>ldd</c> lists, imported as a root filesystem (no registry is reachable, so nothing is
/// pulled). Built once per test run. Set <c>ARCHESTRA_CONTAINER_TESTS=skip</c> on machines without podman.
/// </summary>
internal static class ContainerImages
{
    public const string Echo = "localhost/archestra-e2e-echo:latest";

    private static readonly Lazy<Task> s_built = new(BuildAsync);

    public static bool Skipped => Environment.GetEnvironmentVariable("ARCHESTRA_CONTAINER_TESTS") == "skip";

    public static string EchoBinary => Path.Combine(Repository.Root, "artifacts", "perf-echo", "archestra-perf-echo");

    public static Task EnsureAsync() => s_built.Value;

    /// <summary>Runs podman and returns its exit code and output (stdout then stderr).</summary>
    public static async Task<(int Code, string Output)> PodmanAsync(params string[] args)
    {
        var info = new ProcessStartInfo("podman") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await output) + (await error));
    }

    /// <summary>The containers carrying a label value (the gateway labels its containers with its instance id).</summary>
    public static async Task<string[]> WithLabelAsync(string label)
    {
        var (_, output) = await PodmanAsync("ps", "-aq", "--filter", $"label={label}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private static async Task BuildAsync()
    {
        if (!File.Exists(EchoBinary))
        {
            throw new InvalidOperationException($"{EchoBinary} is missing: run ./build.sh test (it publishes it), or ./build.sh publish-echo");
        }

        var (version, versionOutput) = await RunAsync("podman", ["--version"]);
        if (version != 0)
        {
            throw new InvalidOperationException($"podman is not usable here ({versionOutput.Trim()}): run .ci/containers.sh, or set ARCHESTRA_CONTAINER_TESTS=skip");
        }

        var root = Directory.CreateTempSubdirectory("archestra-image-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "app"));
            Directory.CreateDirectory(Path.Combine(root, "tmp"));
            File.Copy(EchoBinary, Path.Combine(root, "app", "mcp-echo"));
            var (_, libraries) = await RunAsync("ldd", [EchoBinary]);
            foreach (var path in libraries.Split(['\n', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Where(p => p.StartsWith('/')))
            {
                var target = Path.Combine(root, path.TrimStart('/'));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(path, target, overwrite: true);
            }

            var tar = Path.Combine(Path.GetTempPath(), $"archestra-image-{Guid.NewGuid():N}.tar");
            var (tarCode, tarOutput) = await RunAsync("tar", ["-C", root, "-cf", tar, "."]);
            Assert.True(tarCode == 0, tarOutput);
            var (code, output) = await RunAsync("podman", ["import", "--change", "ENTRYPOINT [\"/app/mcp-echo\"]", tar, Echo]);
            File.Delete(tar);
            Assert.True(code == 0, $"podman import failed: {output}");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<(int Code, string Output)> RunAsync(string command, string[] args)
    {
        try
        {
            var info = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, (await output) + (await error));
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (127, ex.Message);
        }
    }
}
