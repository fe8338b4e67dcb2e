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

    /// <summary>A stand-in for the Dockerfile's runtime base (runtime-deps chiseled): the gateway's libraries, OpenSSL, a non-root <c>app</c> user.</summary>
    public const string GatewayBase = "localhost/archestra-e2e-gateway-base:latest";

    /// <summary>
    /// A stand-in for the Dockerfile's SDK base (<c>mcr.microsoft.com/dotnet/sdk</c>): Debian bookworm, bootstrapped
    /// from the Debian package feed, with this machine's .NET SDK and CA bundle (so NuGet inside a build trusts what
    /// this machine trusts).
    /// </summary>
    public const string SdkBase = "localhost/archestra-e2e-sdk:latest";

    // The Debian userland under SdkBase: bootstrapped once per machine (about 40 s), then reused.
    private const string Bookworm = "localhost/archestra-e2e-bookworm:latest";

    private static readonly Lazy<Task> s_built = new(BuildAsync);
    private static readonly Lazy<Task> s_gatewayBase = new(BuildGatewayBaseAsync);
    private static readonly Lazy<Task> s_sdkBase = new(BuildSdkBaseAsync);

    public static bool Skipped => Environment.GetEnvironmentVariable("ARCHESTRA_CONTAINER_TESTS") == "skip";

    /// <summary>Shown for each skipped container test, so a run without containers says so instead of passing.</summary>
    public const string SkipReason = "ARCHESTRA_CONTAINER_TESTS=skip: no container runtime on this machine";

    public static string EchoBinary => Path.Combine(Repository.Root, "artifacts", "perf-echo", "archestra-perf-echo");

    public static Task EnsureAsync() => s_built.Value;

    public static Task EnsureGatewayBaseAsync() => s_gatewayBase.Value;

    public static Task EnsureSdkBaseAsync() => s_sdkBase.Value;

    /// <summary>This machine's NuGet package folder: a build inside a container restores from it, read-only.</summary>
    public static string NuGetPackages => Environment.GetEnvironmentVariable("NUGET_PACKAGES")
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>Runs podman and returns its exit code and output (stdout then stderr).</summary>
    public static Task<(int Code, string Output)> PodmanAsync(params string[] args) => RunAsync("podman", args);

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

        var (version, versionOutput) = await PodmanAsync("--version");
        if (version != 0)
        {
            throw new InvalidOperationException($"podman is not usable here ({versionOutput.Trim()}): run .ci/containers.sh, or set ARCHESTRA_CONTAINER_TESTS=skip");
        }

        await ImportAsync(Echo, EchoBinary, "mcp-echo", [], extraFiles: null, entrypoint: "/app/mcp-echo");
    }

    private static async Task BuildGatewayBaseAsync()
    {
        await EnsureAsync(); // podman checked
        // OpenSSL is loaded at run time (not listed by ldd); runtime-deps images carry it too.
        var openssl = new[] { "/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3" }.Where(File.Exists).ToArray();
        await ImportAsync(GatewayBase, Repository.GatewayBinary, inApp: null, openssl, extraFiles: new Dictionary<string, string>
        {
            ["etc/passwd"] = "root:x:0:0:root:/root:/sbin/nologin\napp:x:1654:1654:app:/home/app:/sbin/nologin\n",
            ["etc/group"] = "root:x:0:\napp:x:1654:\n",
        }, entrypoint: null);
    }

    private static async Task BuildSdkBaseAsync()
    {
        await EnsureAsync(); // podman checked
        if ((await PodmanAsync("image", "exists", Bookworm)).Code != 0)
        {
            if (!File.Exists("/usr/sbin/debootstrap"))
            {
                throw new InvalidOperationException("debootstrap is missing (apt-get install debootstrap); .ci/run installs it");
            }

            var rootfs = Directory.CreateTempSubdirectory("archestra-bookworm-").FullName;
            var tar = Path.Combine(Path.GetTempPath(), $"archestra-bookworm-{Guid.NewGuid():N}.tar");
            try
            {
                var (code, output) = await RunAsync("/usr/sbin/debootstrap", ["--variant=minbase", "bookworm", rootfs, DebianMirror()]);
                Assert.True(code == 0, $"debootstrap failed: {output}");
                (code, output) = await RunAsync("tar", ["-C", rootfs, "-cf", tar, "."]);
                Assert.True(code == 0, output);
                (code, output) = await PodmanAsync("import", "--change", "CMD [\"/bin/bash\"]", tar, Bookworm);
                Assert.True(code == 0, $"podman import failed: {output}");
            }
            finally
            {
                File.Delete(tar);
                Directory.Delete(rootfs, recursive: true);
            }
        }

        var context = Directory.CreateTempSubdirectory("archestra-sdk-").FullName;
        try
        {
            File.Copy("/etc/ssl/certs/ca-certificates.crt", Path.Combine(context, "ca-certificates.crt"));
            await File.WriteAllTextAsync(Path.Combine(context, "Containerfile"), $$"""
                FROM {{Bookworm}}
                COPY --from=dotnet . /usr/share/dotnet
                COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
                RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
                ENV DOTNET_ROOT=/usr/share/dotnet DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 NUGET_CERT_REVOCATION_MODE=offline SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
                """);
            var (code, output) = await PodmanAsync("build", "--pull=never", "--build-context", $"dotnet={DotnetRoot()}", "-t", SdkBase, "-f", Path.Combine(context, "Containerfile"), context);
            Assert.True(code == 0, $"building the SDK stand-in failed: {output}");
        }
        finally
        {
            Directory.Delete(context, recursive: true);
        }
    }

    /// <summary>The Debian mirror this machine's apt uses (its package feed).</summary>
    private static string DebianMirror()
    {
        foreach (var file in (string[])["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"])
        {
            if (!File.Exists(file))
            {
                continue;
            }

            foreach (var line in File.ReadLines(file))
            {
                var words = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (words is ["URIs:", var uri, ..] && !uri.Contains("security", StringComparison.Ordinal))
                {
                    return uri;
                }

                if (words is ["deb", var url, "bookworm", ..])
                {
                    return url;
                }
            }
        }

        return "http://deb.debian.org/debian";
    }

    /// <summary>The .NET SDK this test run uses: its directory is copied into the SDK stand-in.</summary>
    private static string DotnetRoot()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(Path.Combine(root, "dotnet")))
        {
            return root;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "dotnet");
            if (File.Exists(candidate))
            {
                return Path.GetDirectoryName(new FileInfo(candidate).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? candidate)!;
            }
        }

        return "/usr/share/dotnet";
    }

    /// <summary>Imports a root filesystem: the binary's <c>ldd</c> libraries, more files, and optionally the binary itself in /app.</summary>
    private static async Task ImportAsync(string image, string binary, string? inApp, string[] libraries, Dictionary<string, string>? extraFiles, string? entrypoint)
    {
        var root = Directory.CreateTempSubdirectory("archestra-image-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "app"));
            Directory.CreateDirectory(Path.Combine(root, "tmp"));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(Path.Combine(root, "tmp"), (UnixFileMode)0b1_111_111_111);
            }
            if (inApp is not null)
            {
                File.Copy(binary, Path.Combine(root, "app", inApp));
            }

            var (_, listed) = await RunAsync("ldd", [binary]);
            foreach (var path in listed.Split(['\n', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Where(p => p.StartsWith('/')).Concat(libraries))
            {
                var target = Path.Combine(root, path.TrimStart('/'));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(path, target, overwrite: true);
            }

            foreach (var (path, content) in extraFiles ?? [])
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(root, path))!);
                await File.WriteAllTextAsync(Path.Combine(root, path), content);
            }

            var tar = Path.Combine(Path.GetTempPath(), $"archestra-image-{Guid.NewGuid():N}.tar");
            var (tarCode, tarOutput) = await RunAsync("tar", ["-C", root, "-cf", tar, "."]);
            Assert.True(tarCode == 0, tarOutput);
            string[] import = entrypoint is null ? ["import", tar, image] : ["import", "--change", $"ENTRYPOINT [\"{entrypoint}\"]", tar, image];
            var (code, output) = await PodmanAsync(import);
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
