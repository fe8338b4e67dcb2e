using System.Text.Json;

namespace Archestra.Edge.Gateway.Sessions;

/// <summary>What a downstream client said it can do in <c>initialize</c>: decides which server-to-client requests reach it.</summary>
internal sealed record ClientCapabilities(bool Sampling, bool ElicitationForm, bool ElicitationUrl, bool Roots)
{
    public static readonly ClientCapabilities None = new(false, false, false, false);

    /// <summary>From the raw object (a 2026-07-28 request's <c>_meta</c>, or <c>initialize</c>'s params), in one reader pass.</summary>
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

    /// <summary>From <c>initialize</c>'s document: the element's own bytes, read the same way.</summary>
    public static ClientCapabilities Parse(JsonElement capabilities)
        => capabilities.ValueKind == JsonValueKind.Object ? Parse(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(capabilities)) : None;
}
