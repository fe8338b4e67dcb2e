using System.Collections.Frozen;
using System.Collections.Immutable;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>Where an exposed name leads: the server, and the upstream's own name for the item.</summary>
internal sealed record CatalogEntry(UpstreamServer Server, string UpstreamName, byte[] UpstreamNameToken);

/// <summary>
/// A profile's merged list of one kind: the rendered list result (written to clients as is) and the routing
/// table from exposed names to upstream items. Immutable; rebuilt when a member server's list changes.
/// </summary>
internal sealed class Catalog
{
    public Catalog(byte[] resultJson, FrozenDictionary<string, CatalogEntry> entries, ImmutableArray<(string Server, UpstreamError Error)> failures)
    {
        ResultJson = resultJson;
        Entries = entries;
        Failures = failures;
        Lookup = entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The <c>result</c> of the list request: <c>{"tools":[…]}</c>.</summary>
    public byte[] ResultJson { get; }

    public FrozenDictionary<string, CatalogEntry> Entries { get; }

    public FrozenDictionary<string, CatalogEntry>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; }

    /// <summary>Servers whose items are missing because their list could not be fetched.</summary>
    public ImmutableArray<(string Server, UpstreamError Error)> Failures { get; }

    public bool IsComplete => Failures.IsEmpty;
}
