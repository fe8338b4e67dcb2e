namespace Archestra.Edge.Gateway.Sessions;

/// <summary>MCP (syslog) log levels by severity: debug = 0 … emergency = 7.</summary>
internal static class LogLevels
{
    public const int Unset = -1;

    private static readonly string[] s_names = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

    /// <summary>The wire name of a level (0 = debug … 7 = emergency).</summary>
    public static string Name(int level) => s_names[level];

    public static int Parse(ReadOnlySpan<byte> level) => level switch
    {
        _ when level.SequenceEqual("debug"u8) => 0,
        _ when level.SequenceEqual("info"u8) => 1,
        _ when level.SequenceEqual("notice"u8) => 2,
        _ when level.SequenceEqual("warning"u8) => 3,
        _ when level.SequenceEqual("error"u8) => 4,
        _ when level.SequenceEqual("critical"u8) => 5,
        _ when level.SequenceEqual("alert"u8) => 6,
        _ when level.SequenceEqual("emergency"u8) => 7,
        _ => Unset,
    };
}
