using System.Globalization;
using System.Net;
using System.Text;
using Archestra.Edge.Identity;
using Archestra.Edge.Model;
using Archestra.Edge.Upstreams.OAuth;

namespace Archestra.Edge.Hosting.Connections;

/// <summary>The connect page's HTML: every value from outside encoded, no script, links for what leaves the gateway and forms for what stays.</summary>
internal static class ConnectPageHtml
{
    /// <summary>One server on the page: the user's own connection, if any, and whose connection their calls use now.</summary>
    public sealed record Row(string Server, UpstreamConnection? Own, string? InUse)
    {
        public static Row Of(ServerModel server, Principal user, UpstreamConnections connections)
        {
            var own = connections.Load(server.Name, ConnectionOwner.OfUser(user.Id));
            var (inUse, _) = connections.OwnerFor(server.Name, server.Remote!.OAuth!, user);
            return new Row(server.Name, own, inUse);
        }
    }

    public static string SignIn(string server, string scope, string? problem)
    {
        var error = problem is null ? string.Empty : $"<p class=\"error\" role=\"alert\">{Encode(problem)}</p>";
        return $"""
            <p>Some MCP servers of this gateway act with your own account there. Sign in to see and connect them.</p>
            {error}
            <form method="post" action="/connect/sign-in">
              <input type="hidden" name="server" value="{Encode(server)}">
              <input type="hidden" name="scope" value="{Encode(scope)}">
              <label for="token">Your personal token (<code>archestra_…</code>, scope <code>user:…</code>)</label>
              <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" autofocus>
              <div class="buttons"><button type="submit">Sign in</button></div>
            </form>
            """;
    }

    public static string List(Principal user, IReadOnlyList<Row> rows, string wanted, string scope, string csrf, string? notice, string? problem)
    {
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"<p>Signed in as <strong>{Encode(user.Id)}</strong>.</p>");
        if (notice is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"notice\" role=\"status\">{Encode(notice)}</p>");
        }

        if (problem is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"error\" role=\"alert\">{Encode(problem)}</p>");
        }

        if (rows.Count == 0)
        {
            html.Append("<p>No server of this gateway takes personal connections.</p>");
        }
        else
        {
            html.Append("<table><thead><tr><th>Server</th><th>Your connection</th><th></th></tr></thead><tbody>");
            foreach (var row in rows)
            {
                var isWanted = row.Server == wanted;
                var start = $"/connect/start?server={Uri.EscapeDataString(row.Server)}&csrf={Uri.EscapeDataString(csrf)}{(isWanted && scope.Length > 0 ? $"&scope={Uri.EscapeDataString(scope)}" : string.Empty)}";
                html.Append(CultureInfo.InvariantCulture, $"<tr data-server=\"{Encode(row.Server)}\"{(isWanted ? " class=\"wanted\"" : string.Empty)}><td><strong>{Encode(row.Server)}</strong>");
                html.Append("</td><td class=\"state\">");
                if (row.Own is { } own)
                {
                    html.Append("Connected");
                    if (own.Tokens.Scope is { Length: > 0 } granted)
                    {
                        html.Append(CultureInfo.InvariantCulture, $" <span class=\"muted\">(scope: {Encode(granted)})</span>");
                    }

                    if (isWanted && scope.Length > 0)
                    {
                        html.Append(CultureInfo.InvariantCulture, $"<br><span class=\"error\">The server asks for more: {Encode(scope)}. Reconnect to grant it.</span>");
                    }
                }
                else
                {
                    html.Append("Not connected");
                    if (row.InUse is { } owner)
                    {
                        html.Append(CultureInfo.InvariantCulture, $"<br><span class=\"muted\">Your calls use {Encode(owner == ConnectionOwner.Org ? "the organisation's connection" : $"the connection of {owner}")}.</span>");
                    }
                }

                html.Append("</td><td>");
                html.Append(CultureInfo.InvariantCulture, $"<a class=\"button\" href=\"{Encode(start)}\">{(row.Own is null ? "Connect" : "Reconnect")}</a>");
                if (row.Own is not null)
                {
                    html.Append(CultureInfo.InvariantCulture, $"""
                         <form class="inline" method="post" action="/connect/disconnect"><input type="hidden" name="server" value="{Encode(row.Server)}"><input type="hidden" name="csrf" value="{Encode(csrf)}"><button type="submit" class="secondary">Disconnect</button></form>
                        """);
                }

                html.Append("</td></tr>");
            }

            html.Append("</tbody></table>");
        }

        html.Append(CultureInfo.InvariantCulture, $"""<form method="post" action="/connect/sign-out" class="buttons"><button type="submit" class="secondary">Sign out</button></form>""");
        return html.ToString();
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
