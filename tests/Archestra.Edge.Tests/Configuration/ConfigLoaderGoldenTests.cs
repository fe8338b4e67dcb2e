using Archestra.Edge.Configuration;

namespace Archestra.Edge.Tests.Configuration;

/// <summary>
/// Golden error messages: each <c>Golden/*.yaml</c> is loaded and its diagnostics must equal the
/// <c>.errors.txt</c> beside it. Set ARCHESTRA_UPDATE_GOLDEN=1 to rewrite the expected files after a deliberate change.
/// </summary>
public sealed class ConfigLoaderGoldenTests
{
    private static readonly Dictionary<string, string> s_environment = new()
    {
        ["GITHUB_MCP_URL"] = "https://api.example.com/mcp",
    };

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(GoldenDirectory, "*.yaml").OrderBy(f => f, StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void InvalidConfig_ReportsEveryErrorWithPosition(string name)
    {
        var text = File.ReadAllText(Path.Combine(GoldenDirectory, name));
        var result = ConfigLoader.Load(text, name, key => s_environment.GetValueOrDefault(key));

        Assert.False(result.Succeeded);
        var actual = string.Join("\n", result.Diagnostics) + "\n";
        var expectedPath = Path.Combine(GoldenDirectory, Path.ChangeExtension(name, ".errors.txt"));
        if (Environment.GetEnvironmentVariable("ARCHESTRA_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(SourceGoldenPath(expectedPath), actual);
            return;
        }

        Assert.True(File.Exists(expectedPath), $"missing golden file {expectedPath}; run with ARCHESTRA_UPDATE_GOLDEN=1");
        Assert.Equal(File.ReadAllText(expectedPath), actual);
    }

    private static string GoldenDirectory => Path.Combine(AppContext.BaseDirectory, "Configuration", "Golden");

    // The golden files are copied to the output; when updating, write to the source tree instead.
    private static string SourceGoldenPath(string outputPath)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Archestra.Edge.Tests.csproj")))
        {
            directory = directory.Parent;
        }

        return directory is null ? outputPath : Path.Combine(directory.FullName, "Configuration", "Golden", Path.GetFileName(outputPath));
    }
}
