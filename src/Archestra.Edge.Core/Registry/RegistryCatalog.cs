using System.Text.Json;

namespace Archestra.Edge.Registry;

/// <summary>
/// The servers of the catalogs the gateway knows: the small built-in one (<c>config/registry/servers.json</c>, compiled
/// into the binary) and the files listed in <c>registry.catalogs</c>. A file holds one <c>server.json</c>, an array of
/// them, or a registry API page (<c>{ "servers": [...] }</c>). A later catalog's entry replaces an earlier one's.
/// </summary>
internal sealed class RegistryCatalog
{
    public const string BuiltinSource = "built-in";

    private readonly Dictionary<string, RegistryEntry> _entries = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyCollection<RegistryEntry> Entries => _entries.Values;

    /// <summary>Loads the built-in catalog, then <paramref name="files"/>; problems with a file are returned, not thrown.</summary>
    public static (RegistryCatalog Catalog, List<string> Problems) Load(IEnumerable<string> files)
    {
        var catalog = new RegistryCatalog();
        var problems = new List<string>();
        using (var builtin = typeof(RegistryCatalog).Assembly.GetManifestResourceStream("registry/servers.json"))
        {
            if (builtin is not null)
            {
                catalog.Add(JsonDocument.Parse(builtin), BuiltinSource);
            }
        }

        foreach (var file in files)
        {
            try
            {
                using var document = JsonDocument.Parse(File.ReadAllBytes(file));
                if (catalog.Add(document, file) == 0)
                {
                    problems.Add($"{file}: no server entries (expected a server.json object, an array of them, or {{ \"servers\": [...] }})");
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
            {
                problems.Add($"{file}: {ex.Message}");
            }
        }

        return (catalog, problems);
    }

    /// <summary>An entry by its full name, or by the last part of it when that is unambiguous.</summary>
    public (RegistryEntry? Entry, string? Problem) Find(string name)
    {
        if (_entries.TryGetValue(name, out var exact))
        {
            return (exact, null);
        }

        var matches = new List<RegistryEntry>();
        foreach (var entry in _entries.Values)
        {
            if (string.Equals(ShortName(entry.Name), name, StringComparison.OrdinalIgnoreCase) || string.Equals(Nickname(entry.Name), name, StringComparison.OrdinalIgnoreCase))
            {
                matches.Add(entry);
            }
        }

        return matches.Count switch
        {
            1 => (matches[0], null),
            0 => (null, $"no server '{name}' in the catalogs (try: archestra-edge registry search {name})"),
            _ => (null, $"'{name}' is ambiguous: {string.Join(", ", matches.Select(m => m.Name).Order(StringComparer.Ordinal))}"),
        };
    }

    /// <summary>Entries whose name, title or description contains every word of <paramref name="query"/>, by name.</summary>
    public List<RegistryEntry> Search(string? query)
    {
        var words = (query ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var result = new List<RegistryEntry>();
        foreach (var entry in _entries.Values)
        {
            var text = $"{entry.Name} {entry.Title} {entry.Description}";
            if (words.All(word => text.Contains(word, StringComparison.OrdinalIgnoreCase)))
            {
                result.Add(entry);
            }
        }

        result.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }

    /// <summary>The last part of a registry name: <c>io.github.acme/weather-mcp</c> → <c>weather-mcp</c>.</summary>
    public static string ShortName(string name) => name[(name.LastIndexOf('/') + 1)..];

    /// <summary>The short name without the usual "server"/"mcp" affixes: <c>io.github.x/mcp-server-git</c> → <c>git</c>.</summary>
    public static string Nickname(string name)
    {
        var nickname = ShortName(name);
        foreach (var prefix in (string[])["mcp-server-", "server-", "mcp-"])
        {
            if (nickname.Length > prefix.Length && nickname.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                nickname = nickname[prefix.Length..];
                break;
            }
        }

        foreach (var suffix in (string[])["-mcp-server", "-server", "-mcp"])
        {
            if (nickname.Length > suffix.Length && nickname.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                nickname = nickname[..^suffix.Length];
                break;
            }
        }

        return nickname;
    }

    private int Add(JsonDocument document, string source)
    {
        var root = document.RootElement;
        var items = root.ValueKind switch
        {
            JsonValueKind.Array => root,
            JsonValueKind.Object when root.TryGetProperty("servers", out var servers) && servers.ValueKind == JsonValueKind.Array => servers,
            _ => (JsonElement?)null,
        };

        var added = 0;
        if (items is { } array)
        {
            foreach (var item in array.EnumerateArray())
            {
                added += Add(RegistryEntry.Parse(item, source));
            }
        }
        else
        {
            added += Add(RegistryEntry.Parse(root, source));
        }

        return added;
    }

    private int Add(RegistryEntry? entry)
    {
        if (entry is null)
        {
            return 0;
        }

        _entries[entry.Name] = entry;
        return 1;
    }
}
