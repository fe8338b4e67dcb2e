namespace Archestra.Edge.Cli;

/// <summary>
/// <c>schema</c>: the JSON Schema of the config file, as this binary reads it. <c>--write</c> puts it beside the
/// config (<c>archestra.schema.json</c>), where a config's <c># yaml-language-server: $schema=archestra.schema.json</c>
/// line finds it wherever the two files are copied together.
/// </summary>
internal static class SchemaCommand
{
    public const string FileName = "archestra.schema.json";

    public static int Run(string[] args)
    {
        var write = args.Contains("--write");
        if (!CommandLine.TryParseOptions([.. args.Where(static a => a != "--write")], out var options, out var error))
        {
            Console.Error.WriteLine($"error: {error}");
            return CommandLine.Usage;
        }

        var schema = Configuration.Yaml.SchemaWriter.Write();
        if (!write)
        {
            Console.Out.Write(schema);
            return CommandLine.Success;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(options.ConfigPath ?? "archestra.yaml"))!;
        var path = Path.Combine(directory, FileName);
        try
        {
            var temporary = path + ".tmp";
            File.WriteAllText(temporary, schema);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: cannot write {path}: {ex.Message}");
            return CommandLine.Failure;
        }

        Console.Out.WriteLine($"wrote {path}; a config beside it begins with: # yaml-language-server: $schema={FileName}");
        return CommandLine.Success;
    }
}
