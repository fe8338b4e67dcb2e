using Archestra.Edge.Configuration;
using Archestra.Edge.Model;

namespace Archestra.Edge.Tests.Configuration;

public sealed class ConfigLoaderTests
{
    [Fact]
    public void MinimalFile_GetsEveryDefault()
    {
        var snapshot = Load("""
            servers:
              edge: { builtin: archestra }
            profiles:
              p: { tools: [{ server: edge }] }
            """);

        Assert.Equal([new Uri("http://127.0.0.1:9000")], snapshot.Listener.Listen.ToArray());
        Assert.Equal(4L << 20, snapshot.Limits.MaxRequestBytes);
        Assert.Equal(TimeSpan.FromSeconds(60), snapshot.Limits.CallTimeout);
        Assert.Equal(10_000, snapshot.Limits.MaxSessions);
        Assert.Equal(TimeSpan.FromMinutes(30), snapshot.Limits.SessionIdleTimeout);
        var profile = snapshot.Profiles["p"];
        Assert.Equal(ToolNaming.Prefixed, profile.Naming);
        Assert.Equal("__", profile.Separator);
        Assert.Equal(TimeSpan.FromSeconds(60), snapshot.ServersByName["edge"].CallTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), snapshot.ServersByName["edge"].StartTimeout);
        Assert.True(snapshot.Listener.Hosts.IsHostAllowed("localhost"));
        Assert.False(snapshot.Listener.Hosts.IsHostAllowed("evil.example.com"));
    }

    [Fact]
    public void StartTimeout_IsPerServer_AndIndependentOfTheCallTimeout()
    {
        var snapshot = Load("""
            limits: { call_timeout: 5s }
            servers:
              slow: { process: { command: npx }, start_timeout: 3m }
              quick: { process: { command: node } }
            profiles:
              p: { tools: [{ server: slow }, { server: quick }] }
            """);

        Assert.Equal(TimeSpan.FromMinutes(3), snapshot.ServersByName["slow"].StartTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), snapshot.ServersByName["slow"].CallTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), snapshot.ServersByName["quick"].StartTimeout);
    }

    [Fact]
    public void Curation_IsCompiled_FixedArgumentsKeepTheirYamlTypesAsJson()
    {
        var snapshot = Load("""
            servers:
              gh: { process: { command: node }, sharing: per_session, list_refresh: "off" }
              fs: { remote: { url: "http://127.0.0.1:1/sse", transport: sse }, list_refresh: 30s }
            limits: { list_page_size: 50 }
            profiles:
              p:
                tools:
                  - server: gh
                    rename: { search_repositories: find_repos }
                    describe: { create_issue: Open an issue }
                    fixed_arguments:
                      create_issue:
                        owner: acme
                        count: 3
                        ratio: 0.5
                        dry_run: true
                        quoted: "true"
                        nothing: ~
                        labels: [a, 1]
                        nested: { team: "${env:TEAM}" }
                resources: [{ server: fs }]
            """, new Dictionary<string, string> { ["TEAM"] = "platform" });

        var tools = snapshot.Profiles["p"].Tools.Single();
        Assert.Equal("find_repos", tools.Renames["search_repositories"]);
        Assert.Equal("Open an issue", tools.Descriptions["create_issue"]);
        var fixedArguments = tools.FixedArguments["create_issue"];
        Assert.Equal(["owner", "count", "ratio", "dry_run", "quoted", "nothing", "labels", "nested"], fixedArguments.Names.ToArray());
        Assert.Equal("""
            "owner":"acme","count":3,"ratio":0.5,"dry_run":true,"quoted":"true","nothing":null,"labels":["a",1],"nested":{"team":"platform"}
            """, System.Text.Encoding.UTF8.GetString(fixedArguments.Members));
        Assert.Equal(ServerSharing.PerSession, snapshot.ServersByName["gh"].Sharing);
        Assert.Null(snapshot.ServersByName["gh"].ListRefresh);
        Assert.Equal(TimeSpan.FromSeconds(30), snapshot.ServersByName["fs"].ListRefresh);
        Assert.Equal(RemoteTransport.Sse, snapshot.ServersByName["fs"].Remote!.Transport);
        Assert.Equal(50, snapshot.Limits.ListPageSize);
    }

    [Fact]
    public void ConfigFingerprint_IgnoresFormatting_FollowsValues_AndNeverSecrets()
    {
        const string yaml = """
            servers:
              gh:
                remote: { url: "https://mcp.example.com/mcp", headers: { Authorization: "Bearer ${env:TOKEN}" } }
            profiles:
              p: { tools: [{ server: gh }] }
            """;
        var fingerprint = Load(yaml, new Dictionary<string, string> { ["TOKEN"] = "first" }).ConfigFingerprint;
        Assert.Matches("^[0-9a-f]{16}$", fingerprint);

        // Comments, layout and key order: the same config.
        var reformatted = Load("""
            # the GitHub server
            profiles:
              p:
                tools:
                  - server: gh
            servers:
              gh:
                remote:
                  headers: { Authorization: "Bearer ${env:TOKEN}" }
                  url: "https://mcp.example.com/mcp"
            """, new Dictionary<string, string> { ["TOKEN"] = "first" });
        Assert.Equal(fingerprint, reformatted.ConfigFingerprint);

        // A secret's value is not part of it (anyone may read /readyz); the file's values are.
        Assert.Equal(fingerprint, Load(yaml, new Dictionary<string, string> { ["TOKEN"] = "rotated" }).ConfigFingerprint);
        Assert.NotEqual(fingerprint, Load(yaml.Replace("mcp.example.com", "mcp2.example.com", StringComparison.Ordinal), new Dictionary<string, string> { ["TOKEN"] = "first" }).ConfigFingerprint);
    }

    [Fact]
    public void EnvironmentReferences_AreResolved_WithDefaultsAndEscapes()
    {
        var environment = new Dictionary<string, string> { ["MCP_URL"] = "https://mcp.example.com/mcp", ["TOKEN"] = "s3cr3t" };
        var snapshot = Load("""
            limits:
              call_timeout: ${env:TIMEOUT:-15s}
            servers:
              gh:
                remote:
                  url: ${env:MCP_URL}
                  headers:
                    Authorization: "Bearer ${env:TOKEN}"
                    X-Literal: "costs $${env:NOT_RESOLVED}"
            profiles:
              p: { tools: [{ server: gh }] }
            """, environment);

        var remote = snapshot.ServersByName["gh"].Remote!;
        Assert.Equal(new Uri("https://mcp.example.com/mcp"), remote.Url);
        Assert.Contains(new KeyValuePair<string, string>("Authorization", "Bearer s3cr3t"), remote.Headers);
        Assert.Contains(new KeyValuePair<string, string>("X-Literal", "costs ${env:NOT_RESOLVED}"), remote.Headers);
        Assert.Equal(TimeSpan.FromSeconds(15), snapshot.Limits.CallTimeout);
    }

    [Fact]
    public void FileReferences_ReadRelativeToTheConfig_WithoutTheTrailingNewline()
    {
        var directory = Directory.CreateTempSubdirectory().FullName;
        File.WriteAllText(Path.Combine(directory, "token.txt"), "from-a-file\n");
        var path = Path.Combine(directory, "archestra.yaml");
        var result = ConfigLoader.Load("""
            servers:
              gh:
                remote:
                  url: https://example.com/mcp
                  headers: { X-Token: "${file:./token.txt}" }
              local:
                process: { command: node, working_dir: . }
            profiles:
              p: { tools: [{ server: gh }, { server: local }] }
            """, path, _ => null);

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Contains(new KeyValuePair<string, string>("X-Token", "from-a-file"), result.Snapshot!.ServersByName["gh"].Remote!.Headers);
        Assert.Equal(directory, result.Snapshot.ServersByName["local"].Process!.WorkingDirectory);
    }

    [Fact]
    public void EveryKeyOfTheShippedExample_Loads()
    {
        var root = RepositoryRoot.Path;
        var result = ConfigLoader.LoadFile(Path.Combine(root, "archestra.yaml.example"), _ => null);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
    }

    [Fact]
    public void BareProfile_AndCustomSeparator_AreKept()
    {
        var snapshot = Load("""
            servers:
              a: { builtin: archestra }
            profiles:
              x: { naming: bare, tools: [{ server: a, include: ["who*"], exclude: ["*secret*"] }] }
              y: { separator: ".", tools: [{ server: a }] }
            """);

        Assert.Equal(ToolNaming.Bare, snapshot.Profiles["x"].Naming);
        Assert.Equal(".", snapshot.Profiles["y"].Separator);
        var assignment = snapshot.Profiles["x"].Tools[0];
        Assert.True(assignment.Admits("whoami"));
        Assert.False(assignment.Admits("who_has_secret"));
        Assert.False(assignment.Admits("list_servers"));
    }

    [Fact]
    public void Audit_DefaultsToRedacted30Days_AndRefusesUnknownModes()
    {
        var defaults = Load("servers: { a: { builtin: archestra } }\nprofiles: { p: { tools: [{ server: a }] } }\n");
        Assert.Equal(new AuditSettings(true, AuditArguments.Redacted, TimeSpan.FromDays(30)), defaults.Audit);

        var configured = Load("observability: { audit: { arguments: full, retention: 90d } }\nservers: { a: { builtin: archestra } }\nprofiles: { p: { tools: [{ server: a }] } }\n");
        Assert.Equal(new AuditSettings(true, AuditArguments.Full, TimeSpan.FromDays(90)), configured.Audit);

        var bad = ConfigLoader.Load("observability: { audit: { arguments: some, retention: soon } }\nservers: { a: { builtin: archestra } }\nprofiles: { p: { tools: [{ server: a }] } }\n", "t.yaml", _ => null);
        Assert.False(bad.Succeeded);
        var errors = string.Join("\n", bad.Diagnostics);
        Assert.Contains("observability.audit.arguments: 'some' is not one of redacted, full, none", errors, StringComparison.Ordinal);
        Assert.Contains("observability.audit.retention", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void LogLevel_AndMetricsPath_AreCompiled_AndBadValuesAreErrors()
    {
        const string Rest = "servers: { a: { builtin: archestra } }\nprofiles: { p: { tools: [{ server: a }] } }\n";
        var defaults = Load(Rest);
        Assert.Null(defaults.LogLevel);
        Assert.Equal("/metrics", defaults.MetricsPath);

        var configured = Load("observability: { logs: { level: warning }, metrics: { path: /internal/metrics } }\n" + Rest);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, configured.LogLevel);
        Assert.Equal("/internal/metrics", configured.MetricsPath);

        var bad = ConfigLoader.Load("observability: { logs: { level: loud }, metrics: { path: /v1/mcp/metrics } }\n" + Rest, "t.yaml", _ => null);
        Assert.False(bad.Succeeded);
        var errors = string.Join("\n", bad.Diagnostics);
        Assert.Contains("observability.logs.level: 'loud' is not one of trace, debug, information, warning, error, critical", errors, StringComparison.Ordinal);
        Assert.Contains("observability.metrics.path: '/v1/mcp/metrics' is a path the gateway serves itself", errors, StringComparison.Ordinal);

        foreach (var path in (string[])["metrics", "/", "/a?b", "/healthz", "//x"])
        {
            Assert.False(ConfigLoader.Load($"observability: {{ metrics: {{ path: \"{path}\" }} }}\n" + Rest, "t.yaml", _ => null).Succeeded, path);
        }
    }

    [Fact]
    public void CurationKeyedByARenamedName_Loads_WithAWarningNamingTheUpstreamName()
    {
        var snapshot = Load("""
            servers:
              edge: { builtin: archestra }
            profiles:
              p:
                tools:
                  - server: edge
                    rename: { gateway_info: about, whoami: me, list_servers: servers }
                    describe: { about: "What this is", whoami: "fine: the server's own name" }
                    fixed_arguments: { me: { x: "1" } }
            """);
        Assert.Equal(
            [
                "test.yaml:8:28: warning: profiles.p.tools[0].describe.about: 'about' is the name 'gateway_info' is renamed to, and keys here are the server's own names: this entry matches nothing\n    hint: key it by 'gateway_info'",
                "test.yaml:9:32: warning: profiles.p.tools[0].fixed_arguments.me: 'me' is the name 'whoami' is renamed to, and keys here are the server's own names: this entry matches nothing\n    hint: key it by 'whoami'",
            ],
            snapshot.Warnings.Select(static w => w.ToString()));
        Assert.Empty(Load("servers:\n  edge: { builtin: archestra }\nprofiles:\n  p: { tools: [{ server: edge }] }\n").Warnings);
    }

    private static GatewaySnapshot Load(string yaml, IDictionary<string, string>? environment = null)
    {
        var result = ConfigLoader.Load(yaml, "test.yaml", key => environment?.TryGetValue(key, out var v) == true ? v : null);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Snapshot!;
    }
}
