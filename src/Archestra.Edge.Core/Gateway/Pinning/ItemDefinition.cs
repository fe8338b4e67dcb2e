using System.Collections.Frozen;
using System.Text.Json;
using Archestra.Edge.Model;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Gateway.Pinning;

/// <summary>
/// The pinned form of a tool or prompt definition: every top-level property except its name (the key it is pinned
/// under) and <c>_meta</c> (free for servers to vary), in canonical JSON — object properties sorted by name, no
/// whitespace, strings escaped one way, numbers as written — so the same definition always hashes the same
/// however a server orders or spaces it (<see cref="CanonicalJson"/>). Cold path: runs when a list is read.
/// </summary>
internal static class ItemDefinition
{
    /// <summary>Whether a top-level property is part of what is pinned.</summary>
    public static bool IsPinned(string property) => property is not ("name" or "_meta");

    private static readonly Func<string, bool> s_pinned = IsPinned;

    /// <summary>The digests of an item as the upstream listed it (its raw JSON object).</summary>
    public static PinnedItem Digest(ReadOnlySpan<byte> raw)
    {
        using var document = JsonDocument.Parse(raw.ToArray());
        return Digest(document.RootElement);
    }

    /// <summary>The digests of a definition: the whole (pinned properties only) and each pinned property.</summary>
    public static PinnedItem Digest(JsonElement item)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (item.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in item.EnumerateObject())
            {
                if (IsPinned(property.Name))
                {
                    fields[property.Name] = CanonicalJson.Sha256(property.Value);
                }
            }
        }

        return new PinnedItem(CanonicalJson.Sha256(item, s_pinned), fields.ToFrozenDictionary(StringComparer.Ordinal));
    }

    /// <summary>Writes the pinned part of an item in canonical order (indented for the lock file, where people read it).</summary>
    public static void WriteDefinition(Utf8JsonWriter writer, JsonElement item) => CanonicalJson.Write(writer, item, s_pinned);
}
