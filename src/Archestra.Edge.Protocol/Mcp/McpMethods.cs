using System.Text;

namespace Archestra.Edge.Protocol.Mcp;

/// <summary>Maps method names (UTF-8) to <see cref="McpMethod"/> and back without allocating.</summary>
public static class McpMethods
{
    private static readonly (McpMethod Method, byte[] Name)[] s_table =
    [
        (McpMethod.Initialize, "initialize"u8.ToArray()),
        (McpMethod.Ping, "ping"u8.ToArray()),
        (McpMethod.ToolsList, "tools/list"u8.ToArray()),
        (McpMethod.ToolsCall, "tools/call"u8.ToArray()),
        (McpMethod.PromptsList, "prompts/list"u8.ToArray()),
        (McpMethod.PromptsGet, "prompts/get"u8.ToArray()),
        (McpMethod.ResourcesList, "resources/list"u8.ToArray()),
        (McpMethod.ResourcesRead, "resources/read"u8.ToArray()),
        (McpMethod.ResourcesTemplatesList, "resources/templates/list"u8.ToArray()),
        (McpMethod.ResourcesSubscribe, "resources/subscribe"u8.ToArray()),
        (McpMethod.ResourcesUnsubscribe, "resources/unsubscribe"u8.ToArray()),
        (McpMethod.CompletionComplete, "completion/complete"u8.ToArray()),
        (McpMethod.LoggingSetLevel, "logging/setLevel"u8.ToArray()),
        (McpMethod.TasksGet, "tasks/get"u8.ToArray()),
        (McpMethod.TasksResult, "tasks/result"u8.ToArray()),
        (McpMethod.TasksList, "tasks/list"u8.ToArray()),
        (McpMethod.TasksCancel, "tasks/cancel"u8.ToArray()),
        (McpMethod.ServerDiscover, "server/discover"u8.ToArray()),
        (McpMethod.SubscriptionsListen, "subscriptions/listen"u8.ToArray()),
        (McpMethod.SamplingCreateMessage, "sampling/createMessage"u8.ToArray()),
        (McpMethod.ElicitationCreate, "elicitation/create"u8.ToArray()),
        (McpMethod.RootsList, "roots/list"u8.ToArray()),
        (McpMethod.NotificationsInitialized, "notifications/initialized"u8.ToArray()),
        (McpMethod.NotificationsCancelled, "notifications/cancelled"u8.ToArray()),
        (McpMethod.NotificationsProgress, "notifications/progress"u8.ToArray()),
        (McpMethod.NotificationsMessage, "notifications/message"u8.ToArray()),
        (McpMethod.NotificationsRootsListChanged, "notifications/roots/list_changed"u8.ToArray()),
        (McpMethod.NotificationsToolsListChanged, "notifications/tools/list_changed"u8.ToArray()),
        (McpMethod.NotificationsPromptsListChanged, "notifications/prompts/list_changed"u8.ToArray()),
        (McpMethod.NotificationsResourcesListChanged, "notifications/resources/list_changed"u8.ToArray()),
        (McpMethod.NotificationsResourcesUpdated, "notifications/resources/updated"u8.ToArray()),
        (McpMethod.NotificationsElicitationComplete, "notifications/elicitation/complete"u8.ToArray()),
        (McpMethod.NotificationsTasksStatus, "notifications/tasks/status"u8.ToArray()),
        (McpMethod.NotificationsSubscriptionsAcknowledged, "notifications/subscriptions/acknowledged"u8.ToArray()),
    ];

    // Indexed by McpMethod; filled from the table once.
    private static readonly byte[][] s_names = BuildNames();

    /// <summary>Looks a method name up. Unrecognised names give <see cref="McpMethod.Unknown"/>.</summary>
    public static McpMethod Parse(ReadOnlySpan<byte> utf8Name)
    {
        // Linear over ~30 short entries with a length pre-check: cheaper than hashing for names this short.
        var table = s_table;
        for (var i = 0; i < table.Length; i++)
        {
            var name = table[i].Name;
            if (name.Length == utf8Name.Length && utf8Name.SequenceEqual(name))
            {
                return table[i].Method;
            }
        }

        return McpMethod.Unknown;
    }

    /// <summary>The wire name of a recognised method (UTF-8).</summary>
    public static ReadOnlySpan<byte> NameOf(McpMethod method) => s_names[(int)method];

    public static string NameString(McpMethod method) => Encoding.UTF8.GetString(s_names[(int)method]);

    /// <summary>True for notifications that name a request id in <c>params.requestId</c>.</summary>
    public static bool IsNotification(McpMethod method) => method >= McpMethod.NotificationsInitialized;

    private static byte[][] BuildNames()
    {
        var names = new byte[Enum.GetValues<McpMethod>().Length][];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = [];
        }

        foreach (var (method, name) in s_table)
        {
            names[(int)method] = name;
        }

        return names;
    }
}
