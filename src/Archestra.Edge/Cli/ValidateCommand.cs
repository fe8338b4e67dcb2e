using Archestra.Edge.Configuration;

namespace Archestra.Edge.Cli;

/// <summary><c>validate</c>: load and compile the config exactly as <c>serve</c> would, and report.</summary>
internal static class ValidateCommand
{
    public static int Run(string[] args)
    {
        if (!CommandLine.TryParseOptions(args, out var options, out var error))
        {
            Console.Error.WriteLine($"error: {error}");
            return CommandLine.Usage;
        }

        var result = ConfigLoader.LoadFile(options.ConfigPath!);
        if (!result.Succeeded)
        {
            Report(result.Diagnostics);
            return CommandLine.Failure;
        }

        var snapshot = result.Snapshot!;
        foreach (var warning in snapshot.Warnings)
        {
            Console.Error.WriteLine(warning.ToString());
        }

        var warnings = snapshot.Warnings.Length switch { 0 => string.Empty, 1 => ", 1 warning", var n => $", {n} warnings" };
        Console.Out.WriteLine($"{options.ConfigPath}: ok ({snapshot.Servers.Length} servers, {snapshot.ProfileList.Length} profiles{warnings})");
        return CommandLine.Success;
    }

    internal static void Report(IReadOnlyList<ConfigDiagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            Console.Error.WriteLine(diagnostic.ToString());
        }

        Console.Error.WriteLine(diagnostics.Count == 1 ? "1 error" : $"{diagnostics.Count} errors");
    }
}
