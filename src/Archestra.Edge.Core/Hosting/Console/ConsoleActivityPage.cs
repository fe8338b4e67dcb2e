using System.Globalization;
using System.Text;
using Archestra.Edge.Observability.Audit;
using Microsoft.AspNetCore.Http;
using static Archestra.Edge.Hosting.Console.ConsoleHtml;

namespace Archestra.Edge.Hosting.Console;

/// <summary>
/// Activity: the audit trail's recent calls, filtered by profile, server, principal and outcome, and per server the
/// call rate and latency of the last hour. A viewer who does not see everything sees their own calls only.
/// </summary>
internal static class ConsoleActivityPage
{
    /// <summary>Records read at most (the newest), and rows shown at most.</summary>
    internal const int MaxRead = 5000;
    internal const int MaxShown = 200;

    public static string Render(IReadOnlyList<AuditRecord> records, IQueryCollection query, DateTimeOffset now, bool auditEnabled)
    {
        if (!auditEnabled)
        {
            return "<p>The audit trail is off (observability.audit.enabled: false), so there is no activity to show.</p>";
        }

        var filters = new (string Key, string Label, Func<AuditRecord, string> Of)[]
        {
            ("profile", "Profile", static r => r.Profile),
            ("server", "Server", static r => r.Server),
            ("principal", "Who", static r => r.Principal),
            ("outcome", "Outcome", static r => r.Outcome),
        };
        var html = new StringBuilder();
        html.Append("<h2>Calls per server, last hour</h2>");
        html.Append(ConsoleCharts.PerServer([.. records.Where(r => r.At >= now.AddHours(-1))], now));

        html.Append("<h2>Recent calls</h2><form class=\"filters\" method=\"get\" action=\"/console/activity\">");
        var matching = records.AsEnumerable();
        foreach (var (key, label, of) in filters)
        {
            var chosen = query[key].ToString();
            html.Append("<label>").Append(label).Append("<select name=\"").Append(key).Append("\"><option value=\"\">any</option>");
            foreach (var value in records.Select(of).Where(static v => v.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                html.Append("<option").Append(value == chosen ? " selected" : string.Empty).Append(" value=\"").Append(E(value)).Append("\">").Append(E(value)).Append("</option>");
            }

            html.Append("</select></label>");
            if (chosen.Length > 0)
            {
                matching = matching.Where(r => of(r) == chosen);
            }
        }

        html.Append("<button type=\"submit\">Filter</button></form>");
        var shown = matching.Reverse().Take(MaxShown).ToList();
        if (shown.Count == 0)
        {
            html.Append("<p class=\"muted\">No calls match (the last 24 hours are shown).</p>");
            return html.ToString();
        }

        html.Append("<table><thead><tr><th>When</th><th>Who</th><th>Profile</th><th>Server</th><th>Request</th><th>Outcome</th><th>Took</th></tr></thead><tbody>");
        foreach (var record in shown)
        {
            var ok = record.Outcome is "ok";
            html.Append("<tr data-call><td>").Append(E(Time(record.At))).Append("</td><td>").Append(E(record.Principal)).Append("</td><td>").Append(E(record.Profile))
                .Append("</td><td>").Append(E(record.Server)).Append("</td><td><code>").Append(E(record.Method)).Append("</code> ").Append(E(record.Item))
                .Append("</td><td class=\"").Append(ok ? "outcome-ok" : "outcome-bad").Append("\">").Append(E(record.Outcome));
            if (record.Decision is { } decision)
            {
                html.Append(" <span class=\"tag\">").Append(E(decision)).Append("</span>");
            }

            html.Append("</td><td>").Append(record.DurationMilliseconds.ToString("0.#", CultureInfo.InvariantCulture)).Append(" ms</td></tr>");
        }

        html.Append("</tbody></table>");
        return html.ToString();
    }
}
