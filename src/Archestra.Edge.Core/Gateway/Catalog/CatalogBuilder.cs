using System.Buffers;
using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;
using Archestra.Edge.Model;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>One server's contribution to a profile catalog: its assignment (filters, curation) and its list.</summary>
internal readonly record struct CatalogSource(AssignmentModel Assignment, UpstreamServer Server, ServerList List)
{
    /// <summary>How the server's items of this kind are pinned (null: not pinned).</summary>
    public Pinning.SourcePins? Pins { get; init; }
}

/// <summary>What the builder noticed and dropped, for logs and counters.</summary>
internal readonly record struct CatalogCollision(string ExposedName, string KeptServer, string KeptName, string DroppedServer, string DroppedName);

/// <summary>What the builder noticed about a profile's lists: dropped duplicates, and curation that matched nothing.</summary>
internal sealed class CatalogNotes
{
    public List<CatalogCollision> Collisions { get; } = [];

    /// <summary>(server, upstream name) of a rename/describe/fixed_arguments entry whose item the server does not list.</summary>
    public List<(string Server, string Name, string? Meant)> UnmatchedCuration { get; } = [];

    /// <summary>Items whose definition does not match the lock file, by server (withheld under <c>block</c>).</summary>
    public List<(string Server, PinningMode Mode, Pinning.PinMismatch Mismatch)> PinMismatches { get; } = [];
}

/// <summary>
/// Merges upstream lists into one profile catalog: applies include/exclude, names items (prefixed or bare; renamed;
/// kept within the MCP name alphabet and length), drops later duplicates (first server in config order wins), sorts
/// by exposed name so the order never depends on upstream timing, and renders the list result once. Items reach
/// clients byte for byte except for their name (or URI) token, unless the profile curates them (description,
/// fixed arguments), in which case the item is re-rendered.
/// </summary>
internal static class CatalogBuilder
{
    private const int MaxNameLength = Configuration.Validation.ConfigCompiler.MaxItemNameLength;

    private readonly record struct Candidate(string Exposed, CatalogSource Source, ServerListItem Item);

    public static Catalog Build(CatalogKind kind, ProfileModel profile, IReadOnlyList<CatalogSource> sources, CatalogNotes notes)
    {
        var entries = new Dictionary<string, CatalogEntry>(StringComparer.Ordinal);
        var failures = ImmutableArray.CreateBuilder<(string, UpstreamError)>();
        var kept = new List<Candidate>();
        Dictionary<string, WithheldItem>? withheld = null;

        foreach (var unpinned in sources)
        {
            if (unpinned.List.Failed)
            {
                failures.Add((unpinned.Server.Name, unpinned.List.Error));
                continue;
            }

            var source = unpinned;
            if (unpinned.Pins is { } pins)
            {
                var outcome = Pinning.PinCheck.Apply(unpinned.List, kind, pins);
                foreach (var mismatch in outcome.Mismatches)
                {
                    notes.PinMismatches.Add((unpinned.Server.Name, pins.Mode, mismatch));
                }

                source = unpinned with { List = outcome.Admitted };
                if (!outcome.Withheld.IsEmpty)
                {
                    withheld ??= new Dictionary<string, WithheldItem>(StringComparer.Ordinal);
                    Withhold(kind, profile, unpinned, outcome, withheld);
                }
            }

            foreach (var candidate in Candidates(kind, profile, source))
            {
                if (entries.TryGetValue(candidate.Exposed, out var existing))
                {
                    notes.Collisions.Add(new CatalogCollision(candidate.Exposed, existing.Server.Name, existing.UpstreamName, source.Server.Name, candidate.Item.Name));
                    continue;
                }

                var item = candidate.Item;
                entries[candidate.Exposed] = new CatalogEntry(source.Server, item.Name, item.NameToken.Slice(item.Raw).ToArray(), source.Assignment)
                {
                    Fixed = source.Assignment.FixedArguments.GetValueOrDefault(item.Name),
                };
                kept.Add(candidate);
            }

            NoteUnmatchedCuration(unpinned, notes);
        }

        kept.Sort(static (a, b) => string.CompareOrdinal(a.Exposed, b.Exposed));

        using var output = new PooledBufferWriter();
        output.Write("{\""u8);
        output.Write(CatalogKinds.ResultPropertyUtf8(kind));
        output.Write("\":["u8);
        var bounds = new int[kept.Count + 1];
        for (var i = 0; i < kept.Count; i++)
        {
            if (i > 0)
            {
                output.Write(","u8);
            }

            bounds[i] = output.WrittenCount;
            WriteItem(output, kind, profile, kept[i]);
        }

        bounds[kept.Count] = output.WrittenCount + 1;
        output.Write("]}"u8);
        if (withheld is not null)
        {
            foreach (var name in entries.Keys)
            {
                withheld.Remove(name); // another server's item took the name: calls reach that one
            }
        }

        return new Catalog(kind, output.WrittenSpan.ToArray(), bounds, entries.ToFrozenDictionary(StringComparer.Ordinal), failures.ToImmutable())
        {
            Withheld = withheld?.ToFrozenDictionary(StringComparer.Ordinal) ?? FrozenDictionary<string, WithheldItem>.Empty,
        };
    }

