using System.Buffers;
using System.Text.Json;
using Archestra.Edge.Gateway;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Hosting;

/// <summary>
/// The gateway's status as JSON (<c>GET /admin/status</c>, read by <c>archestra-edge status</c>): the gateway, and
/// per server and replica its state, pid or container, uptime, restarts, last exit, last error and stderr tail.
/// </summary>
internal static class StatusWriter
{
    public static void Write(IBufferWriter<byte> output, GatewayRuntime runtime)
    {
        var now = runtime.TimeProvider.GetUtcNow();
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = JsonRpcWriter.RelaxedOptions.Encoder });
        writer.WriteStartObject();
        writer.WriteStartObject("gateway");
        writer.WriteString("version", Utilities.BuildInfo.Version);
        writer.WriteString("config", runtime.Snapshot.SourcePath);
        writer.WriteString("instance", runtime.Containers.InstanceId);
        writer.WriteString("started_at", runtime.StartedAt);
        writer.WriteNumber("uptime_seconds", (long)(now - runtime.StartedAt).TotalSeconds);
        writer.WriteNumber("sessions", runtime.Sessions.Count);
        writer.WriteEndObject();

        writer.WriteStartArray("servers");
        foreach (var server in runtime.AllServers())
        {
            writer.WriteStartObject();
            writer.WriteString("name", server.Name);
            writer.WriteString("kind", server.Kind);
            writer.WriteString("state", StateName(server.State));
            writer.WriteStartArray("replicas");
            foreach (var replica in server.Replicas)
            {
                WriteReplica(writer, replica, now);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public static string StateName(UpstreamState state) => state switch
    {
        UpstreamState.Stopped => "stopped",
        UpstreamState.Starting => "starting",
        UpstreamState.Ready => "ready",
        UpstreamState.Failed => "failed",
        _ => "crash_loop",
    };

    private static void WriteReplica(Utf8JsonWriter writer, ReplicaStatus replica, DateTimeOffset now)
    {
        writer.WriteStartObject();
        writer.WriteNumber("replica", replica.Index + 1);
        writer.WriteString("state", StateName(replica.State));
        WriteOptional(writer, "id", replica.Identity);
        WriteOptional(writer, "server_info", replica.ServerInfo);
        if (replica.ReadySince is { } since)
        {
            writer.WriteString("ready_since", since);
            writer.WriteNumber("uptime_seconds", (long)(now - since).TotalSeconds);
        }

        writer.WriteNumber("starts", replica.Starts);
        writer.WriteNumber("restarts", replica.Restarts);
        writer.WriteNumber("failures_in_a_row", replica.ConsecutiveFailures);
        WriteOptional(writer, "last_error", replica.LastError);
        WriteOptional(writer, "last_exit", replica.LastExit);
        if (replica.LastExitAt is { } exitAt)
        {
            writer.WriteString("last_exit_at", exitAt);
        }

        if (replica.NextAttemptAt is { } next)
        {
            writer.WriteString("next_attempt_at", next);
        }

        writer.WriteStartArray("stderr_tail");
        foreach (var line in replica.StderrTail)
        {
            writer.WriteStringValue(line);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }
}
