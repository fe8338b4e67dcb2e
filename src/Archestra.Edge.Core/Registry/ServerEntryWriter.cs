using System.Text;

namespace Archestra.Edge.Registry;

/// <summary>
/// Renders a registry entry as a <c>servers:</c> entry of <c>archestra.yaml</c>: a <c>process</c> for npm, PyPI and
/// NuGet packages (run with npx, uvx or dnx), a <c>container</c> for OCI images, a <c>remote</c> for remotes. Values the
/// operator must supply (secrets, required arguments without a default) become <c>${env:NAME}</c> placeholders; defaults
/// become <c>${env:NAME:-default}</c>. Every scalar is written double-quoted, so nothing in it is reinterpreted.
/// </summary>
internal static class ServerEntryWriter
{
    public static readonly string[] Kinds = ["npm", "pypi", "nuget", "oci", "remote"];

    /// <summary>The block (without indentation of its own), the variables it needs, and notes for the operator.</summary>
    public static (string? Yaml, List<string> Variables, List<string> Notes, string? Problem) Render(RegistryEntry entry, string serverName, string? use)
    {
        var variables = new List<string>();
        var notes = new List<string>();
        var yaml = new StringBuilder();
        yaml.Append(serverName).Append(":  # ").Append(entry.Name);
        if (entry.Version is { } version)
        {
            yaml.Append(' ').Append(version);
        }

        yaml.Append(" (from the ").Append(entry.Source == RegistryCatalog.BuiltinSource ? "built-in catalog" : Path.GetFileName(entry.Source)).Append(")\n");

        // A remote needs nothing installed on the gateway's machine, so it is the default when there is one.
        if (use is null or "remote" && !entry.Remotes.IsEmpty)
        {
            WriteRemote(yaml, entry.Remotes[0], serverName, variables, notes);
            return (yaml.ToString(), variables, notes, null);
        }

        RegistryPackage? package = null;
        foreach (var candidate in entry.Packages)
        {
            if (use is null ? Array.IndexOf(Kinds, candidate.RegistryType) >= 0 : candidate.RegistryType == use)
            {
                package = candidate;
                break;
            }
        }

        if (package is null)
        {
            return (null, variables, notes, use is null
                ? $"{entry.Name} has no package or remote this gateway can run (it offers: {string.Join(", ", entry.Kinds())})"
                : $"{entry.Name} has no {use} {(use == "remote" ? "endpoint" : "package")} (it offers: {string.Join(", ", entry.Kinds())})");
        }

        if (package.Transport != "stdio")
        {
            notes.Add($"the package speaks {package.Transport}, not stdio: adjust the entry (containers: transport: http, port, path)");
        }

        if (package.RegistryType == "oci")
        {
            WriteContainer(yaml, package, variables, notes);
        }
        else
        {
            WriteProcess(yaml, package, variables, notes);
        }

        return (yaml.ToString(), variables, notes, null);
    }

    /// <summary>A server name from a registry name: lower case, letters, digits and '-', starting with a letter.</summary>
    public static string ServerName(string registryName)
    {
        var name = new StringBuilder();
        foreach (var c in RegistryCatalog.Nickname(registryName).ToLowerInvariant())
        {
            var keep = char.IsAsciiLetterOrDigit(c) ? c : '-';
            if (keep != '-' || (name.Length > 0 && name[^1] != '-'))
            {
                name.Append(keep);
            }
        }

        var text = name.ToString().Trim('-').TrimStart("0123456789-".ToCharArray());
        return text.Length == 0 ? "server" : text;
    }

    private static void WriteProcess(StringBuilder yaml, RegistryPackage package, List<string> variables, List<string> notes)
    {
        var args = new List<string>();
        string command;
        switch (package.RegistryType)
        {
            case "pypi":
                command = package.RuntimeHint ?? "uvx";
                args.AddRange(Arguments(package.RuntimeArguments, variables));
                args.Add(package.Version is { } pypiVersion ? $"{package.Identifier}=={pypiVersion}" : package.Identifier);
                args.AddRange(Arguments(package.PackageArguments, variables));
                break;
            case "nuget":
                command = package.RuntimeHint ?? "dnx";
                args.Add(package.Version is { } nugetVersion ? $"{package.Identifier}@{nugetVersion}" : package.Identifier);
                args.Add("--yes");
                args.AddRange(Arguments(package.RuntimeArguments, variables));
                var packageArguments = Arguments(package.PackageArguments, variables);
                if (packageArguments.Count > 0)
                {
                    args.Add("--");
                    args.AddRange(packageArguments);
                }

                break;
            default:
                command = package.RuntimeHint ?? "npx";
                args.Add("-y");
                args.AddRange(Arguments(package.RuntimeArguments, variables));
                args.Add(package.Version is { } npmVersion ? $"{package.Identifier}@{npmVersion}" : package.Identifier);
                args.AddRange(Arguments(package.PackageArguments, variables));
                break;
        }

        yaml.Append("  process:\n");
        yaml.Append("    command: ").Append(Quote(command)).Append('\n');
        yaml.Append("    args: [").Append(string.Join(", ", args.Select(Quote))).Append("]\n");
        WriteEnvironment(yaml, "    ", package.EnvironmentVariables, variables);
        notes.Add($"it runs with {command}, which must be installed on the gateway's machine");
    }

