using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// Governance of tool calls against real servers: the npm <c>server-filesystem</c> behind a rule on its write
/// arguments and an approval rule, and our test server open to one team only; callers are real SDK clients with
/// tokens of two users in two teams.
/// </summary>
public sealed class PolicyTests(PolicyTests.Fixture fixture) : IClassFixture<PolicyTests.Fixture>
{
    private const string Ada = "archestra_policy-ada-token-000000000000000000000000000";
    private const string Bob = "archestra_policy-bob-token-000000000000000000000000000";
    private const string Admin = "archestra_policy-admin-token-00000000000000000000000000";

    public sealed class Fixture : IAsyncLifetime
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("archestra-policy-").FullName;

        internal GatewayProcess Gateway { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Directory.CreateDirectory(Path.Combine(Root, "workspace"));
            var filesystem = Path.Combine(Repository.NpmPackage("@modelcontextprotocol/server-filesystem"), "dist", "index.js");
            Gateway = await GatewayProcess.StartAsync($$"""
                teams: [platform, data]
                users:
                  ada: { teams: [platform] }
                  bob: { teams: [data] }
                servers:
                  fs:
                    process: { command: "{{Repository.Node}}", args: ["{{filesystem}}", "{{Root}}"] }
                  local:
                    {{TestServerProcess.StdioYaml("local")}}
                profiles:
                  work:
                    access: { org: true }
                    tools:
                      - server: fs
                        include: [write_file, read_text_file, create_directory]
                      - server: local
                        include: [echo]
                        teams: [platform]
                    policies:
                      - name: writes-stay-in-workspace
                        servers: [fs]
                        tools: [write_file, create_directory]
                        when:
                          - { arg: path, not_glob: "{{Root}}/workspace/*" }
                        decision: deny
                        message: files are written under workspace/ only
                      - name: new-directories-need-approval
                        servers: [fs]
                        tools: [create_directory]
                        decision: require_approval
                        message: a person decides where directories go
                auth:
                  bearer:
                    tokens:
                      - { name: ada, sha256: {{Sha(Ada)}}, scope: "user:ada" }
                      - { name: bob, sha256: {{Sha(Bob)}}, scope: "user:bob" }
                      - { name: admin, sha256: {{Sha(Admin)}}, scope: org }
                """);
        }

        public async Task DisposeAsync()
        {
            await Gateway.DisposeAsync();
            Directory.Delete(Root, recursive: true);
        }

        private static string Sha(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }

    [Fact]
    public async Task ADenyRuleOnArguments_RefusesWritesOutsideTheWorkspace_WithAToolErrorNamingTheRule()
    {
        await using var bob = await ConnectAsync(Bob);
        var inside = Path.Combine(fixture.Root, "workspace", "notes.md");
        var written = await bob.CallToolAsync("fs__write_file", new Dictionary<string, object?> { ["path"] = inside, ["content"] = "kept" });
        Assert.NotEqual(true, written.IsError);
        Assert.Equal("kept", await File.ReadAllTextAsync(inside));

        var outside = Path.Combine(fixture.Root, "escape.md");
        var refused = await bob.CallToolAsync("fs__write_file", new Dictionary<string, object?> { ["path"] = outside, ["content"] = "nope" });
        Assert.True(refused.IsError);
        Assert.Equal("Denied by policy 'writes-stay-in-workspace': files are written under workspace/ only", Clients.Text(refused));
        Assert.False(File.Exists(outside)); // the server never saw the call

        // Reading is not a write: no rule covers it.
        Assert.Equal("kept", Clients.Text(await bob.CallToolAsync("fs__read_text_file", new Dictionary<string, object?> { ["path"] = inside })));
        await AuditedAsync("deny:writes-stay-in-workspace");
    }

