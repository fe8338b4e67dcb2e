using System.Text;
using System.Text.Json;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Tests.Infrastructure;

/// <summary>Upstream lists made from JSON items, as <c>ServerListFetcher</c> would hold them.</summary>
internal static class ServerLists
{
    /// <summary>A list of items keyed by <c>name</c> (tools, prompts).</summary>
    public static ServerList Of(params string[] items) => Keyed("name", items);

    /// <summary>A list of items keyed by <paramref name="key"/> (<c>uri</c>, <c>uriTemplate</c>).</summary>
    public static ServerList Keyed(string key, params string[] items)
        => new([.. items.Select(i =>
        {
            var raw = Encoding.UTF8.GetBytes(i);
            using var document = JsonDocument.Parse(raw);
            return new ServerListItem(document.RootElement.GetProperty(key).GetString()!, raw, ServerListFetcher.FindToken(raw, Encoding.UTF8.GetBytes(key)));
        })], UpstreamError.None);
}
