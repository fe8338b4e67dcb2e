using System.Text;
using Archestra.Edge.Gateway;
using Archestra.Edge.Registry;
using static Archestra.Edge.Hosting.Console.ConsoleHtml;

namespace Archestra.Edge.Hosting.Console;

/// <summary>
/// Configuration (for who sees everything): the running file's fingerprint, the last reload's result with its
/// errors at <c>file:line:col</c>, the load's warnings, and the registry catalog, searchable, each entry with the
/// YAML to paste into git.
/// </summary>
internal static class ConsoleConfigPage
{
    /// <summary>Registry entries shown at most per search.</summary>
    internal const int MaxEntries = 30;

    public static string Render(GatewayRuntime runtime, ConfigReloader reloader, string query)
    {
        var snapshot = runtime.Snapshot;
        var html = new StringBuilder();
        html.Append("<table><tbody>")
            .Append("<tr><th>File</th><td><code>").Append(E(snapshot.SourcePath)).Append("</code></td></tr>")
            .Append("<tr><th>Fingerprint</th><td><code data-fingerprint>").Append(E(snapshot.ConfigFingerprint)).Append("</code> <span class=\"muted\">the same on every instance that runs this file</span></td></tr>")
            .Append("<tr><th>Running since</th><td>").Append(E(Time(runtime.StartedAt))).Append("</td></tr>")
            .Append("<tr><th>Last reload</th><td data-reload>");
        if (reloader.Last is not { } last)
        {
            html.Append("none since start (the file is watched; SIGHUP reloads too)");
        }
        else if (last.Error is null)
        {
            html.Append("<span class=\"notice\">succeeded</span> at ").Append(E(Time(last.At)));
        }
        else
        {
            html.Append("<span class=\"error\">refused</span> at ").Append(E(Time(last.At))).Append(": ").Append(E(last.Error)).Append(" — the previous config keeps running");
        }

        html.Append("</td></tr></tbody></table>");
        if (reloader.LastDiagnostics.Count > 0)
        {
            html.Append("<h2>Errors of the refused file</h2><pre class=\"error\" data-diagnostics>")
                .Append(E(string.Join('\n', reloader.LastDiagnostics.Select(static d => d.ToString())))).Append("</pre>");
        }

        if (!snapshot.Warnings.IsEmpty)
        {
            html.Append("<h2>Warnings</h2><pre>").Append(E(string.Join('\n', snapshot.Warnings.Select(static d => d.ToString())))).Append("</pre>");
        }

        html.Append("<h2>Add a server from the registry</h2>")
            .Append("<form class=\"filters\" method=\"get\" action=\"/console/config\"><label>Search<input type=\"search\" name=\"q\" value=\"").Append(E(query))
            .Append("\" placeholder=\"git, files, jira…\"></label><button type=\"submit\">Search</button></form>");
        var (catalog, problems) = RegistryCatalog.Load(snapshot.RegistryCatalogs);
        foreach (var problem in problems)
        {
            html.Append("<p class=\"error\">").Append(E(problem)).Append("</p>");
        }

        var found = catalog.Search(query.Length == 0 ? null : query);
        html.Append("<p class=\"muted\">").Append(found.Count).Append(found.Count == 1 ? " entry" : " entries")
            .Append(found.Count > MaxEntries ? $", the first {MaxEntries} shown" : string.Empty)
            .Append(". Paste an entry under <code>servers:</code> in git (or run <code>archestra-edge registry add NAME</code>), then assign it to a profile.</p>");
        var n = 0;
        foreach (var entry in found.Take(MaxEntries))
        {
            var (yaml, variables, _, problem) = ServerEntryWriter.Render(entry, ServerEntryWriter.ServerName(entry.Name), null);
            html.Append("<div class=\"snippet\" data-entry=\"").Append(E(entry.Name)).Append("\"><div class=\"head\"><strong>").Append(E(entry.Title ?? entry.Name)).Append("</strong><span class=\"muted\">")
                .Append(E(entry.Name)).Append("</span></div>");
            if (entry.Description is { } description)
            {
                html.Append("<p>").Append(E(description)).Append("</p>");
            }

            if (yaml is null)
            {
                html.Append("<p class=\"muted\">").Append(E(problem)).Append("</p>");
            }
            else
            {
                Copyable(html, $"entry-{n++}", yaml);
                if (variables.Count > 0)
                {
                    html.Append(" <span class=\"muted\">set before starting the gateway: ").Append(E(string.Join(", ", variables))).Append("</span>");
                }
            }

            html.Append("</div>");
        }

        return html.ToString();
    }
}
