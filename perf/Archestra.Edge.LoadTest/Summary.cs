namespace Archestra.Edge.LoadTest;

/// <summary>Turns a directory of JSON reports into perf/RESULTS.md (written once the rounds are known).</summary>
internal static class Summary
{
    public static void Write(string directory, string output, string command)
        => throw new NotImplementedException($"summary of {directory} into {output} ({command})");
}
