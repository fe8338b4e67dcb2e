using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>The lists a profile merges from its servers.</summary>
internal enum CatalogKind
{
    Tools,
    Prompts,
    Resources,
    ResourceTemplates,
}

internal static class CatalogKinds
{
    public static ReadOnlySpan<CatalogKind> All => [CatalogKind.Tools, CatalogKind.Prompts, CatalogKind.Resources, CatalogKind.ResourceTemplates];

    /// <summary>The property of the list result holding the items.</summary>
    public static string ResultProperty(CatalogKind kind) => kind switch
    {
        CatalogKind.Tools => "tools",
        CatalogKind.Prompts => "prompts",
        CatalogKind.Resources => "resources",
        _ => "resourceTemplates",
    };

    public static ReadOnlySpan<byte> ResultPropertyUtf8(CatalogKind kind) => kind switch
    {
        CatalogKind.Tools => "tools"u8,
        CatalogKind.Prompts => "prompts"u8,
        CatalogKind.Resources => "resources"u8,
        _ => "resourceTemplates"u8,
    };

    /// <summary>The item property that identifies (and routes) an item.</summary>
    public static ReadOnlySpan<byte> KeyPropertyUtf8(CatalogKind kind) => kind switch
    {
        CatalogKind.Resources => "uri"u8,
        CatalogKind.ResourceTemplates => "uriTemplate"u8,
        _ => "name"u8,
    };

    public static string KeyProperty(CatalogKind kind) => kind switch
    {
        CatalogKind.Resources => "uri",
        CatalogKind.ResourceTemplates => "uriTemplate",
        _ => "name",
    };

    public static ReadOnlySpan<byte> ListMethodUtf8(CatalogKind kind) => kind switch
    {
        CatalogKind.Tools => "tools/list"u8,
        CatalogKind.Prompts => "prompts/list"u8,
        CatalogKind.Resources => "resources/list"u8,
        _ => "resources/templates/list"u8,
    };

    public static McpMethod ListChangedNotification(CatalogKind kind) => kind switch
    {
        CatalogKind.Tools => McpMethod.NotificationsToolsListChanged,
        CatalogKind.Prompts => McpMethod.NotificationsPromptsListChanged,
        _ => McpMethod.NotificationsResourcesListChanged,
    };

    /// <summary>Names (tools, prompts) are prefixed with the server; URIs (resources, templates) get <c>server+</c>.</summary>
    public static bool IsUriKind(CatalogKind kind) => kind is CatalogKind.Resources or CatalogKind.ResourceTemplates;

    /// <summary>Whether the server offers this kind at all (from its initialize result).</summary>
    public static bool IsSupported(UpstreamInfo info, CatalogKind kind) => kind switch
    {
        CatalogKind.Tools => info.Tools,
        CatalogKind.Prompts => info.Prompts,
        _ => info.Resources,
    };

    /// <summary>Whether the server announces changes of this list (otherwise the gateway re-reads it on a timer).</summary>
    public static bool AnnouncesChanges(UpstreamInfo info, CatalogKind kind) => kind switch
    {
        CatalogKind.Tools => info.ToolsListChanged,
        CatalogKind.Prompts => info.PromptsListChanged,
        _ => info.ResourcesListChanged,
    };

    public static string Noun(CatalogKind kind) => kind switch
    {
        CatalogKind.Tools => "tool",
        CatalogKind.Prompts => "prompt",
        CatalogKind.Resources => "resource",
        _ => "resource template",
    };
}
