using System.Text.Json;

namespace Archestra.Edge.Gateway.Sessions;

/// <summary>What a downstream client said it can do in <c>initialize</c>: decides which server-to-client requests reach it.</summary>
internal sealed record ClientCapabilities(bool Sampling, bool ElicitationForm, bool ElicitationUrl, bool Roots)
{
    public static readonly ClientCapabilities None = new(false, false, false, false);

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
