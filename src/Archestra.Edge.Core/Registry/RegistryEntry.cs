using System.Collections.Immutable;
using System.Text.Json;

namespace Archestra.Edge.Registry;

/// <summary>One server of an MCP registry catalog (the official <c>server.json</c> format).</summary>
internal sealed record RegistryEntry(string Name, string? Title, string? Description, string? Version,
    ImmutableArray<RegistryPackage> Packages, ImmutableArray<RegistryRemote> Remotes, string Source)
{
    /// <summary>The ways it can run, as <c>add --use</c> names them: npm, pypi, nuget, oci, remote.</summary>
    public IEnumerable<string> Kinds()
    {
        foreach (var package in Packages)
        {
            yield return package.RegistryType;
        }

        if (!Remotes.IsEmpty)
        {
            yield return "remote";
        }
    }

    /// <summary>
    /// Reads one <c>server.json</c> object. Both the current camelCase keys and the earlier snake_case ones are
    /// accepted, and the registry API's <c>{ "server": {...} }</c> wrapper.
    /// </summary>
    public static RegistryEntry? Parse(JsonElement element, string source)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (Property(element, "server") is { ValueKind: JsonValueKind.Object } wrapped)
        {
            element = wrapped;
        }

        if (Text(element, "name") is not { Length: > 0 } name)
        {
            return null;
        }

        var packages = ImmutableArray.CreateBuilder<RegistryPackage>();
        foreach (var package in Items(element, "packages"))
        {
            if (Text(package, "registryType", "registry_type") is { } type && Text(package, "identifier") is { } identifier)
            {
                packages.Add(new RegistryPackage(type.ToLowerInvariant(), identifier, Text(package, "version"), Text(package, "runtimeHint", "runtime_hint"),
                    Text(Property(package, "transport"), "type") ?? "stdio", Arguments(package, "packageArguments", "package_arguments"),
                    Arguments(package, "runtimeArguments", "runtime_arguments"), Inputs(package, "environmentVariables", "environment_variables")));
            }
        }

        var remotes = ImmutableArray.CreateBuilder<RegistryRemote>();
        foreach (var remote in Items(element, "remotes"))
        {
            if (Text(remote, "url") is { } url)
            {
                remotes.Add(new RegistryRemote(Text(remote, "type", "transport_type") ?? "streamable-http", url, Inputs(remote, "headers")));
            }
        }

        var version = Text(element, "version") ?? Text(Property(element, "version_detail"), "version");
        return new RegistryEntry(name, Text(element, "title"), Text(element, "description"), version, packages.ToImmutable(), remotes.ToImmutable(), source);
    }

    private static ImmutableArray<RegistryArgument> Arguments(JsonElement package, string name, string legacy)
    {
        var result = ImmutableArray.CreateBuilder<RegistryArgument>();
        foreach (var argument in Items(package, name, legacy))
        {
            result.Add(new RegistryArgument(
                Text(argument, "type") ?? "positional",
                Text(argument, "name"),
                Text(argument, "value"),
                Text(argument, "valueHint", "value_hint"),
                Text(argument, "default"),
                Text(argument, "description"),
                Flag(argument, "isRequired", "is_required"),
                Flag(argument, "isSecret", "is_secret")));
        }

        return result.ToImmutable();
    }

    private static ImmutableArray<RegistryInput> Inputs(JsonElement owner, string name, string? legacy = null)
    {
        var result = ImmutableArray.CreateBuilder<RegistryInput>();
        foreach (var input in Items(owner, name, legacy))
        {
            if (Text(input, "name") is { } inputName)
            {
                result.Add(new RegistryInput(inputName, Text(input, "value"), Text(input, "default"), Text(input, "description"),
                    Flag(input, "isRequired", "is_required"), Flag(input, "isSecret", "is_secret")));
            }
        }

        return result.ToImmutable();
    }

    private static JsonElement.ArrayEnumerator Items(JsonElement owner, string name, string? legacy = null)
        => (Property(owner, name) ?? (legacy is null ? null : Property(owner, legacy))) is { ValueKind: JsonValueKind.Array } array
            ? array.EnumerateArray()
            : default;

    private static JsonElement? Property(JsonElement? owner, string name)
        => owner is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var value) ? value : null;

    private static string? Text(JsonElement? owner, string name, string? legacy = null)
        => (Property(owner, name) ?? (legacy is null ? null : Property(owner, legacy))) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static bool Flag(JsonElement owner, string name, string legacy)
        => (Property(owner, name) ?? Property(owner, legacy)) is { ValueKind: JsonValueKind.True };
}

/// <summary>A package the server is published as (npm, pypi, nuget, oci, …).</summary>
internal sealed record RegistryPackage(string RegistryType, string Identifier, string? Version, string? RuntimeHint, string Transport,
    ImmutableArray<RegistryArgument> PackageArguments, ImmutableArray<RegistryArgument> RuntimeArguments, ImmutableArray<RegistryInput> EnvironmentVariables);

/// <summary>A remote endpoint of the server.</summary>
internal sealed record RegistryRemote(string Type, string Url, ImmutableArray<RegistryInput> Headers);

/// <summary>A command-line argument: positional (a value) or named (<c>--name value</c>, or a bare flag).</summary>
internal sealed record RegistryArgument(string Type, string? Name, string? Value, string? ValueHint, string? Default, string? Description, bool IsRequired, bool IsSecret);

/// <summary>An environment variable or header the server needs.</summary>
internal sealed record RegistryInput(string Name, string? Value, string? Default, string? Description, bool IsRequired, bool IsSecret);
