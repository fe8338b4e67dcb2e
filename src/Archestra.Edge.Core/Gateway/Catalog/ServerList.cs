using System.Collections.Immutable;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>One item of an upstream's list: its name (a URI or URI template for resources), and its JSON exactly as the upstream sent it.</summary>
internal sealed record ServerListItem(string Name, byte[] Raw, JsonRange NameToken);

/// <summary>An upstream's complete list (all pages), or why it could not be fetched.</summary>
internal sealed record ServerList(ImmutableArray<ServerListItem> Items, UpstreamError Error)
{
    public static readonly ServerList Empty = new([], UpstreamError.None);

    public bool Failed => Error.IsError;

    /// <summary>The server announces changes of this list (so it need not be re-read on a timer).</summary>
    public bool AnnouncesChanges { get; init; }

    private Model.PinnedItem[]? _digests;

    /// <summary>The pinning digests of <see cref="Items"/> (same order), computed on first use and kept with the list.</summary>
    public Model.PinnedItem[] Digests
    {
        get
        {
            if (_digests is { } done)
            {
                return done;
            }

            var digests = new Model.PinnedItem[Items.Length];
            for (var i = 0; i < digests.Length; i++)
            {
                digests[i] = Pinning.ItemDefinition.Digest(Items[i].Raw);
            }

            return _digests = digests;
        }
    }

    /// <summary>The last check of this list against pins (lists are shared by profiles; the check is made once per lock).</summary>
    internal Pinning.PinMemo? PinOutcome { get; set; }

    /// <summary>Whether two lists hold the same items, byte for byte, in the same order.</summary>
    public bool SameItems(ServerList other)
    {
        if (Failed || other.Failed || Items.Length != other.Items.Length)
        {
            return false;
        }

        for (var i = 0; i < Items.Length; i++)
        {
            if (!Items[i].Raw.AsSpan().SequenceEqual(other.Items[i].Raw))
            {
                return false;
            }
        }

        return true;
    }
}
