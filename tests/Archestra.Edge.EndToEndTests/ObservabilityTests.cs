using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Archestra.Edge.EndToEndTests.Infrastructure;

namespace Archestra.Edge.EndToEndTests;

/// <summary><c>/metrics</c> (valid Prometheus text that counts what happened), <c>/readyz</c> and <c>/healthz</c>.</summary>
public sealed partial class ObservabilityTests
{
    [Fact]
    public async Task Metrics_CountCallsByOutcome_WithLatencies_Sessions_AndUpstreamState()
    {
        await using var gateway = await GatewayProcess.StartAsync($$"""
            servers:
              local:
                {{TestServerProcess.StdioYaml("metrics-local")}}
                call_timeout: 1s
                start: eager
            profiles:
              p: { tools: [{ server: local }] }
            """);

        // Started before the first call, so a slow start on a busy machine is not one of the counted outcomes.
        await gateway.WaitForServerReadyAsync("local");
        using var client = new RawMcpClient(gateway.ProfileUrl("p"));
        await client.InitializeAsync();
        var tools = await client.RequestAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""");
        Assert.True(tools["result"]?["tools"]?.AsArray().Count > 0, tools.ToJsonString());
        for (var i = 0; i < 3; i++)
        {
            var echo = await client.RequestAsync("""{"jsonrpc":"2.0","id":""" + (i + 10) + ""","method":"tools/call","params":{"name":"local__echo","arguments":{"text":"hi"}}}""");
            Assert.True(echo["result"] is not null, echo.ToJsonString());
        }

        var unknown = await client.RequestAsync("""{"jsonrpc":"2.0","id":20,"method":"tools/call","params":{"name":"local__nope","arguments":{}}}""");
        Assert.NotNull(unknown["error"]);
        var hung = await client.RequestAsync("""{"jsonrpc":"2.0","id":21,"method":"tools/call","params":{"name":"local__hang","arguments":{}}}""");
        Assert.True(hung["error"]?["code"]?.GetValue<int>() == -32001, hung.ToJsonString());

        var metrics = await ScrapeAsync(gateway.BaseUrl, token: null);

        Assert.Equal(3, metrics[Series("archestra_calls_total", ("profile", "p"), ("server", "local"), ("method", "tools/call"), ("item", "echo"), ("outcome", "ok"))]);
        Assert.Equal(1, metrics[Series("archestra_calls_total", ("profile", "p"), ("server", "local"), ("method", "tools/call"), ("item", "hang"), ("outcome", "timeout"))]);
        Assert.Equal(1, metrics[Series("archestra_calls_total", ("profile", "p"), ("server", ""), ("method", "tools/call"), ("item", ""), ("outcome", "rejected"))]);
        Assert.Equal(4, metrics[Series("archestra_call_duration_seconds_count", ("profile", "p"), ("server", "local"), ("method", "tools/call"))]);
        Assert.Equal(4, metrics[Series("archestra_call_duration_seconds_bucket", ("profile", "p"), ("server", "local"), ("method", "tools/call"), ("le", "+Inf"))]);
        Assert.True(metrics[Series("archestra_call_duration_seconds_sum", ("profile", "p"), ("server", "local"), ("method", "tools/call"))] >= 1.0, "the timed-out call took its 1 s");
        Assert.Equal(1, metrics[Series("archestra_sessions")]);
        Assert.Equal(1, metrics[Series("archestra_upstream_up", ("server", "local"), ("kind", "process"))]);
        Assert.Equal(1, metrics[Series("archestra_upstream_replicas", ("server", "local"), ("state", "ready"))]);
        Assert.True(metrics[Series("archestra_http_requests_total", ("method", "POST"), ("status", "200"))] >= 6);
    }

    [Fact]
    public async Task Readyz_And_Healthz_Answer_WithServerStates()
    {
        await using var gateway = await GatewayProcess.StartAsync("""
            servers:
              edge: { builtin: archestra }
            profiles:
              p: { tools: [{ server: edge }] }
            """);
        using var http = new HttpClient { BaseAddress = gateway.BaseUrl };

        Assert.Equal("ok\n", await http.GetStringAsync(new Uri("/healthz", UriKind.Relative)));
        using var ready = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
        Assert.Equal("ready", body["status"]!.GetValue<string>());
        Assert.Equal(gateway.ConfigPath, body["config"]!.GetValue<string>());
        Assert.NotNull(body["servers"]!["edge"]);
    }

    [Fact]
    public async Task Metrics_NeedAnOrganisationToken_WhenAuthIsOn_AndCountAuthFailures()
    {
        var fixture = new AuthFixture();
        await fixture.InitializeAsync();
        try
        {
            using (var anonymous = new RawMcpClient(fixture.Gateway.ProfileUrl("everyone")))
            {
                using var refused = await anonymous.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""");
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            }

            using var http = new HttpClient();
            using (var none = await http.GetAsync(new Uri(fixture.Gateway.BaseUrl, "/metrics")))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            }

            using (var user = new HttpRequestMessage(HttpMethod.Get, new Uri(fixture.Gateway.BaseUrl, "/metrics")))
            {
                user.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AuthFixture.Alice);
                using var forbidden = await http.SendAsync(user);
                Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            }

            var metrics = await ScrapeAsync(fixture.Gateway.BaseUrl, AuthFixture.OrgAdmin);
            Assert.True(metrics[Series("archestra_auth_failures_total", ("reason", "missing"))] >= 1);
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }

    [Fact]
    public async Task MetricsPath_AndLogLevel_ComeFromTheConfig_AndTheCommandLineOverridesTheLevel()
    {
        var yaml = $$"""
            observability:
              metrics: { path: /internal/metrics }
              logs: { level: warning }
            servers:
              quiet:
                {{TestServerProcess.StdioYaml("quiet")}}
                start: eager
            profiles:
              p: { tools: [{ server: quiet }] }
            """;
        await using (var gateway = await GatewayProcess.StartAsync(yaml))
        {
            await gateway.WaitForServerReadyAsync("quiet");
            var metrics = await ScrapeAsync(gateway.BaseUrl, token: null, "/internal/metrics");
            Assert.Equal(1, metrics[Series("archestra_upstream_up", ("server", "quiet"), ("kind", "process"))]);
            using var http = new HttpClient();
            using var old = await http.GetAsync(new Uri(gateway.BaseUrl, "/metrics"));
            Assert.Equal(HttpStatusCode.NotFound, old.StatusCode);

            // At warning, the start of a server (information) is not logged; the address still is announced.
            Assert.Contains(" listening on ", gateway.Process.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Started upstream 'quiet'", gateway.Process.Output, StringComparison.Ordinal);
        }

        await using (var gateway = await GatewayProcess.StartAsync(yaml, "--log-level", "information"))
        {
            await gateway.Process.WaitForLineAsync(l => l.Contains("Started upstream 'quiet'", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Scrapes <c>/metrics</c>, checking the text format strictly, into series → value.</summary>
    private static async Task<Dictionary<string, double>> ScrapeAsync(Uri baseUrl, string? token, string path = "/metrics")
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, path));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();

        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        var typed = new HashSet<string>(StringComparer.Ordinal);
        var finished = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var family = line.Split(' ')[2];
                Assert.True(typed.Add(family), $"family {family} declared twice");
                if (current is not null)
                {
                    finished.Add(current);
                }

                current = family;
                continue;
            }

            if (line.StartsWith('#'))
            {
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a Prometheus sample line: {line}");
            var name = match.Groups["name"].Value;
            var family2 = Regex.Replace(name, "_(bucket|sum|count)$", string.Empty);
            Assert.True(family2 == current || name == current, $"{name} is outside its family block (current: {current})");
            Assert.DoesNotContain(family2, finished);
            Assert.True(series.TryAdd(name + match.Groups["labels"].Value, double.Parse(match.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture)), $"duplicate series: {line}");
        }

        return series;
    }

    private static string Series(string name, params (string Name, string Value)[] labels)
        => labels.Length == 0 ? name : $"{name}{{{string.Join(',', labels.Select(l => $"{l.Name}=\"{l.Value}\""))}}}";

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*)?\})? (?<value>[-+]?([0-9.]+([eE][-+]?[0-9]+)?|Inf|NaN))$""")]
    private static partial Regex SampleLine();
}
