namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>
/// Tests that load every core for minutes (building the Dockerfile compiles the AOT binary inside a container): they run
/// after the parallel tests, alone, so they never starve the timing-sensitive ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    public const string Name = "runs alone";
}
