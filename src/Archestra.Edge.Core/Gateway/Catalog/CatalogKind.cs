using Archestra.Edge.Protocol.Mcp;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>The named lists a profile merges from its servers.</summary>
internal enum CatalogKind
{
    Tools,
    Prompts,
}

internal static class CatalogKinds
{
    /// <summary>The property of the list result holding the items.</summary>
    public static string ResultProperty(CatalogKind kind) => kind == CatalogKind.Tools ? "tools" : "prompts";

    public static ReadOnlySpan<byte> ResultPropertyUtf8(CatalogKind kind) => kind == CatalogKind.Tools ? "tools"u8 : "prompts"u8;

    public static McpMethod ListChangedNotification(CatalogKind kind)
        => kind == CatalogKind.Tools ? McpMethod.NotificationsToolsListChanged : McpMethod.NotificationsPromptsListChanged;

    public static string Noun(CatalogKind kind) => kind == CatalogKind.Tools ? "tool" : "prompt";
}
