using System.Text;
using Archestra.Edge.Configuration;
using Archestra.Edge.Registry;

namespace Archestra.Edge.Cli;

/// <summary>
/// <c>registry search [WORDS]</c>, <c>registry show NAME</c> and <c>registry add NAME [--as SERVER] [--use KIND]</c>:
/// the built-in catalog, the config's <c>registry.catalogs</c> and <c>--catalog</c> files. <c>add</c> appends a
/// <c>servers:</c> entry to the config file, leaves everything else as it was, and refuses to write a file that
/// would not load.
/// </summary>
internal static class RegistryCommand
{
    private const string UsageText = """
        usage: archestra-edge registry search [WORDS...] [--catalog FILE]... [--config FILE]
               archestra-edge registry show NAME [--use npm|pypi|nuget|oci|remote] [--catalog FILE]... [--config FILE]
               archestra-edge registry add NAME [--as SERVER] [--use npm|pypi|nuget|oci|remote] [--catalog FILE]... [--config FILE]
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("search" or "show" or "add"))
        {
            Console.Error.WriteLine(UsageText);
            return CommandLine.Usage;
        }

        var verb = args[0];
        var words = new List<string>();
        var catalogFiles = new List<string>();
        string? serverName = null, use = null, configPath = null;
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--catalog" when i + 1 < args.Length:
                    catalogFiles.Add(Path.GetFullPath(args[++i]));
                    break;
                case "--as" when i + 1 < args.Length:
                    serverName = args[++i];
                    break;
                case "--use" when i + 1 < args.Length && Array.IndexOf(ServerEntryWriter.Kinds, args[i + 1]) >= 0:
                    use = args[++i];
                    break;
                case "--config" or "-c" when i + 1 < args.Length:
                    configPath = args[++i];
                    break;
                default:
                    if (args[i].StartsWith('-'))
                    {
                        Console.Error.WriteLine($"error: unknown option '{args[i]}'\n{UsageText}");
                        return CommandLine.Usage;
                    }

                    words.Add(args[i]);
                    break;
            }
        }

        if (verb != "search" && words.Count != 1)
        {
            Console.Error.WriteLine(UsageText);
            return CommandLine.Usage;
        }

        // The config adds its catalogs; without a config file (search, show), the built-in catalog still works.
        configPath ??= Environment.GetEnvironmentVariable("ARCHESTRA_CONFIG") is { Length: > 0 } fromEnvironment ? fromEnvironment : "archestra.yaml";
        var configured = new List<string>();
        if (File.Exists(configPath))
        {
            var loaded = ConfigLoader.LoadFile(configPath, static _ => "set");
            if (loaded.Succeeded)
            {
                configured.AddRange(loaded.Snapshot!.RegistryCatalogs);
            }
        }

        var (catalog, problems) = RegistryCatalog.Load([.. configured, .. catalogFiles]);
        foreach (var problem in problems)
        {
            Console.Error.WriteLine($"warning: {problem}");
        }

        return verb switch
        {
            "search" => Search(catalog, string.Join(' ', words)),
            "show" => Show(catalog, words[0], use),
            _ => Add(catalog, words[0], serverName, use, configPath),
        };
    }

    private static int Search(RegistryCatalog catalog, string query)
    {
        var found = catalog.Search(query);
        if (found.Count == 0)
        {
            Console.Error.WriteLine($"no server matches '{query}'");
            return CommandLine.Failure;
        }

        var width = Math.Max(4, found.Max(e => e.Name.Length));
        var text = new StringBuilder();
        text.Append("NAME".PadRight(width)).Append("  ").Append("RUNS AS".PadRight(16)).Append("  DESCRIPTION\n");
        foreach (var entry in found)
        {
            text.Append(entry.Name.PadRight(width)).Append("  ").Append(string.Join(",", entry.Kinds().Distinct()).PadRight(16)).Append("  ")
                .Append(entry.Description ?? entry.Title ?? string.Empty).Append('\n');
        }

        Console.Out.Write(text.ToString());
        return CommandLine.Success;
    }

    private static int Show(RegistryCatalog catalog, string name, string? use)
    {
        var (entry, problem) = catalog.Find(name);
        if (entry is null)
        {
            Console.Error.WriteLine($"error: {problem}");
            return CommandLine.Failure;
        }

        var text = new StringBuilder();
        text.Append(entry.Name).Append(entry.Version is { } version ? $" {version}" : string.Empty).Append('\n');
        if (entry.Title is { } title)
        {
            text.Append("  ").Append(title).Append('\n');
        }

        if (entry.Description is { } description)
        {
            text.Append("  ").Append(description).Append('\n');
        }

        text.Append("  catalog: ").Append(entry.Source).Append('\n');
        foreach (var package in entry.Packages)
        {
            text.Append("  package: ").Append(package.RegistryType).Append(' ').Append(package.Identifier)
                .Append(package.Version is { } packageVersion ? $" {packageVersion}" : string.Empty).Append(" (").Append(package.Transport).Append(")\n");
            foreach (var variable in package.EnvironmentVariables)
            {
                text.Append("    env ").Append(variable.Name).Append(variable.IsRequired ? " (required)" : string.Empty).Append(variable.IsSecret ? " (secret)" : string.Empty)
                    .Append(variable.Description is { } about ? $": {about}" : string.Empty).Append('\n');
            }
        }

        foreach (var remote in entry.Remotes)
        {
            text.Append("  remote: ").Append(remote.Type).Append(' ').Append(remote.Url).Append('\n');
        }

        var (yaml, variables, notes, renderProblem) = ServerEntryWriter.Render(entry, ServerEntryWriter.ServerName(entry.Name), use);
        if (yaml is null)
        {
            text.Append('\n').Append(renderProblem).Append('\n');
        }
        else
        {
            text.Append("\narchestra-edge registry add would write:\n\n").Append(yaml);
            AppendFollowUp(text, variables, notes);
        }

        Console.Out.Write(text.ToString());
        return CommandLine.Success;
    }

    private static int Add(RegistryCatalog catalog, string name, string? serverName, string? use, string configPath)
    {
        var (entry, problem) = catalog.Find(name);
        if (entry is null)
        {
            Console.Error.WriteLine($"error: {problem}");
            return CommandLine.Failure;
        }

        string text;
        try
        {
            text = File.Exists(configPath) ? File.ReadAllText(configPath) : string.Empty;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: cannot read {configPath}: {ex.Message}");
            return CommandLine.Failure;
        }

        serverName ??= ServerEntryWriter.ServerName(entry.Name);
        var before = ConfigLoader.Load(text, configPath, static _ => "set");
        var (yaml, variables, notes, renderProblem) = ServerEntryWriter.Render(entry, serverName, use);
        if (yaml is null)
        {
            Console.Error.WriteLine($"error: {renderProblem}");
            return CommandLine.Failure;
        }

        var (updated, appendProblem) = YamlAppender.AddServer(text, serverName, yaml);
        if (updated is null)
        {
            Console.Error.WriteLine($"error: {appendProblem}");
            return CommandLine.Failure;
        }

        // The file must still load (placeholders count as set: they are the operator's to fill).
        var after = ConfigLoader.Load(updated, configPath, static _ => "set");
        if (!after.Succeeded && (before.Succeeded || text.Length == 0 || after.Diagnostics.Count > before.Diagnostics.Count))
        {
            Console.Error.WriteLine($"error: the entry would not load; {configPath} is unchanged:");
            ValidateCommand.Report(after.Diagnostics);
            return CommandLine.Failure;
        }

        var temporary = configPath + ".tmp";
        File.WriteAllText(temporary, updated);
        File.Move(temporary, configPath, overwrite: true);

        var message = new StringBuilder();
        message.Append("added server '").Append(serverName).Append("' (").Append(entry.Name).Append(") to ").Append(configPath).Append('\n');
        AppendFollowUp(message, variables, notes);

        // What validate and serve will say: the same load with this environment. Unset values are the operator's to
        // provide, so the entry is written all the same, and the message says plainly that the file waits for them.
        var missing = variables.Where(static v => Environment.GetEnvironmentVariable(v) is null).ToList();
        if (missing.Count > 0 && !ConfigLoader.Load(updated, configPath).Succeeded)
        {
            message.Append("until ").Append(string.Join(", ", missing)).Append(missing.Count == 1 ? " is" : " are")
                .Append(" set, validate and serve refuse this file: ").Append(string.Join("; ", missing.Select(static v => $"export {v}=…")))
                .Append(" (or set it where the gateway runs: the service's environment, a secret)\n");
        }

        message.Append("assign it to a profile: tools: [{ server: ").Append(serverName).Append(" }]\n");
        Console.Error.Write(message.ToString());
        return CommandLine.Success;
    }

    private static void AppendFollowUp(StringBuilder text, List<string> variables, List<string> notes)
    {
        if (variables.Count > 0)
        {
            text.Append("set before starting the gateway: ").Append(string.Join(", ", variables)).Append('\n');
        }

        foreach (var note in notes)
        {
            text.Append("note: ").Append(note).Append('\n');
        }
    }
}
