using Archestra.Edge.Configuration;
using Archestra.Edge.Configuration.Yaml;

namespace Archestra.Edge.Tests.Configuration;

/// <summary>What ships in the repository stays true: the examples load, and the JSON Schema matches the config records.</summary>
public sealed class ShippedConfigTests
{
    public static TheoryData<string> Examples()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(Root, "config", "examples"), "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        data.Add("../../archestra.yaml.example");
        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_Validates(string name)
    {
        // Secrets an example reads from the environment (names ending in _TOKEN) are supplied; nothing else is.
        var result = ConfigLoader.LoadFile(Path.GetFullPath(Path.Combine(Root, "config", "examples", name)), static variable => variable.EndsWith("_TOKEN", StringComparison.Ordinal) ? "example-secret" : null);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
    }

    [Fact]
    public void Schema_IsCurrent()
    {
        var path = Path.Combine(Root, "config", "archestra.schema.json");
        var expected = SchemaWriter.Write();
        if (Environment.GetEnvironmentVariable("ARCHESTRA_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, expected);
        }

        Assert.True(File.ReadAllText(path) == expected, "config/archestra.schema.json is stale: run `archestra-edge schema > config/archestra.schema.json` (or the tests with ARCHESTRA_UPDATE_GOLDEN=1)");
    }

    /// <summary>The example is what people copy: its schema line points beside it, where `schema --write` puts the schema.</summary>
    [Fact]
    public void TheExample_PointsItsEditorAtASchemaBesideIt()
    {
        var first = File.ReadLines(Path.Combine(Root, "archestra.yaml.example")).First();
        Assert.Equal("# yaml-language-server: $schema=archestra.schema.json", first);
    }

    private static string Root => RepositoryRoot.Path;
}