    [Fact]
    public async Task PerToolAccess_OpensATeamsTools_ToThatTeamOnly()
    {
        await using var ada = await ConnectAsync(Ada);
        await using var bob = await ConnectAsync(Bob);
        Assert.Equal("platform only", Clients.Text(await ada.CallToolAsync("local__echo", new Dictionary<string, object?> { ["text"] = "platform only" })));

        var refused = await bob.CallToolAsync("local__echo", new Dictionary<string, object?> { ["text"] = "data team" });
        Assert.True(refused.IsError);
        Assert.Equal("Denied: local's tool 'echo' is open to team platform only", Clients.Text(refused));
        await AuditedAsync("deny:tool-access");
    }

    [Fact]
    public async Task RequireApproval_AsksTheUserThroughElicitation_AndOnlyAnApprovalLetsTheCallThrough()
    {
        string? asked = null;
        var answer = true;
        await using var ada = await ConnectAsync(Ada, Approving(() => answer, message => asked = message));

        var approvedPath = Path.Combine(fixture.Root, "workspace", "approved");
        var approved = await ada.CallToolAsync("fs__create_directory", new Dictionary<string, object?> { ["path"] = approvedPath });
        Assert.NotEqual(true, approved.IsError);
        Assert.True(Directory.Exists(approvedPath));
        Assert.Equal("Allow fs's tool 'create_directory' to run? (policy 'new-directories-need-approval': a person decides where directories go)", asked);

        answer = false;
        var declinedPath = Path.Combine(fixture.Root, "workspace", "declined");
        var declined = await ada.CallToolAsync("fs__create_directory", new Dictionary<string, object?> { ["path"] = declinedPath });
        Assert.True(declined.IsError);
        Assert.Equal("The user declined fs's tool 'create_directory' (policy 'new-directories-need-approval')", Clients.Text(declined));
        Assert.False(Directory.Exists(declinedPath));

        // A client that cannot be asked is refused.
        await using var silent = await ConnectAsync(Bob);
        var unasked = await silent.CallToolAsync("fs__create_directory", new Dictionary<string, object?> { ["path"] = Path.Combine(fixture.Root, "workspace", "silent") });
        Assert.True(unasked.IsError);
        Assert.Contains("cannot ask (it did not declare elicitation)", Clients.Text(unasked), StringComparison.Ordinal);

        await AuditedAsync("approved:new-directories-need-approval", "declined:new-directories-need-approval", "unapprovable:new-directories-need-approval");
        var metrics = await MetricsAsync();
        // (The 2026-07-28 approval test shares the gateway: counts are at least this test's.)
        Assert.Contains("archestra_policy_decisions_total{profile=\"work\",rule=\"new-directories-need-approval\",decision=\"approved\"} ", metrics, StringComparison.Ordinal);
        Assert.Contains("archestra_policy_decisions_total{profile=\"work\",rule=\"new-directories-need-approval\",decision=\"declined\"} ", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequireApproval_AsksA2026Client_ThroughAnInputRequiredResult_BoundToTheCall()
    {
        var asked = 0;
        var answer = true;
        var options = Approving(() => answer, message =>
        {
            Interlocked.Increment(ref asked);
            Assert.Equal("Allow fs's tool 'create_directory' to run? (policy 'new-directories-need-approval': a person decides where directories go)", message);
        });
        options.ProtocolVersion = "2026-07-28";
        await using var ada = await ConnectAsync(Ada, options);

        var approvedPath = Path.Combine(fixture.Root, "workspace", "approved-2026");
        var approved = await ada.CallToolAsync("fs__create_directory", new Dictionary<string, object?> { ["path"] = approvedPath });
        Assert.NotEqual(true, approved.IsError);
        Assert.True(Directory.Exists(approvedPath));
        Assert.Equal(1, asked);

        answer = false;
        var declinedPath = Path.Combine(fixture.Root, "workspace", "declined-2026");
        var declined = await ada.CallToolAsync("fs__create_directory", new Dictionary<string, object?> { ["path"] = declinedPath });
        Assert.True(declined.IsError);
        Assert.Equal("The user declined fs's tool 'create_directory' (policy 'new-directories-need-approval')", Clients.Text(declined));
        Assert.False(Directory.Exists(declinedPath));

        // An approval is bound to the call it was asked for: a state issued for one directory does not approve another.
        using var http = new HttpClient();
        var first = await PostModernAsync(http, Path.Combine(fixture.Root, "workspace", "one"), state: null);
        Assert.Equal("input_required", first["result"]!["resultType"]!.GetValue<string>());
        var state = first["result"]!["requestState"]!.GetValue<string>();
        var other = await PostModernAsync(http, Path.Combine(fixture.Root, "workspace", "two"), state, approve: true);
        Assert.Equal("input_required", other["result"]!["resultType"]!.GetValue<string>()); // asked again, for this call
        Assert.False(Directory.Exists(Path.Combine(fixture.Root, "workspace", "two")));

        await AuditedAsync("asked:new-directories-need-approval");
    }

    /// <summary>A client whose user answers every approval question with <paramref name="answer"/> (accept with approve, or decline).</summary>
    private static McpClientOptions Approving(Func<bool> answer, Action<string> asked) => new()
    {
        Handlers = new McpClientHandlers
        {
            ElicitationHandler = (request, _) =>
            {
                asked(request!.Message);
                return ValueTask.FromResult(answer()
                    ? new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["approve"] = JsonSerializer.SerializeToElement(true) } }
                    : new ElicitResult { Action = "decline" });
            },
        },
    };

