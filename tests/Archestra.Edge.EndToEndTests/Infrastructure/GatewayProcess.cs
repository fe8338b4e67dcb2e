using System.Text.RegularExpressions;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>The gateway's AOT binary, running as a process on a free loopback port with a given config.</summary>
internal sealed partial class GatewayProcess : IAsyncDisposable
{
    private readonly string _directory;

    private GatewayProcess(ChildProcess process, Uri baseUrl, string directory, string configPath)
    {
        Process = process;
        BaseUrl = baseUrl;
        _directory = directory;
        ConfigPath = configPath;
    }

    public ChildProcess Process { get; }

    public Uri BaseUrl { get; }

    public string ConfigPath { get; }

    public Uri ProfileUrl(string profile) => new(BaseUrl, $"/v1/mcp/{profile}");

    /// <summary>Writes <paramref name="yaml"/> to a fresh directory and serves it.</summary>
    public static Task<GatewayProcess> StartAsync(string yaml, params string[] extraArguments) => StartAsync(yaml, defaultSignals: false, extraArguments);

    /// <summary>
    /// As above; with <paramref name="defaultSignals"/> the gateway starts with every signal at its default disposition
    /// (through <c>env --default-signal</c>), even when this test run ignores SIGHUP (under <c>nohup</c>, for one).
    /// </summary>
    public static Task<GatewayProcess> StartAsync(string yaml, bool defaultSignals, params string[] extraArguments)
        => StartAsync(yaml, defaultSignals, environment: null, extraArguments);

    /// <summary>A gateway whose one profile <c>p</c> offers the tools of one remote server at <paramref name="url"/>.</summary>
    public static Task<GatewayProcess> InFrontOfAsync(string server, Uri url) => StartAsync($$"""
        servers:
          {{server}}: { remote: { url: "{{url}}" } }
        profiles:
          p: { tools: [{ server: {{server}} }] }
        """);

    /// <summary>As above, with these variables added to the gateway's environment.</summary>
    public static async Task<GatewayProcess> StartAsync(string yaml, bool defaultSignals, IDictionary<string, string>? environment, params string[] extraArguments)
    {
        var directory = Directory.CreateTempSubdirectory("archestra-e2e-").FullName;
        var configPath = Path.Combine(directory, "archestra.yaml");
        await File.WriteAllTextAsync(configPath, yaml);
        return await StartAtAsync(configPath, defaultSignals, environment, extraArguments);
    }

    /// <summary>A gateway on a config file the test wrote (with files beside it, a lock file for one); its directory is deleted with it.</summary>
    public static async Task<GatewayProcess> StartAtAsync(string configPath, bool defaultSignals = false, IDictionary<string, string>? environment = null, params string[] extraArguments)
    {
        var binary = Repository.GatewayBinary;
        if (!File.Exists(binary))
        {
            throw new InvalidOperationException($"The published gateway is missing at {binary}. Run ./build.sh publish (or ./build.sh test), or set ARCHESTRA_EDGE_BINARY.");
        }

        var directory = Path.GetDirectoryName(configPath)!;
        string[] arguments = ["serve", "--config", configPath, "--listen", "http://127.0.0.1:0", .. extraArguments];
        var process = defaultSignals
            ? ChildProcess.Start("/usr/bin/env", ["--default-signal", binary, .. arguments], environment, directory)
            : ChildProcess.Start(binary, arguments, environment, directory);
        var line = await process.WaitForLineAsync(l => l.Contains(" listening on ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var url = ListeningLine().Match(line).Groups[1].Value;
        return new GatewayProcess(process, new Uri(url), directory, configPath);
    }

    /// <summary>
    /// Waits until <c>/readyz</c> reports <paramref name="server"/> ready: for tests whose assertions must not count
    /// the start of a server (a slow start on a loaded machine would otherwise be part of what they measure).
    /// </summary>
    public async Task WaitForServerReadyAsync(string server, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        string? state = null;
        while (DateTime.UtcNow < deadline)
        {
            state = (await ReadyAsync())["servers"]?[server]?.GetValue<string>();
            if (state == "ready")
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Server '{server}' was not ready in time (last state: {state ?? "unknown"}).");
    }

    /// <summary>The <c>/readyz</c> document.</summary>
    public async Task<System.Text.Json.Nodes.JsonNode> ReadyAsync()
    {
        using var http = new HttpClient();
        return System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync(new Uri(BaseUrl, "/readyz")))!;
    }

    /// <summary>The <c>/admin/status</c> document (the gateway has no <c>auth:</c>, so a loopback client may read it).</summary>
    public async Task<System.Text.Json.Nodes.JsonNode> StatusAsync()
    {
        using var http = new HttpClient();
        return System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync(new Uri(BaseUrl, "/admin/status")))!;
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [GeneratedRegex(@"listening on (http://\S+)")]
    private static partial Regex ListeningLine();
}