    /// <summary>The exposed names the withheld items would have had, so a call to one is told why it is not there.</summary>
    private static void Withhold(CatalogKind kind, ProfileModel profile, CatalogSource source, Pinning.PinOutcome outcome, Dictionary<string, WithheldItem> withheld)
    {
        var held = source with { List = new ServerList(outcome.Withheld, UpstreamError.None) };
        foreach (var candidate in Candidates(kind, profile, held))
        {
            var what = outcome.Mismatches.First(m => m.Name == candidate.Item.Name).What;
            withheld.TryAdd(candidate.Exposed, new WithheldItem(source.Server.Name, candidate.Item.Name, what));
        }
    }

    /// <summary>
    /// The admitted items of one server with their exposed names, in claim order: renamed items first (the
    /// config asked for those names), then names that needed no repair, then repaired ones; by name within each.
    /// </summary>
    private static List<Candidate> Candidates(CatalogKind kind, ProfileModel profile, CatalogSource source)
    {
        var result = new List<(int Rank, Candidate Candidate)>(source.List.Items.Length);
        foreach (var item in source.List.Items)
        {
            if (!source.Assignment.Admits(item.Name))
            {
                continue;
            }

            if (CatalogKinds.IsUriKind(kind))
            {
                var uri = profile.Naming == ToolNaming.Prefixed ? ResourceUris.Prefix(source.Server.Name, item.Name) : item.Name;
                result.Add((1, new Candidate(uri, source, item)));
                continue;
            }

            var renamed = source.Assignment.Renames.TryGetValue(item.Name, out var local);
            var clean = renamed || Configuration.Validation.ConfigCompiler.IsValidItemName(item.Name);
            local ??= clean ? item.Name : Repair(item.Name);
            var exposed = profile.Naming == ToolNaming.Prefixed ? string.Concat(source.Server.Name, profile.Separator, local) : local;
            if (exposed.Length > MaxNameLength)
            {
                exposed = Shorten(exposed);
                clean = false;
            }

            result.Add((renamed ? 0 : clean ? 1 : 2, new Candidate(exposed, source, item)));
        }

        result.Sort(static (a, b) => a.Rank != b.Rank ? a.Rank.CompareTo(b.Rank) : string.CompareOrdinal(a.Candidate.Item.Name, b.Candidate.Item.Name));
        var ordered = new List<Candidate>(result.Count);
        foreach (var (_, candidate) in result)
        {
            ordered.Add(candidate);
        }

        return ordered;
    }

    private static void NoteUnmatchedCuration(CatalogSource source, CatalogNotes notes)
    {
        var assignment = source.Assignment;
        if (assignment.Renames.Count == 0 && assignment.Descriptions.Count == 0 && assignment.FixedArguments.Count == 0)
        {
            return;
        }

        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in source.List.Items)
        {
            listed.Add(item.Name);
        }

        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in assignment.Renames.Keys.Concat(assignment.Descriptions.Keys).Concat(assignment.FixedArguments.Keys))
        {
            if (!listed.Contains(name) && reported.Add(name))
            {
                // The upstream name it could mean: the item renamed to it (keys are upstream names), else the closest spelling.
                var meant = assignment.Renames.FirstOrDefault(r => r.Value == name && listed.Contains(r.Key)).Key
                    ?? Configuration.Yaml.Spelling.Closest(name, listed);
                notes.UnmatchedCuration.Add((source.Server.Name, name, meant));
            }
        }
    }

    /// <summary>Replaces every character outside <c>[A-Za-z0-9_.-]</c> with <c>_</c>.</summary>
    internal static string Repair(string name)
    {
        if (name.Length == 0)
        {
            return "_";
        }

        return string.Create(name.Length, name, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_';
            }
        });
    }

    /// <summary>Cuts a name to the maximum length, keeping it unique with a hash of the whole name.</summary>
    internal static string Shorten(string name)
    {
        var hash = Utilities.Fnv1a.Hash(name.AsSpan());
        return string.Concat(name.AsSpan(0, MaxNameLength - 9), "_", ((uint)(hash ^ (hash >> 32))).ToString("x8", System.Globalization.CultureInfo.InvariantCulture));
    }

    private static void WriteItem(PooledBufferWriter output, CatalogKind kind, ProfileModel profile, Candidate candidate)
    {
        var item = candidate.Item;
        var assignment = candidate.Source.Assignment;
        if (CatalogKinds.IsUriKind(kind))
        {
            if (profile.Naming != ToolNaming.Prefixed)
            {
                output.Write(item.Raw);
                return;
            }

            // The URI keeps its bytes; the server prefix goes right after the opening quote.
            Span<byte> prefix = stackalloc byte[Encoding.UTF8.GetMaxByteCount(candidate.Source.Server.Name.Length + 1)];
            var length = ResourceUris.WritePrefix(candidate.Source.Server.Name, prefix);
            scoped var rewriter = new MessageRewriter();
            rewriter.Insert(item.NameToken.Start + 1, prefix[..length]);
            rewriter.WriteTo(item.Raw, output);
            return;
        }

        if (assignment.Curates(item.Name))
        {
            CuratedItem.Write(output, item, candidate.Exposed, assignment.Descriptions.GetValueOrDefault(item.Name), assignment.FixedArguments.GetValueOrDefault(item.Name));
            return;
        }

        if (candidate.Exposed == item.Name)
        {
            output.Write(item.Raw);
            return;
        }

        using var name = new PooledBufferWriter(candidate.Exposed.Length + 8);
        JsonRpcWriter.WriteString(name, candidate.Exposed);
        var nameRewriter = new MessageRewriter();
        nameRewriter.Replace(item.NameToken, name.WrittenSpan);
        nameRewriter.WriteTo(item.Raw, output);
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