    /// <summary>A raw 2026-07-28 <c>tools/call</c> of create_directory, optionally retried with a state and an approval answer.</summary>
    private async Task<JsonNode> PostModernAsync(HttpClient http, string path, string? state, bool? approve = null)
    {
        var parameters = new JsonObject
        {
            ["name"] = "fs__create_directory",
            ["arguments"] = new JsonObject { ["path"] = path },
            ["_meta"] = new JsonObject
            {
                ["io.modelcontextprotocol/protocolVersion"] = "2026-07-28",
                ["io.modelcontextprotocol/clientCapabilities"] = new JsonObject { ["elicitation"] = new JsonObject { ["form"] = new JsonObject() } },
                ["io.modelcontextprotocol/clientInfo"] = new JsonObject { ["name"] = "raw", ["version"] = "1" },
            },
        };
        if (state is not null)
        {
            parameters["requestState"] = state;
            parameters["inputResponses"] = new JsonObject { ["approval"] = new JsonObject { ["action"] = approve == true ? "accept" : "decline", ["content"] = new JsonObject { ["approve"] = approve == true } } };
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.Gateway.ProfileUrl("work"))
        {
            Content = new StringContent(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = "tools/call", ["params"] = parameters }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Ada);
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", "2026-07-28");
        request.Headers.Add("Mcp-Method", "tools/call");
        request.Headers.Add("Mcp-Name", "fs__create_directory");
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.StartsWith('{') ? text : text.Split('\n').First(l => l.StartsWith("data:", StringComparison.Ordinal))[5..];
        return JsonNode.Parse(json)!;
    }

    private async Task<McpClient> ConnectAsync(string token, McpClientOptions? options = null)
    {
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = fixture.Gateway.ProfileUrl("work"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" },
        });
        options ??= new McpClientOptions();
        options.ProtocolVersion ??= "2025-11-25";
        return await McpClient.CreateAsync(transport, options);
    }

    /// <summary>Waits until the audit trail (written in batches) holds a record with each decision.</summary>
    private Task AuditedAsync(params string[] decisions)
        => AuditExport.WaitForAsync(fixture.Gateway.ConfigPath, records =>
        {
            var found = records.Select(r => r["decision"]?.GetValue<string>()).ToHashSet();
            return decisions.All(found.Contains);
        });

    private async Task<string> MetricsAsync()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(fixture.Gateway.BaseUrl, "/metrics"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Admin);
        using var response = await http.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }
}
