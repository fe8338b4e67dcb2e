using System.Text;
using System.Text.Json;
using Archestra.Edge.Gateway;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Model;
using static Archestra.Edge.Hosting.Console.ConsoleHtml;

namespace Archestra.Edge.Hosting.Console;

/// <summary>
/// Profiles: the list a viewer may see, and one profile as its clients see it — every tool, prompt and resource
/// under its final name, where it comes from, what curation did — with who may use it and how to connect.
/// Curation is shown by what it does, never by its values (fixed arguments name their arguments only).
/// </summary>
internal static class ConsoleProfilesPage
{
    public static string List(GatewayRuntime runtime, ConsoleViewer viewer)
    {
        var html = new StringBuilder();
        var profiles = viewer.Profiles(runtime).ToList();
        if (profiles.Count == 0)
        {
            return "<p>No profile is open to you.</p>";
        }

        html.Append("<table><thead><tr><th>Profile</th><th>Endpoint</th><th>Servers</th><th>Who may use it</th><th>Listed</th></tr></thead><tbody>");
        foreach (var profile in profiles)
        {
            var model = profile.Model;
            html.Append("<tr data-profile=\"").Append(E(model.Name)).Append("\"><td><a href=\"/console/profiles/").Append(U(model.Name)).Append("\"><strong>")
                .Append(E(model.Name)).Append("</strong></a>");
            if (model.Title is not null || model.Description is not null)
            {
                html.Append("<br><span class=\"muted\">").Append(E(model.Title ?? model.Description)).Append("</span>");
            }

            html.Append("</td><td><code>/v1/mcp/").Append(E(model.Name)).Append("</code></td><td>");
            foreach (var server in Servers(model))
            {
                html.Append("<span class=\"tag\">").Append(E(server)).Append("</span>");
            }

            html.Append("</td><td>").Append(E(Access(model.Access))).Append("</td><td>");
            var counts = new[] { (profile.Tools.Current, "tools"), (profile.Prompts.Current, "prompts"), (profile.Resources.Current, "resources") }
                .Where(static c => c.Current is not null).Select(static c => $"{c.Current!.Count} {c.Item2}").ToList();
            html.Append(counts.Count == 0 ? "<span class=\"muted\">not yet</span>" : E(string.Join(", ", counts)));
            html.Append("</td></tr>");
        }

        html.Append("</tbody></table>");
        return html.ToString();
    }

    public static string Detail(ProfileRuntime profile, IReadOnlyList<Catalog?> catalogs, bool listing, string baseUrl, AuthSettings auth)
    {
        var model = profile.Model;
        var html = new StringBuilder();
        if (model.Description is not null)
        {
            html.Append("<p>").Append(E(model.Description)).Append("</p>");
        }

        html.Append("<p>Endpoint <code>").Append(E($"{baseUrl}/v1/mcp/{model.Name}")).Append("</code> · names ")
            .Append(model.Naming == ToolNaming.Prefixed ? $"prefixed (<code>server{E(model.Separator)}tool</code>)" : "bare")
            .Append(" · who may use it: ").Append(E(Access(model.Access)));
        if (!model.Policies.IsEmpty)
        {
            html.Append(" · ").Append(model.Policies.Length).Append(model.Policies.Length == 1 ? " policy rule" : " policy rules");
        }

        html.Append("</p>");
        if (catalogs.All(static c => c is null))
        {
            html.Append("<p class=\"muted\">Not listed yet: its servers start on first use. ");
            html.Append(listing ? "They did not answer in time; see Servers." : $"<a href=\"/console/profiles/{U(model.Name)}?list=1\">List now</a> (starts them).");
            html.Append("</p>");
        }

        (string Kind, string Title)[] kinds = [("tools", "Tools"), ("prompts", "Prompts"), ("resources", "Resources")];
        for (var i = 0; i < kinds.Length; i++)
        {
            if (catalogs[i] is { } catalog)
            {
                Items(html, kinds[i].Title, kinds[i].Kind, catalog);
            }
        }

        html.Append("<h2>Connect a client</h2>");
        var n = 0;
        foreach (var snippet in ConnectInstructions.Build(baseUrl, model.Name, auth))
        {
            html.Append("<div class=\"snippet\"><div class=\"head\"><strong>").Append(E(snippet.Title)).Append("</strong><span class=\"muted\">")
                .Append(E(snippet.Auth switch { ConnectAuth.OAuth => "OAuth", ConnectAuth.Bearer => "bearer token from $ARCHESTRA_TOKEN", _ => string.Empty }))
                .Append(" · ").Append(E(snippet.Where)).Append("</span></div>");
            Copyable(html, $"snippet-{n++}", snippet.Text);
            html.Append("</div>");
        }

        return html.ToString();
    }

