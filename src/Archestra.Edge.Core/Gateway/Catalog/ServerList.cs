using System.Collections.Immutable;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>One item of an upstream's list: its name, and its JSON exactly as the upstream sent it.</summary>
internal sealed record ServerListItem(string Name, byte[] Raw, JsonRange NameToken);

/// <summary>An upstream's complete list (all pages), or why it could not be fetched.</summary>
internal sealed record ServerList(ImmutableArray<ServerListItem> Items, UpstreamError Error)
{
    public static readonly ServerList Empty = new([], UpstreamError.None);

    public bool Failed => Error.IsError;
}
