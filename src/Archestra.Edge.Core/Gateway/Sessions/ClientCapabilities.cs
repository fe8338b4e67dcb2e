using System.Text.Json;

namespace Archestra.Edge.Gateway.Sessions;

/// <summary>What a downstream client said it can do in <c>initialize</c>: decides which server-to-client requests reach it.</summary>
internal sealed record ClientCapabilities(bool Sampling, bool ElicitationForm, bool ElicitationUrl, bool Roots)
{
    public static readonly ClientCapabilities None = new(false, false, false, false);

    /// <summary>The same from the raw object (a 2026-07-28 request's <c>_meta</c>), in one reader pass without a document.</summary>
    public static ClientCapabilities Parse(ReadOnlySpan<byte> capabilities)
    {
        var reader = new Utf8JsonReader(capabilities);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return None;
        }

        bool sampling = false, roots = false, elicitation = false, form = false, url = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isSampling = reader.ValueTextEquals("sampling"u8);
            var isRoots = reader.ValueTextEquals("roots"u8);
            var isElicitation = reader.ValueTextEquals("elicitation"u8);
            reader.Read();
            var isObject = reader.TokenType == JsonTokenType.StartObject;
            sampling |= isSampling && isObject;
            roots |= isRoots && isObject;
            if (isElicitation && isObject)
            {
                elicitation = true;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isForm = reader.ValueTextEquals("form"u8);
                    var isUrl = reader.ValueTextEquals("url"u8);
                    reader.Read();
                    form |= isForm && reader.TokenType == JsonTokenType.StartObject;
                    url |= isUrl && reader.TokenType == JsonTokenType.StartObject;
                    reader.Skip();
                }

                continue;
            }

            reader.Skip();
        }

        // An empty elicitation object (2025-06-18 style) means form mode.
        return sampling || roots || elicitation ? new ClientCapabilities(sampling, form || (elicitation && !url), url, roots) : None;
    }

    public static ClientCapabilities Parse(JsonElement capabilities)
    {
        if (capabilities.ValueKind != JsonValueKind.Object)
        {
            return None;
        }

        var sampling = capabilities.TryGetProperty("sampling", out var s) && s.ValueKind == JsonValueKind.Object;
        var roots = capabilities.TryGetProperty("roots", out var r) && r.ValueKind == JsonValueKind.Object;
        bool form = false, url = false;
        if (capabilities.TryGetProperty("elicitation", out var e) && e.ValueKind == JsonValueKind.Object)
        {
            var hasForm = e.TryGetProperty("form", out var f) && f.ValueKind == JsonValueKind.Object;
            url = e.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.Object;
            // An empty elicitation object (2025-06-18 style) means form mode.
            form = hasForm || !url;
        }

        return new ClientCapabilities(sampling, form, url, roots);
    }
}
