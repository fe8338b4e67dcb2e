using System.Buffers;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text.Json;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>
/// Fetches a whole list (tools, prompts, resources or resource templates) from an upstream, following its cursors to the end. Cold path:
/// the result is cached until the upstream says the list changed.
/// </summary>
internal static class ServerListFetcher
{
    // A server that keeps handing out cursors is cut off here rather than looped on forever.
    private const int MaxPages = 200;

    private static readonly byte[][] s_methods =
    [
        CatalogKinds.ListMethodUtf8(CatalogKind.Tools).ToArray(),
        CatalogKinds.ListMethodUtf8(CatalogKind.Prompts).ToArray(),
        CatalogKinds.ListMethodUtf8(CatalogKind.Resources).ToArray(),
        CatalogKinds.ListMethodUtf8(CatalogKind.ResourceTemplates).ToArray(),
    ];

    public static async Task<ServerList> FetchAsync(UpstreamServer server, CatalogKind kind, TimeSpan timeout, TimeProvider timeProvider)
    {
        using var cts = new CancellationTokenSource(timeout, timeProvider);
        try
        {
            var (session, error) = await server.GetSessionAsync(cts.Token).ConfigureAwait(false);
            if (session is null)
            {
                return new ServerList([], error);
            }

            if (!CatalogKinds.IsSupported(session.Info, kind))
            {
                return ServerList.Empty;
            }

            var announces = CatalogKinds.AnnouncesChanges(session.Info, kind);

            var items = ImmutableArray.CreateBuilder<ServerListItem>();
            string? cursor = null;
            for (var page = 0; page < MaxPages; page++)
            {
                var (nextCursor, pageError) = await FetchPageAsync(session, kind, cursor, items, cts.Token).ConfigureAwait(false);
                if (pageError.IsError)
                {
                    return new ServerList([], pageError);
                }

                if (nextCursor is null)
                {
                    return new ServerList(items.ToImmutable(), UpstreamError.None) { AnnouncesChanges = announces };
                }

                cursor = nextCursor;
            }

            return new ServerList([], UpstreamError.Failed($"the {CatalogKinds.ResultProperty(kind)} list did not end after {MaxPages} pages"));
        }
        catch (OperationCanceledException)
        {
            return new ServerList([], new UpstreamError(UpstreamErrorKind.Timeout, $"listing {CatalogKinds.ResultProperty(kind)} took longer than {Utilities.Units.FormatDuration(timeout)}"));
        }
    }

    private static async Task<(string? NextCursor, UpstreamError Error)> FetchPageAsync(
        UpstreamSession session, CatalogKind kind, string? cursor, ImmutableArray<ServerListItem>.Builder items, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> parameters = default;
        if (cursor is not null)
        {
            var writer = new ArrayBufferWriter<byte>();
            writer.Write("{\"cursor\":"u8);
            JsonRpcWriter.WriteString(writer, cursor);
            writer.Write("}"u8);
            parameters = writer.WrittenMemory;
        }

        var (response, error) = await session.RequestAsync(s_methods[(int)kind], parameters, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return (null, error);
        }

        using (response)
        {
            if (response.Envelope.Kind == JsonRpcMessageKind.ErrorResponse)
            {
                return (null, UpstreamError.Failed(UpstreamSession.DescribeError(response.Span, response.Envelope.ErrorObject)));
            }

            return ParseResult(response.Envelope.Result.Slice(response.Span), kind, items);
        }
    }

    private static (string? NextCursor, UpstreamError Error) ParseResult(ReadOnlySpan<byte> result, CatalogKind kind, ImmutableArray<ServerListItem>.Builder items)
    {
        try
        {
            using var document = JsonDocument.Parse(result.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(CatalogKinds.ResultProperty(kind), out var array) || array.ValueKind != JsonValueKind.Array)
            {
                return (null, UpstreamError.Failed($"the list result has no '{CatalogKinds.ResultProperty(kind)}' array"));
            }

            var key = CatalogKinds.KeyProperty(kind);
            foreach (var element in array.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(key, out var name) || name.ValueKind != JsonValueKind.String)
                {
                    continue; // an item without its name (or URI) cannot be routed; skip it
                }

                var raw = JsonMarshal.GetRawUtf8Value(element).ToArray();
                items.Add(new ServerListItem(name.GetString()!, raw, FindToken(raw, CatalogKinds.KeyPropertyUtf8(kind))));
            }

            var next = root.TryGetProperty("nextCursor", out var cursorElement) && cursorElement.ValueKind == JsonValueKind.String
                ? cursorElement.GetString()
                : null;
            return (string.IsNullOrEmpty(next) ? null : next, UpstreamError.None);
        }
        catch (JsonException ex)
        {
            return (null, UpstreamError.Failed($"the list result is not valid JSON: {ex.Message}"));
        }
    }

    /// <summary>Where the top-level <c>"name"</c> value sits inside an item's raw JSON.</summary>
    internal static JsonRange FindNameToken(ReadOnlySpan<byte> raw) => FindToken(raw, "name"u8);

    /// <summary>Where the value of a top-level property sits inside an item's raw JSON.</summary>
    internal static JsonRange FindToken(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> property)
    {
        var reader = new Utf8JsonReader(raw);
        reader.Read(); // StartObject
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isName = reader.ValueTextEquals(property);
            reader.Read();
            if (isName)
            {
                var start = (int)reader.TokenStartIndex;
                return new JsonRange(start, (int)reader.BytesConsumed - start);
            }

            reader.Skip();
        }

        return default;
    }
}