    private static void WriteContainer(StringBuilder yaml, RegistryPackage package, List<string> variables, List<string> notes)
    {
        var image = package.Identifier;
        var lastPart = image[(image.LastIndexOf('/') + 1)..];
        if (package.Version is { } tag && !lastPart.Contains(':', StringComparison.Ordinal) && !image.Contains('@', StringComparison.Ordinal))
        {
            image = $"{image}:{tag}";
        }

        yaml.Append("  container:\n");
        yaml.Append("    image: ").Append(Quote(image)).Append("  # network: none unless you name one (e.g. bridge) for a server that must reach other hosts\n");
        var args = Arguments(package.PackageArguments, variables);
        if (args.Count > 0)
        {
            yaml.Append("    args: [").Append(string.Join(", ", args.Select(Quote))).Append("]\n");
        }

        WriteEnvironment(yaml, "    ", package.EnvironmentVariables, variables);
        notes.Add($"images are used from the local store, never pulled: podman pull {image} (or load it) before the first call");
        if (!package.RuntimeArguments.IsEmpty)
        {
            notes.Add($"the package asks for container runtime arguments ({string.Join(" ", package.RuntimeArguments.Select(a => a.Name ?? a.Value))}): map them to mounts/network by hand");
        }
    }

    private static void WriteRemote(StringBuilder yaml, RegistryRemote remote, string serverName, List<string> variables, List<string> notes)
    {
        yaml.Append("  remote:\n");
        yaml.Append("    url: ").Append(Quote(Placeholders(remote.Url, variables))).Append('\n');
        if (remote.Type == "sse")
        {
            yaml.Append("    transport: \"sse\"\n");
        }

        var headers = new List<string>();
        foreach (var header in remote.Headers)
        {
            string? value = header.Value is { } template
                ? Placeholders(template, variables)
                : header.IsRequired || header.IsSecret
                    ? Variable($"{serverName}_{header.Name}", null, variables)
                    : header.Default is { } fallback ? Escape(fallback) : null;
            if (value is not null)
            {
                headers.Add($"{Quote(header.Name)}: {Quote(value)}");
            }
        }

        if (headers.Count > 0)
        {
            yaml.Append("    headers: { ").Append(string.Join(", ", headers)).Append(" }\n");
        }

        if (remote.Headers.IsEmpty)
        {
            notes.Add("the remote declares no headers; if it uses OAuth, give the gateway a token for it in headers");
        }
    }

    private static void WriteEnvironment(StringBuilder yaml, string indent, IReadOnlyList<RegistryInput> environment, List<string> variables)
    {
        var entries = new List<string>();
        foreach (var input in environment)
        {
            if (input.Value is { } fixedValue)
            {
                entries.Add($"{input.Name}: {Quote(Placeholders(fixedValue, variables))}");
            }
            else if (input.IsRequired || input.IsSecret || input.Default is not null)
            {
                entries.Add($"{input.Name}: {Quote(Variable(input.Name, input.IsRequired || input.IsSecret ? null : input.Default, variables))}");
            }
        }

        if (entries.Count > 0)
        {
            yaml.Append(indent).Append("env: { ").Append(string.Join(", ", entries)).Append(" }\n");
        }
    }

    private static List<string> Arguments(IReadOnlyList<RegistryArgument> arguments, List<string> variables)
    {
        var result = new List<string>();
        foreach (var argument in arguments)
        {
            var value = argument.Value is { } given
                ? Placeholders(given, variables)
                : argument.IsRequired || argument.IsSecret
                    ? Variable(argument.ValueHint ?? argument.Name ?? "value", argument.IsSecret ? null : argument.Default, variables)
                    : argument.Default is { } fallback ? Escape(fallback) : null;
            if (argument.Type == "named" && argument.Name is { } name)
            {
                result.Add(name);
            }

            if (value is not null)
            {
                result.Add(value);
            }
        }

        return result;
    }

    /// <summary><c>{token}</c> templates of the registry become <c>${env:TOKEN}</c>; a literal <c>${</c> is escaped.</summary>
    private static string Placeholders(string template, List<string> variables)
    {
        var text = new StringBuilder();
        var escaped = Escape(template);
        for (var i = 0; i < escaped.Length; i++)
        {
            var close = escaped[i] == '{' && (i == 0 || escaped[i - 1] != '$') ? escaped.IndexOf('}', i + 1) : -1;
            if (close > i + 1)
            {
                text.Append(Variable(escaped[(i + 1)..close], null, variables));
                i = close;
            }
            else
            {
                text.Append(escaped[i]);
            }
        }

        return text.ToString();
    }

    private static string Variable(string name, string? fallback, List<string> variables)
    {
        var variable = EnvironmentName(name);
        if (fallback is null && !variables.Contains(variable))
        {
            variables.Add(variable);
        }

        return fallback is null ? $"${{env:{variable}}}" : $"${{env:{variable}:-{Escape(fallback)}}}";
    }

    private static string EnvironmentName(string name)
    {
        var text = new StringBuilder();
        foreach (var c in name.TrimStart('-'))
        {
            text.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
        }

        return text.Length == 0 || char.IsAsciiDigit(text[0]) ? "V_" + text : text.ToString();
    }

    private static string Escape(string value) => value.Replace("${", "$${", StringComparison.Ordinal);

    private static string Quote(string value)
    {
        var text = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => text.Append("\\\""),
                '\\' => text.Append("\\\\"),
                '\n' => text.Append("\\n"),
                '\t' => text.Append("\\t"),
                _ => text.Append(c),
            };
        }

        return text.Append('"').ToString();
    }
}
