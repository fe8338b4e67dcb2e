namespace Archestra.Edge.Protocol.Mcp;

/// <summary>The MCP methods the gateway recognises. Anything else is <see cref="Unknown"/> and is answered or relayed as such.</summary>
public enum McpMethod : byte
{
    None = 0,
    Unknown,

    // client -> server requests
    Initialize,
    Ping,
    ToolsList,
    ToolsCall,
    PromptsList,
    PromptsGet,
    ResourcesList,
    ResourcesRead,
    ResourcesTemplatesList,
    ResourcesSubscribe,
    ResourcesUnsubscribe,
    CompletionComplete,
    LoggingSetLevel,
    TasksGet,
    TasksResult,
    TasksList,
    TasksCancel,

    // 2026-07-28: the stateless era's own requests
    ServerDiscover,
    SubscriptionsListen,

    // server -> client requests
    SamplingCreateMessage,
    ElicitationCreate,
    RootsList,

    // notifications (either direction)
    NotificationsInitialized,
    NotificationsCancelled,
    NotificationsProgress,
    NotificationsMessage,
    NotificationsRootsListChanged,
    NotificationsToolsListChanged,
    NotificationsPromptsListChanged,
    NotificationsResourcesListChanged,
    NotificationsResourcesUpdated,
    NotificationsElicitationComplete,
    NotificationsTasksStatus,
    NotificationsSubscriptionsAcknowledged,
}
