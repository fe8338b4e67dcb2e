using System.Buffers;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Contracts;
using Archestra.Edge.Model;

namespace Archestra.Edge.Hosting;

/// <summary>How a client authenticates in a snippet: not at all, with an <c>archestra_</c> token, or by OAuth.</summary>
internal enum ConnectAuth : byte
{
    None,
    Bearer,
    OAuth,
}

/// <summary>One ready-to-paste configuration for one client.</summary>
internal sealed record ConnectSnippet(string Client, string Title, ConnectAuth Auth, string Where, string Language, string Text);

/// <summary>
/// Ready-to-paste configuration for the popular MCP clients, for one profile: Claude Code, Claude Desktop, Cursor,
/// VS Code, Codex and plain curl, with a bearer token (read from <c>$ARCHESTRA_TOKEN</c>, never embedded) and,
/// where the gateway offers OAuth, without one. Shared by <c>archestra-edge connect</c> and
/// <c>GET /v1/profiles/{profile}/connect</c>.
/// </summary>
internal static class ConnectInstructions
{
    /// <summary>The environment variable the snippets read the token from.</summary>
    public const string TokenVariable = "ARCHESTRA_TOKEN";

    /// <summary>The ways a client can authenticate to this gateway.</summary>
    public static ImmutableArray<ConnectAuth> Modes(AuthSettings auth)
    {
        if (!auth.Enabled)
        {
            return [ConnectAuth.None];
        }

        return auth.OAuth == OAuthMode.None ? [ConnectAuth.Bearer] : [ConnectAuth.OAuth, ConnectAuth.Bearer];
    }

    /// <summary>Every snippet for <paramref name="profile"/> served under <paramref name="baseUrl"/> (no trailing slash).</summary>
    public static List<ConnectSnippet> Build(string baseUrl, string profile, AuthSettings auth)
    {
        var url = $"{baseUrl}/v1/mcp/{profile}";
        var name = ServerName(profile);
        var snippets = new List<ConnectSnippet>();
        foreach (var mode in Modes(auth))
        {
            snippets.Add(ClaudeCode(url, name, mode));
            snippets.Add(ClaudeDesktop(url, name, mode));
            snippets.Add(Cursor(url, name, mode));
            snippets.Add(VsCode(url, name, mode));
            snippets.Add(Codex(url, name, mode));
            snippets.Add(Inspector(url, mode));
            if (mode != ConnectAuth.OAuth)
            {
                snippets.Add(Curl(url, mode));
            }
        }

        return snippets;
    }

