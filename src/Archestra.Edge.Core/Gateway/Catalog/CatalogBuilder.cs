using System.Buffers;
using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;
using Archestra.Edge.Configuration;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>One server's contribution to a profile catalog: its assignment (filters) and its list.</summary>
internal readonly record struct CatalogSource(AssignmentModel Assignment, UpstreamServer Server, ServerList List);

/// <summary>What the builder noticed and dropped, for logs and counters.</summary>
internal readonly record struct CatalogCollision(string ExposedName, string KeptServer, string DroppedServer);

/// <summary>
/// Merges upstream lists into one profile catalog: applies include/exclude, names items (prefixed or bare),
/// drops later duplicates (first server in config order wins), and renders the list result once, splicing
/// only each item's name so everything else reaches clients byte for byte.
/// </summary>
internal static class CatalogBuilder
{
    public static Catalog Build(CatalogKind kind, ProfileModel profile, IReadOnlyList<CatalogSource> sources, List<CatalogCollision> collisions)
    {
        var entries = new Dictionary<string, CatalogEntry>(StringComparer.Ordinal);
        var failures = ImmutableArray.CreateBuilder<(string, UpstreamError)>();
        using var output = new PooledBufferWriter();
        output.Write("{\""u8);
        output.Write(CatalogKinds.ResultPropertyUtf8(kind));
        output.Write("\":["u8);
        var first = true;

        foreach (var source in sources)
        {
            if (source.List.Failed)
            {
                failures.Add((source.Server.Name, source.List.Error));
                continue;
            }

            foreach (var item in source.List.Items)
            {
                if (!source.Assignment.Admits(item.Name))
                {
                    continue;
                }

                var exposed = profile.Naming == ToolNaming.Prefixed
                    ? string.Concat(source.Server.Name, profile.Separator, item.Name)
                    : item.Name;

                if (entries.TryGetValue(exposed, out var existing))
                {
                    collisions.Add(new CatalogCollision(exposed, existing.Server.Name, source.Server.Name));
                    continue;
                }

                entries[exposed] = new CatalogEntry(source.Server, item.Name, item.NameToken.Slice(item.Raw).ToArray());
                if (!first)
                {
                    output.Write(","u8);
                }

                first = false;
                WriteItem(output, item, exposed);
            }
        }

        output.Write("]}"u8);
        return new Catalog(output.WrittenSpan.ToArray(), entries.ToFrozenDictionary(StringComparer.Ordinal), failures.ToImmutable());
    }

    private static void WriteItem(PooledBufferWriter output, ServerListItem item, string exposedName)
    {
        if (exposedName == item.Name)
        {
            output.Write(item.Raw);
            return;
        }

        using var name = new PooledBufferWriter(exposedName.Length + 8);
        JsonRpcWriter.WriteString(name, exposedName);
        var rewriter = new MessageRewriter();
        rewriter.Replace(item.NameToken, name.WrittenSpan);
        rewriter.WriteTo(item.Raw, output);
    }

    /// <summary>The exposed name, decoded from a JSON string token without allocating when it is plain.</summary>
    public static bool TryGetEntry(Catalog catalog, ReadOnlySpan<byte> nameToken, out CatalogEntry? entry)
    {
        entry = null;
        if (nameToken.Length < 2)
        {
            return false;
        }

        var content = nameToken[1..^1];
        if (content.IndexOf((byte)'\\') >= 0)
        {
            // Escaped names are rare: decode through the JSON reader.
            var reader = new System.Text.Json.Utf8JsonReader(nameToken);
            reader.Read();
            return catalog.Entries.TryGetValue(reader.GetString()!, out entry);
        }

        if (content.Length > 512)
        {
            return catalog.Entries.TryGetValue(Encoding.UTF8.GetString(content), out entry);
        }

        Span<char> chars = stackalloc char[512];
        var count = Encoding.UTF8.GetChars(content, chars);
        return catalog.Lookup.TryGetValue(chars[..count], out entry);
    }
}
