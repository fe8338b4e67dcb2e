using Archestra.Edge.Configuration;
using Archestra.Edge.Hosting;
using Archestra.Edge.Storage;
using Archestra.Edge.Upstreams;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Tests.Infrastructure;

/// <summary>
/// The gateway hosted in the test process on a loopback port of its own, with a clock the test controls: for
/// behaviour that depends on time (caches, intervals, expiry) and needs no child process, signals or packaging.
/// Servers run unsupervised (no shim); the state lives in a temporary data directory.
/// </summary>
internal sealed class InProcessGateway : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private InProcessGateway(WebApplication app, Uri baseUrl, string directory)
    {
        _app = app;
        BaseUrl = baseUrl;
        _directory = directory;
    }

    public Uri BaseUrl { get; }

    public Uri ProfileUrl(string profile) => new(BaseUrl, $"/v1/mcp/{profile}");

    public static async Task<InProcessGateway> StartAsync(string yaml, TimeProvider time)
    {
        var directory = Directory.CreateTempSubdirectory("archestra-inproc-").FullName;
        var path = Path.Combine(directory, "archestra.yaml");
        await File.WriteAllTextAsync(path, yaml);
        var loaded = ConfigLoader.LoadFile(path);
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Diagnostics));
        var app = GatewayApplication.Build(loaded.Snapshot!.WithDataDirectory(directory), new GatewayApplicationOptions
        {
            TimeProvider = time,
            MinimumLogLevel = LogLevel.Warning,
            ListenOverride = ["http://127.0.0.1:0"],
            SelfHosting = SelfHosting.Unsupervised,
            OpenState = (_, _) => StateStores.Sqlite(directory),
        });
        await app.StartAsync();
        return new InProcessGateway(app, new Uri(app.Urls.First()), directory);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
