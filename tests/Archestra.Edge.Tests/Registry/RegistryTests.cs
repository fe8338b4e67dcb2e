using System.Text.Json;
using Archestra.Edge.Registry;

namespace Archestra.Edge.Tests.Registry;

public sealed class RegistryTests
{
    private const string Block = "new:\n  remote:\n    url: \"http://x\"\n";

    [Fact]
    public void Append_WithoutAServersSection_AddsOne_AtTheEnd()
    {
        var (text, problem) = YamlAppender.AddServer("profiles: {}\n", "new", Block);
        Assert.Null(problem);
        Assert.Equal("profiles: {}\nservers:\n  new:\n    remote:\n      url: \"http://x\"\n", text);
    }

    [Fact]
    public void Append_KeepsWindowsLineEnds_AndTheLinesAfterTheSection()
    {
        var (text, _) = YamlAppender.AddServer("servers:\r\n  a:\r\n    builtin: archestra\r\nprofiles: {}\r\n", "new", Block);
        Assert.Equal("servers:\r\n  a:\r\n    builtin: archestra\r\n  new:\r\n    remote:\r\n      url: \"http://x\"\r\nprofiles: {}\r\n", text);
    }

    [Fact]
    public void Append_RefusesADuplicate_EvenQuoted()
    {
        var (text, problem) = YamlAppender.AddServer("servers:\n  \"new\":\n    builtin: archestra\n", "new", Block);
        Assert.Null(text);
        Assert.Contains("already is a server 'new' (line 2)", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Entries_InTheOldSnakeCaseFormat_AreRead_AndLiteralDollarBracesEscaped()
    {
        using var document = JsonDocument.Parse("""
            { "name": "io.example/legacy", "version_detail": { "version": "0.9" },
              "packages": [ { "registry_type": "npm", "identifier": "legacy-mcp", "version": "0.9",
                              "package_arguments": [ { "type": "named", "name": "--greeting", "value": "${not-a-reference}" } ],
                              "environment_variables": [ { "name": "TOKEN", "is_required": true, "is_secret": true } ] } ] }
            """);
        var entry = RegistryEntry.Parse(document.RootElement, "test")!;
        Assert.Equal("0.9", entry.Version);

        var (yaml, variables, _, problem) = ServerEntryWriter.Render(entry, ServerEntryWriter.ServerName(entry.Name), use: null);
        Assert.Null(problem);
        Assert.Equal(["TOKEN"], variables);
        Assert.Contains("args: [\"-y\", \"legacy-mcp@0.9\", \"--greeting\", \"$${not-a-reference}\"]", yaml, StringComparison.Ordinal);
        Assert.StartsWith("legacy:", yaml, StringComparison.Ordinal);
    }
}
