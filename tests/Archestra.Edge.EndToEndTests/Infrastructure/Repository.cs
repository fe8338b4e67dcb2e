using System.Reflection;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>Where things are: the repository, the binaries under test, the Node toolchain.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Configuration { get; } = typeof(Repository).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "Configuration").Value!;

    /// <summary>The gateway under test: the published AOT binary (ARCHESTRA_EDGE_BINARY overrides).</summary>
    public static string GatewayBinary =>
        Environment.GetEnvironmentVariable("ARCHESTRA_EDGE_BINARY") is { Length: > 0 } path
            ? Path.GetFullPath(path)
            : Path.Combine(Root, "artifacts", "publish", "archestra-edge");

    public static string TestServerBinary => Path.Combine(Root, "tests", "Archestra.Edge.TestServer", "bin", Configuration, "net10.0", "archestra-test-server");

    public static string NodeModules => Path.Combine(Root, "tests", "node", "node_modules");

    /// <summary>Node 22 from the npm <c>node</c> package (the conformance suite needs it; the machine has 20).</summary>
    public static string Node => Path.Combine(NodeModules, "node", "bin", "node");

    public static string NpmPackage(string name) => Path.Combine(NodeModules, name);

    /// <summary>Debian's chromium (installed by .ci/run), driven headless through Playwright.</summary>
    public static string Chromium => Environment.GetEnvironmentVariable("ARCHESTRA_CHROMIUM") ?? "/usr/bin/chromium";

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Archestra.Edge.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Archestra.Edge.sln).");
    }
}
