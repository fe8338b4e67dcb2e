using System.Collections.Frozen;
using System.Text.Encodings.Web;
using System.Text.Json;
using Archestra.Edge.Configuration;
using Archestra.Edge.Model;

namespace Archestra.Edge.Gateway.Pinning;

/// <summary>A pinned definition as the lock file holds it: its digests (computed once, when read or listed) and the definition.</summary>
internal sealed record LockedItem(PinnedItem Pinned, JsonElement Definition)
{
    public string Sha256 => Pinned.Digest;
}

/// <summary>The items of one server in the lock file, by kind (<c>tools</c>, <c>prompts</c>) and upstream name, sorted.</summary>
internal sealed class LockedServer
{
    public SortedDictionary<string, LockedItem> Tools { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, LockedItem> Prompts { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, LockedItem> Of(Catalog.CatalogKind kind) => kind == Catalog.CatalogKind.Tools ? Tools : Prompts;
}

/// <summary>
/// The lock file (<c>archestra.lock.json</c>): per server, each tool's and prompt's SHA-256 with the canonical
/// definition it was taken from, so a review of a changed lock shows what the server now says. Written sorted and
/// indented (stable diffs in git); read back checking that each digest matches its definition, so a hand edit of
/// one without the other is refused rather than trusted.
/// </summary>
internal static class LockFile
{
    public const int Version = 1;

    /// <summary>A lock file larger than this is refused (it is read at every load).</summary>
    public const int MaxBytes = 32 * 1024 * 1024;

    /// <summary>Reads the lock file; a missing file is an empty lock. Problems are added to <paramref name="diagnostics"/>.</summary>
    public static SortedDictionary<string, LockedServer>? Read(string path, List<ConfigDiagnostic> diagnostics)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return new SortedDictionary<string, LockedServer>(StringComparer.Ordinal);
            }

            if (info.Length > MaxBytes)
            {
                diagnostics.Add(new ConfigDiagnostic(path, 1, 1, string.Empty, $"the lock file is larger than {MaxBytes / (1024 * 1024)} MiB", "regenerate it with archestra-edge pin --update"));
                return null;
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            diagnostics.Add(new ConfigDiagnostic(path, 1, 1, string.Empty, $"cannot read the lock file: {ex.Message}", null));
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 128 });
            return Parse(document.RootElement, path, diagnostics);
        }
        catch (JsonException ex)
        {
            diagnostics.Add(new ConfigDiagnostic(path, (int)(ex.LineNumber ?? 0) + 1, (int)(ex.BytePositionInLine ?? 0) + 1, string.Empty,
                "the lock file is not valid JSON", "regenerate it with archestra-edge pin --update"));
            return null;
        }
    }

    private static SortedDictionary<string, LockedServer>? Parse(JsonElement root, string path, List<ConfigDiagnostic> diagnostics)
    {
        void Problem(string at, string message) => diagnostics.Add(new ConfigDiagnostic(path, 1, 1, at, message, "regenerate it with archestra-edge pin --update"));

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number)
        {
            Problem(string.Empty, "the lock file has no 'version'");
            return null;
        }

        if (!version.TryGetInt32(out var number) || number != Version)
        {
            Problem("version", $"lock file version {version.GetRawText()} is not supported (this build reads version {Version})");
            return null;
        }

        var servers = new SortedDictionary<string, LockedServer>(StringComparer.Ordinal);
        if (!root.TryGetProperty("servers", out var serversElement))
        {
            return servers;
        }

        if (serversElement.ValueKind != JsonValueKind.Object)
        {
            Problem("servers", "must be an object");
            return null;
        }

        var failed = false;
        foreach (var server in serversElement.EnumerateObject())
        {
            var entry = new LockedServer();
            if (server.Value.ValueKind != JsonValueKind.Object)
            {
                Problem($"servers.{server.Name}", "must be an object");
                failed = true;
                continue;
            }

            foreach (var kind in (ReadOnlySpan<Catalog.CatalogKind>)[Catalog.CatalogKind.Tools, Catalog.CatalogKind.Prompts])
            {
                var key = Catalog.CatalogKinds.ResultProperty(kind);
                if (!server.Value.TryGetProperty(key, out var items))
                {
                    continue;
                }

                if (items.ValueKind != JsonValueKind.Object)
                {
                    Problem($"servers.{server.Name}.{key}", "must be an object");
                    failed = true;
                    continue;
                }

                foreach (var item in items.EnumerateObject())
                {
                    var at = $"servers.{server.Name}.{key}.{item.Name}";
                    if (item.Value.ValueKind != JsonValueKind.Object
                        || !item.Value.TryGetProperty("sha256", out var sha) || sha.ValueKind != JsonValueKind.String
                        || !item.Value.TryGetProperty("definition", out var definition) || definition.ValueKind != JsonValueKind.Object)
                    {
                        Problem(at, "needs 'sha256' (a string) and 'definition' (an object)");
                        failed = true;
                        continue;
                    }

                    var digest = ItemDefinition.Digest(definition);
                    if (!string.Equals(digest.Digest, sha.GetString(), StringComparison.Ordinal))
                    {
                        Problem(at, "its sha256 does not match its definition (edited by hand?)");
                        failed = true;
                        continue;
                    }

                    entry.Of(kind)[item.Name] = new LockedItem(digest, definition.Clone());
                }
            }

            servers[server.Name] = entry;
        }

        return failed ? null : servers;
    }

    /// <summary>The lock as the gateway checks it: digests only.</summary>
    public static PinLock ToPinLock(string path, bool exists, SortedDictionary<string, LockedServer> servers)
    {
        static FrozenDictionary<string, PinnedItem> Digests(SortedDictionary<string, LockedItem> items)
            => items.ToFrozenDictionary(static i => i.Key, static i => i.Value.Pinned, StringComparer.Ordinal);

        var fingerprint = new System.Text.StringBuilder();
        foreach (var (name, server) in servers)
        {
            foreach (var (item, locked) in server.Tools.Concat(server.Prompts))
            {
                fingerprint.Append(name).Append('/').Append(item).Append('=').Append(locked.Sha256).Append('\n');
            }
        }

        return new PinLock(path, exists, servers.ToFrozenDictionary(
            static s => s.Key, static s => new ServerPins(Digests(s.Value.Tools), Digests(s.Value.Prompts)), StringComparer.Ordinal))
        {
            Fingerprint = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(fingerprint.ToString()))),
        };
    }

    /// <summary>Writes the lock file (through a temporary file and a rename, so a reader never sees half of it).</summary>
    public static void Write(string path, SortedDictionary<string, LockedServer> servers)
    {
        var temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", Version);
            writer.WriteString("comment", "Pinned tool and prompt definitions (archestra-edge pin). Commit this file; review changes with pin --check, accept them with pin --update.");
            writer.WriteStartObject("servers");
            foreach (var (name, server) in servers)
            {
                writer.WriteStartObject(name);
                foreach (var kind in (ReadOnlySpan<Catalog.CatalogKind>)[Catalog.CatalogKind.Tools, Catalog.CatalogKind.Prompts])
                {
                    writer.WriteStartObject(Catalog.CatalogKinds.ResultProperty(kind));
                    foreach (var (item, locked) in server.Of(kind))
                    {
                        writer.WriteStartObject(item);
                        writer.WriteString("sha256", locked.Sha256);
                        writer.WritePropertyName("definition");
                        ItemDefinition.WriteDefinition(writer, locked.Definition);
                        writer.WriteEndObject();
                    }

                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        File.AppendAllText(temporary, "\n");
        File.Move(temporary, path, overwrite: true);
    }
}
