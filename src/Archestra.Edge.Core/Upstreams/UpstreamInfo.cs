namespace Archestra.Edge.Upstreams;

/// <summary>What an upstream said about itself when it was initialized.</summary>
internal sealed record UpstreamInfo(
    string ProtocolVersion,
    string? ServerName,
    string? ServerVersion,
    bool Tools,
    bool ToolsListChanged,
    bool Prompts,
    bool PromptsListChanged,
    bool Resources,
    bool ResourcesSubscribe,
    bool ResourcesListChanged,
    bool Logging,
    bool Completions)
{
    public static readonly UpstreamInfo Empty = new(string.Empty, null, null, false, false, false, false, false, false, false, false, false);
}
