namespace Archestra.Edge.Tests;

/// <summary>The checkout the tests run from (the directory of <c>Archestra.Edge.sln</c>), for tests that read shipped files.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(System.IO.Path.Combine(directory!.FullName, "Archestra.Edge.sln")))
        {
            directory = directory.Parent;
        }

        return directory.FullName;
    }
}