    private static void Items(StringBuilder html, string title, string kind, Catalog catalog)
    {
        html.Append("<h2>").Append(title).Append(" <span class=\"muted\">(").Append(catalog.Count).Append(")</span></h2>");
        foreach (var (server, error) in catalog.Failures)
        {
            html.Append("<p class=\"error\">").Append(E(server)).Append(" is left out: ").Append(E(error.Message)).Append("</p>");
        }

        if (catalog.Count == 0)
        {
            html.Append("<p class=\"muted\">None.</p>");
            return;
        }

        html.Append("<table><thead><tr><th>Name</th><th>Description</th><th>From</th><th>Curation</th></tr></thead><tbody>");
        using var document = JsonDocument.Parse(catalog.ResultJson);
        foreach (var item in document.RootElement.GetProperty(kind).EnumerateArray())
        {
            var name = Text(item, "name") ?? Text(item, "uri") ?? "?";
            var key = kind == "resources" ? Text(item, "uri") ?? name : name;
            catalog.Entries.TryGetValue(key, out var entry);
            html.Append("<tr data-item=\"").Append(E(name)).Append("\"><td><code>").Append(E(name)).Append("</code>");
            if (kind == "resources" && Text(item, "uri") is { } uri)
            {
                html.Append("<br><span class=\"muted\">").Append(E(uri)).Append("</span>");
            }

            html.Append("</td><td>").Append(E(Text(item, "description") ?? Text(item, "title"))).Append("</td><td>");
            if (entry is not null)
            {
                html.Append(E(entry.Server.Name)).Append(" <span class=\"muted\">").Append(E(entry.UpstreamName)).Append("</span>");
            }

            html.Append("</td><td>");
            if (entry is not null)
            {
                var assignment = entry.Assignment;
                if (assignment.Renames.ContainsKey(entry.UpstreamName))
                {
                    html.Append("<span class=\"tag\">renamed from ").Append(E(entry.UpstreamName)).Append("</span>");
                }

                if (assignment.Descriptions.ContainsKey(entry.UpstreamName))
                {
                    html.Append("<span class=\"tag\">description replaced</span>");
                }

                if (entry.Fixed is { } fixedArguments)
                {
                    html.Append("<span class=\"tag\">fixed: ").Append(E(string.Join(", ", fixedArguments.Names))).Append("</span>");
                }
            }

            html.Append("</td></tr>");
        }

        html.Append("</tbody></table>");
    }

    private static IEnumerable<string> Servers(ProfileModel model)
        => model.Tools.Concat(model.Prompts).Concat(model.Resources).Select(static a => a.Server).Distinct(StringComparer.Ordinal);

    public static string Access(AccessModel access)
    {
        if (access.Org)
        {
            return "everyone in the organisation";
        }

        var parts = new List<string>();
        if (access.Teams.Count > 0)
        {
            parts.Add($"teams {string.Join(", ", access.Teams.Order(StringComparer.Ordinal))}");
        }

        if (access.Users.Count > 0)
        {
            parts.Add($"users {string.Join(", ", access.Users.Order(StringComparer.Ordinal))}");
        }

        return parts.Count == 0 ? "organisation tokens only" : string.Join("; ", parts);
    }

    private static string? Text(JsonElement item, string name)
        => item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