    /// <summary>The snippets as text for a terminal: a heading per client, then the snippet.</summary>
    public static string RenderText(string baseUrl, string profile, AuthSettings auth)
    {
        var text = new StringBuilder();
        text.Append("Profile ").Append(profile).Append(": ").Append(baseUrl).Append("/v1/mcp/").Append(profile).Append('\n');
        var modes = Modes(auth);
        if (modes.Contains(ConnectAuth.Bearer))
        {
            text.Append("Bearer snippets read the token from $").Append(TokenVariable)
                .Append(" (archestra-edge token create --scope user:<you> --profile ").Append(profile).Append(").\n");
        }

        if (modes.Contains(ConnectAuth.OAuth))
        {
            text.Append("OAuth snippets need no token: the client opens the sign-in page on first use.\n");
        }

        foreach (var snippet in Build(baseUrl, profile, auth))
        {
            text.Append("\n## ").Append(snippet.Title);
            if (snippet.Auth != ConnectAuth.None)
            {
                text.Append(snippet.Auth == ConnectAuth.OAuth ? " (OAuth)" : " (bearer token)");
            }

            text.Append("\n# ").Append(snippet.Where).Append('\n').Append(snippet.Text).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The snippets as a document (<see cref="ConnectDocument"/>), for JSON output.</summary>
    public static ConnectDocument Document(string baseUrl, string profile, AuthSettings auth)
        => new(
            profile,
            $"{baseUrl}/v1/mcp/{profile}",
            [.. Modes(auth).Select(ModeName)],
            TokenVariable,
            [.. Build(baseUrl, profile, auth).Select(s => new ConnectClient(s.Client, s.Title, ModeName(s.Auth), s.Where, s.Language, s.Text))]);

    public static string ModeName(ConnectAuth mode) => mode switch
    {
        ConnectAuth.Bearer => "bearer",
        ConnectAuth.OAuth => "oauth",
        _ => "none",
    };

    /// <summary>The name the client shows for the server: <c>archestra-&lt;profile&gt;</c>, in the characters every client accepts.</summary>
    internal static string ServerName(string profile)
    {
        var name = new StringBuilder("archestra-", 10 + profile.Length);
        foreach (var c in profile)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-');
        }

        return name.ToString();
    }

    private static ConnectSnippet ClaudeCode(string url, string name, ConnectAuth mode)
    {
        var command = $"claude mcp add --transport http {name} {url}";
        var text = mode switch
        {
            ConnectAuth.Bearer => $"{command} --header \"Authorization: Bearer ${TokenVariable}\"",
            ConnectAuth.OAuth => $"{command}\n# then run /mcp in Claude Code and choose {name} to sign in",
            _ => command,
        };
        return new("claude-code", "Claude Code", mode, "a shell", "shell", text);
    }

    private static ConnectSnippet ClaudeDesktop(string url, string name, ConnectAuth mode)
    {
        // Claude Desktop's config file starts local (stdio) servers; mcp-remote bridges it to Streamable HTTP (and OAuth).
        var text = Json(json =>
        {
            json.WriteStartObject();
            json.WriteStartObject("mcpServers");
            json.WriteStartObject(name);
            json.WriteString("command", "npx");
            json.WriteStartArray("args");
            json.WriteStringValue("-y");
            json.WriteStringValue("mcp-remote");
            json.WriteStringValue(url);
            if (mode == ConnectAuth.Bearer)
            {
                json.WriteStringValue("--header");
                json.WriteStringValue($"Authorization:Bearer ${{{TokenVariable}}}");
            }

            json.WriteEndArray();
            if (mode == ConnectAuth.Bearer)
            {
                json.WriteStartObject("env");
                json.WriteString(TokenVariable, "archestra_…");
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        });
        return new("claude-desktop", "Claude Desktop", mode, "claude_desktop_config.json (Settings → Developer → Edit Config)", "json", text);
    }

    private static ConnectSnippet Cursor(string url, string name, ConnectAuth mode)
    {
        var text = Json(json =>
        {
            json.WriteStartObject();
            json.WriteStartObject("mcpServers");
            json.WriteStartObject(name);
            json.WriteString("url", url);
            if (mode == ConnectAuth.Bearer)
            {
                json.WriteStartObject("headers");
                json.WriteString("Authorization", $"Bearer ${{env:{TokenVariable}}}");
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        });
        return new("cursor", "Cursor", mode, "~/.cursor/mcp.json (or .cursor/mcp.json in a project)", "json", text);
    }

    private static ConnectSnippet VsCode(string url, string name, ConnectAuth mode)
    {
        var text = Json(json =>
        {
            json.WriteStartObject();
            if (mode == ConnectAuth.Bearer)
            {
                json.WriteStartArray("inputs");
                json.WriteStartObject();
                json.WriteString("type", "promptString");
                json.WriteString("id", "archestra-token");
                json.WriteString("description", "Archestra Edge token (archestra_…)");
                json.WriteBoolean("password", true);
                json.WriteEndObject();
                json.WriteEndArray();
            }

            json.WriteStartObject("servers");
            json.WriteStartObject(name);
            json.WriteString("type", "http");
            json.WriteString("url", url);
            if (mode == ConnectAuth.Bearer)
            {
                json.WriteStartObject("headers");
                json.WriteString("Authorization", "Bearer ${input:archestra-token}");
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        });
        return new("vscode", "VS Code", mode, ".vscode/mcp.json", "json", text);
    }

    private static ConnectSnippet Codex(string url, string name, ConnectAuth mode)
    {
        var text = new StringBuilder()
            .Append("[mcp_servers.").Append(name).Append("]\n")
            .Append("url = \"").Append(url).Append('"');
        if (mode == ConnectAuth.Bearer)
        {
            text.Append("\nbearer_token_env_var = \"").Append(TokenVariable).Append('"');
        }
        else if (mode == ConnectAuth.OAuth)
        {
            text.Append("\n# then: codex mcp login ").Append(name);
        }

        return new("codex", "Codex", mode, "~/.codex/config.toml", "toml", text.ToString());
    }

    /// <summary>The MCP Inspector (v2): its web UI opened on the profile, or its CLI for a quick look without a browser.</summary>
    private static ConnectSnippet Inspector(string url, ConnectAuth mode)
    {
        var target = $"--transport http --server-url {url}{(mode == ConnectAuth.Bearer ? $" --header \"Authorization: Bearer ${TokenVariable}\"" : string.Empty)}";
        var text = $"npx @modelcontextprotocol/inspector {target}\n" + (mode == ConnectAuth.OAuth
            ? "# press Connect in the web UI: it signs in on the gateway's page (OAuth)"
            : $"# without a browser, its CLI:\n# npx @modelcontextprotocol/inspector --cli --method tools/list {target}");
        return new("inspector", "MCP Inspector", mode, "a shell (Node 22.19 or later)", "shell", text);
    }

    private static ConnectSnippet Curl(string url, ConnectAuth mode)
    {
        var authorization = mode == ConnectAuth.Bearer ? $" \\\n  -H \"Authorization: Bearer ${TokenVariable}\"" : string.Empty;
        var text = $"curl -sS -i {url}{authorization} \\\n"
            + "  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\\n"
            + "  -d '" + InitializeBody + "'\n"
            + "# then send the Mcp-Session-Id header it returns with every later request";
        return new("curl", "curl", mode, "a shell", "shell", text);
    }

    private const string InitializeBody = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}""";

    private static string Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(json);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
