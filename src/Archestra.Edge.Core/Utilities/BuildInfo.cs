using System.Reflection;

namespace Archestra.Edge.Utilities;

/// <summary>The product name and version, as stamped into the assembly at build time.</summary>
internal static class BuildInfo
{
    public const string ProductName = "archestra-edge";

    public const string ProductTitle = "Archestra Edge";

    public static string Version { get; } = ReadVersion();

    private static string ReadVersion()
    {
        var informational = typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(informational))
        {
            return "0.0.0";
        }

        // Drop the "+<commit>" suffix the SDK appends.
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}
