using System.Buffers;
using System.Collections.Frozen;
using System.Collections.Immutable;
using Archestra.Edge.Model;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>
/// Where an exposed name leads: the server, the upstream's own name for the item (and its JSON token), the
/// assignment that exposed it, and the arguments the config fixes for it (tools).
/// </summary>
internal sealed record CatalogEntry(UpstreamServer Server, string UpstreamName, byte[] UpstreamNameToken, AssignmentModel Assignment)
{
    public FixedArguments? Fixed { get; init; }
}

/// <summary>An item the catalog leaves out because its definition does not match the lock file (<c>pinning: block</c>).</summary>
internal sealed record WithheldItem(string Server, string UpstreamName, string What);

/// <summary>
/// A profile's merged list of one kind: the rendered list result (written to clients as is, or a page of it) and
/// the routing table from exposed names to upstream items. Immutable; rebuilt when a member server's list changes.
/// </summary>
internal sealed class Catalog
{
    public Catalog(CatalogKind kind, byte[] resultJson, int[] itemBounds, FrozenDictionary<string, CatalogEntry> entries, ImmutableArray<(string Server, UpstreamError Error)> failures)
    {
        Kind = kind;
        ResultJson = resultJson;
        ItemBounds = itemBounds;
        Entries = entries;
        Failures = failures;
        Lookup = entries.GetAlternateLookup<ReadOnlySpan<char>>();
        Fingerprint = Utilities.Fnv1a.Hash(resultJson);
    }

    public CatalogKind Kind { get; }

    /// <summary>The <c>result</c> of the list request with every item: <c>{"tools":[…]}</c>.</summary>
    public byte[] ResultJson { get; }

    /// <summary>
    /// The list as a 2026-07-28 result (with <c>resultType</c> and the caching hints), made on first use and kept with
    /// the catalog it describes: a new catalog (a change, a reload) gets a new one.
    /// </summary>
    public byte[]? ModernResultJson { get; set; }

    /// <summary>Where item <c>i</c> starts in <see cref="ResultJson"/>: <c>ItemBounds[i]</c>; it ends at <c>ItemBounds[i + 1] - 1</c> (before its comma).</summary>
    public int[] ItemBounds { get; }

    public int Count => ItemBounds.Length - 1;

    public FrozenDictionary<string, CatalogEntry> Entries { get; }

    public FrozenDictionary<string, CatalogEntry>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; }

    /// <summary>Servers whose items are missing because their list could not be fetched.</summary>
    public ImmutableArray<(string Server, UpstreamError Error)> Failures { get; }

    public bool IsComplete => Failures.IsEmpty;

    /// <summary>Items withheld by pinning, by the name they would have had: a call to one is told why.</summary>
    public FrozenDictionary<string, WithheldItem> Withheld { get; init; } = FrozenDictionary<string, WithheldItem>.Empty;

    /// <summary>A stable hash of the rendered list: cursors carry it, so a page of a changed list is refused.</summary>
    public ulong Fingerprint { get; }

    /// <summary>Writes items <c>[start, start + count)</c> as a list result, with <paramref name="nextCursor"/> if given.</summary>
    public void WritePage(IBufferWriter<byte> output, int start, int count, ReadOnlySpan<byte> nextCursor)
    {
        output.Write("{\""u8);
        output.Write(CatalogKinds.ResultPropertyUtf8(Kind));
        output.Write("\":["u8);
        if (count > 0)
        {
            // Items are contiguous, separated by commas: one copy for the whole page.
            var from = ItemBounds[start];
            var to = ItemBounds[start + count] - 1;
            output.Write(ResultJson.AsSpan(from, to - from));
        }

        output.Write("]"u8);
        if (!nextCursor.IsEmpty)
        {
            output.Write(",\"nextCursor\":\""u8);
            output.Write(nextCursor);
            output.Write("\""u8);
        }

        output.Write("}"u8);
    }
}
