using System.Text.Json;
using System.Text.Json.Nodes;
using Archestra.Edge.EndToEndTests.Infrastructure;
using ModelContextProtocol.Client;

namespace Archestra.Edge.EndToEndTests;

/// <summary>
/// Redacted results through the published gateway: the test server's <c>leak</c> tool returns what it is given as
/// text and as structured content; three profiles over it redact, block, or do nothing; clients of both eras.
/// </summary>
public sealed class RedactionTests(RedactionTests.Fixture fixture) : IClassFixture<RedactionTests.Fixture>
{
    // A made-up token in GitHub's published format, in a JSON document inside the text (as tools often return).
    private const string Token = "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";
    private static readonly string s_leak = $"{{\"login\":\"ada\",\"token\":\"{Token}\",\"note\":\"mail ada@example.org\"}}";

    public sealed class Fixture : IAsyncLifetime
    {
        internal GatewayProcess Gateway { get; private set; } = null!;

        public async Task InitializeAsync() => Gateway = await GatewayProcess.StartAsync($$"""
            servers:
              local:
                {{TestServerProcess.StdioYaml("local")}}
            profiles:
              guarded:
                tools: [{ server: local, include: [leak] }]
                redaction: { secrets: redact, personal_data: flag }
              strict:
                tools: [{ server: local, include: [leak] }]
                redaction: { secrets: block }
              open:
                tools: [{ server: local, include: [leak] }]
            """);

        public Task DisposeAsync() => Gateway.DisposeAsync().AsTask();
    }

    [Fact]
    public async Task SecretsInAToolResult_AreRedactedInPlace_WithoutBreakingTheJson_ForClientsOfBothEras()
    {
        await using var classic = await Clients.ConnectAsync(fixture.Gateway.ProfileUrl("guarded"));
        await using var modern = await Clients.ConnectModernAsync(fixture.Gateway.ProfileUrl("guarded"));
        foreach (var client in new[] { classic, modern })
        {
            var result = await client.CallToolAsync("local__leak", new Dictionary<string, object?> { ["text"] = s_leak });
            Assert.NotEqual(true, result.IsError);

            // The text still parses as the document it was, with the token replaced and the e-mail address (flag only) kept.
            var document = JsonNode.Parse(Clients.Text(result))!;
            Assert.Equal("[REDACTED:github_token]", document["token"]!.GetValue<string>());
            Assert.Equal("ada", document["login"]!.GetValue<string>());
            Assert.Equal("mail ada@example.org", document["note"]!.GetValue<string>());

            var structured = result.StructuredContent!.Value;
            Assert.DoesNotContain(Token, structured.GetRawText(), StringComparison.Ordinal);
            Assert.Equal(Clients.Text(result), structured.GetProperty("value").GetString());
            Assert.Equal(JsonValueKind.Array, structured.GetProperty("nested").ValueKind);
        }

        await using var open = await Clients.ConnectAsync(fixture.Gateway.ProfileUrl("open"));
        Assert.Equal(s_leak, Clients.Text(await open.CallToolAsync("local__leak", new Dictionary<string, object?> { ["text"] = s_leak })));

        var audited = await AuditedAsync(r => r["profile"]!.GetValue<string>() == "guarded" && r["decision"] is not null);
        Assert.Equal("redacted:redaction(email,github_token)", audited["decision"]!.GetValue<string>());
        Assert.DoesNotContain(Token, fixture.Gateway.Process.Output, StringComparison.Ordinal);

        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri(fixture.Gateway.BaseUrl, "/metrics"));
        Assert.Contains("archestra_policy_decisions_total{profile=\"guarded\",rule=\"redaction/github_token\",decision=\"redacted\"} 2", metrics, StringComparison.Ordinal);
        Assert.Contains("archestra_policy_decisions_total{profile=\"guarded\",rule=\"redaction/email\",decision=\"flagged\"} 2", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnderBlock_TheResultIsWithheld_AndTheModelIsToldWhy()
    {
        await using var client = await Clients.ConnectAsync(fixture.Gateway.ProfileUrl("strict"));
        var result = await client.CallToolAsync("local__leak", new Dictionary<string, object?> { ["text"] = s_leak });
        Assert.True(result.IsError);
        Assert.Equal("Blocked: the result of local's tool 'leak' held github_token, which profile 'strict' does not let through", Clients.Text(result));

        // Text without secrets passes.
        Assert.Equal("all clear", Clients.Text(await client.CallToolAsync("local__leak", new Dictionary<string, object?> { ["text"] = "all clear" })));
        var audited = await AuditedAsync(r => r["profile"]!.GetValue<string>() == "strict" && r["decision"] is not null);
        Assert.Equal("blocked:redaction(github_token)", audited["decision"]!.GetValue<string>());
    }

    private async Task<JsonNode> AuditedAsync(Func<JsonNode, bool> wanted)
    {
        var records = await AuditExport.WaitForAsync(fixture.Gateway.ConfigPath, records => records.Any(wanted));
        Assert.DoesNotContain(records, r => r.ToJsonString().Contains(Token, StringComparison.Ordinal)); // arguments are kept redacted by default
        return records.First(wanted);
    }
}
