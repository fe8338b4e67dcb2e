using System.Text;
using Archestra.Edge.Contracts;
using Archestra.Edge.Gateway;
using static Archestra.Edge.Hosting.Console.ConsoleHtml;

namespace Archestra.Edge.Hosting.Console;

/// <summary>
/// Servers: each server's replicas with state, uptime, restarts, the last exit and error, the stderr tail (for who
/// sees everything: a server's output is the operator's business), and the freshness of its tool list, with the
/// state said in plain words. The table is one fragment, sent again over server-sent events when it changes.
/// </summary>
internal static class ConsoleServersPage
{
    public static string Page(string table)
        => $"<p class=\"live\">Updates by itself</p><div data-live=\"/console/servers/events\">{table}</div>";

    public static string Table(GatewayRuntime runtime, ConsoleViewer viewer)
    {
        var status = StatusReport.Of(runtime);
        var visible = viewer.Servers(runtime);
        var now = runtime.TimeProvider.GetUtcNow();
        var html = new StringBuilder();
        html.Append("<table><thead><tr><th>Server</th><th>Replica</th><th>State</th><th>Up</th><th>Restarts</th><th>Tool list</th><th>What happened</th></tr></thead><tbody>");
        foreach (var server in status.Servers.Where(s => visible.Contains(s.Name)))
        {
            var (readAt, tools, listError) = runtime.ToolListOf(server.Name);
            var list = readAt is null ? "not read yet"
                : listError is not null ? $"failed {Ago(now - readAt.Value)} ago"
                : $"{tools} tools, read {Ago(now - readAt.Value)} ago";
            var replicas = server.Replicas.Count == 0 ? [null] : server.Replicas.Cast<ReplicaStatusView?>().ToList();
            for (var i = 0; i < replicas.Count; i++)
            {
                var replica = replicas[i];
                html.Append("<tr data-server=\"").Append(E(server.Name)).Append("\">");
                if (i == 0)
                {
                    html.Append("<td rowspan=\"").Append(replicas.Count).Append("\"><strong>").Append(E(server.Name)).Append("</strong><br><span class=\"muted\">")
                        .Append(E(server.Kind)).Append("</span></td>");
                }

                var state = replica?.State ?? server.State;
                html.Append("<td>").Append(replica?.Replica.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "–").Append("</td>")
                    .Append("<td><span class=\"state ").Append(E(state)).Append("\">").Append(E(state.Replace('_', ' '))).Append("</span></td>")
                    .Append("<td>").Append(E(Duration(replica?.UptimeSeconds))).Append("</td>")
                    .Append("<td>").Append(replica?.Restarts ?? 0).Append("</td>");
                if (i == 0)
                {
                    html.Append("<td rowspan=\"").Append(replicas.Count).Append("\">").Append(E(list));
                    if (listError is not null)
                    {
                        html.Append("<br><span class=\"error\">").Append(E(listError)).Append("</span>");
                    }

                    html.Append("</td>");
                }

                html.Append("<td>").Append(E(Explain(state, replica, now)));
                if (replica?.LastExit is { } exit)
                {
                    html.Append("<br><span class=\"muted\">last exit ").Append(E(Time(replica.LastExitAt))).Append(": ").Append(E(exit)).Append("</span>");
                }

                if (viewer.SeesEverything && replica is { StderrTail.Count: > 0 })
                {
                    html.Append("<details><summary>stderr (last ").Append(replica.StderrTail.Count).Append(" lines)</summary><pre>")
                        .Append(E(string.Join('\n', replica.StderrTail))).Append("</pre></details>");
                }

                html.Append("</td></tr>");
            }
        }

        html.Append("</tbody></table>");
        return html.ToString();
    }

    /// <summary>The state in plain words: what it means and what happens next.</summary>
    internal static string Explain(string state, ReplicaStatusView? replica, DateTimeOffset now)
    {
        var next = replica?.NextAttemptAt is { } at ? $" The next attempt is in {Ago(at - now)}." : string.Empty;
        var error = replica?.LastError is { } last ? $" Last error: {last}" : string.Empty;
        return state switch
        {
            "ready" => replica?.ServerInfo is { } info ? $"Running: {info}{(replica.ProtocolVersion is { } version ? $", speaking {version}" : string.Empty)}." : "Running.",
            "starting" => "Starting: launching it and waiting for it to answer initialize.",
            "stopped" => replica?.LastExit is null ? "Not running: it starts on first use (start: lazy)." : "Stopped (idle, or by the gateway); it starts again on the next call.",
            "failed" => $"Its last start or session failed, {replica?.FailuresInARow ?? 0} time(s) in a row; the gateway retries with back-off.{next}{error}",
            "crash_loop" => $"In a crash loop: it failed {replica?.FailuresInARow ?? 0} times in a row, so the gateway stopped restarting it for a while (restart.crash_loop_pause) and calls to it get an error saying so.{next}{error}",
            _ => state,
        };
    }

    private static string Ago(TimeSpan span) => Duration((long)Math.Max(0, span.TotalSeconds));
}
