using Archestra.Edge.Configuration;
using Archestra.Edge.Model;
using Archestra.Edge.Upstreams.Supervision.Containers;

namespace Archestra.Edge.Tests.Upstreams;

/// <summary>A container server without <c>runtime:</c> uses podman where it is installed, else docker.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ContainerRuntimeDetectionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("archestra-runtimes-").FullName;

    [Fact]
    public void PodmanWins_DockerAlone_IsUsed_AndNeitherMeansPodman()
    {
        var onlyDocker = Bin("a", "docker");
        var both = Bin("b", "docker", "podman");
        var notExecutable = Path.Combine(_root, "c");
        Directory.CreateDirectory(notExecutable);
        File.WriteAllText(Path.Combine(notExecutable, "podman"), string.Empty); // a file, not a program

        Assert.Equal(ContainerRuntimeKind.Docker, ContainerRuntime.Detect(onlyDocker));
        Assert.Equal(ContainerRuntimeKind.Podman, ContainerRuntime.Detect($"{onlyDocker}:{both}"));
        Assert.Equal(ContainerRuntimeKind.Docker, ContainerRuntime.Detect($"{notExecutable}:{onlyDocker}"));
        Assert.Equal(ContainerRuntimeKind.Podman, ContainerRuntime.Detect(notExecutable));
        Assert.Equal(ContainerRuntimeKind.Podman, ContainerRuntime.Detect(null));
    }

    [Fact]
    public void TheConfig_TakesTheGatewaysPath_UnlessARuntimeIsNamed()
    {
        const string Yaml = """
            servers:
              detected: { container: { image: localhost/mcp:1 } }
              named: { container: { image: localhost/mcp:1, runtime: podman } }
            profiles:
              p: { tools: [{ server: detected }, { server: named }] }
            """;
        var onlyDocker = Bin("d", "docker");
        var snapshot = ConfigLoader.Load(Yaml, Path.Combine(_root, "archestra.yaml"), name => name == "PATH" ? onlyDocker : null).Snapshot!;
        Assert.Equal("docker", snapshot.ServersByName["detected"].Container!.RuntimeCommand);
        Assert.Equal("podman", snapshot.ServersByName["named"].Container!.RuntimeCommand);
    }

    private string Bin(string name, params string[] programs)
    {
        var directory = Path.Combine(_root, name);
        Directory.CreateDirectory(directory);
        foreach (var program in programs)
        {
            var file = Path.Combine(directory, program);
            File.WriteAllText(file, "#!/bin/sh\n");
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return directory;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
