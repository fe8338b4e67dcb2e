using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>
/// A real HAProxy (Debian's <c>haproxy</c>) in front of gateway instances: round-robin, no stickiness of any kind, a
/// health check on <c>/healthz</c> every 500 ms, and a refused connection retried on another instance (what a
/// production balancer does). Frontends are given as (port, extra lines), e.g. one that sets a header.
/// </summary>
internal sealed class HaproxyProcess : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/haproxy";

    private readonly ChildProcess _process;
    private readonly string _directory;

    private HaproxyProcess(ChildProcess process, string directory, string config)
    {
        _process = process;
        _directory = directory;
        Config = config;
    }

    public string Config { get; }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<HaproxyProcess> StartAsync(IReadOnlyList<Uri> backends, params (int Port, string Extra)[] frontends)
    {
        Assert.True(File.Exists(Binary), $"HAProxy is missing at {Binary} (apt-get install haproxy; .ci/run installs it)");
        var config = new StringBuilder("""
            global
              maxconn 4000
            defaults
              mode http
              timeout connect 2s
              timeout client 10m
              timeout server 10m
              timeout tunnel 10m
              retries 3
              option redispatch 1
              retry-on conn-failure empty-response
              option http-buffer-request

            """);
        var i = 0;
        foreach (var (port, extra) in frontends)
        {
            config.Append(CultureInfo.InvariantCulture, $"frontend f{i++}\n  bind 127.0.0.1:{port}\n  default_backend edge\n");
            if (extra.Length > 0)
            {
                config.Append("  ").Append(extra).Append('\n');
            }
        }

        config.Append("backend edge\n  balance roundrobin\n  option httpchk\n  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost\n");
        var n = 0;
        foreach (var backend in backends)
        {
            config.Append(CultureInfo.InvariantCulture, $"  server e{n++} {backend.Host}:{backend.Port} check inter 500ms fall 1 rise 2\n");
        }

        var directory = Directory.CreateTempSubdirectory("archestra-haproxy-").FullName;
        var path = Path.Combine(directory, "haproxy.cfg");
        await File.WriteAllTextAsync(path, config.ToString());
        var process = ChildProcess.Start(Binary, ["-db", "-f", path], workingDirectory: directory);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        foreach (var (port, _) in frontends)
        {
            while (true)
            {
                Assert.False(process.HasExited, $"haproxy exited: {process.Output}\n{config}");
                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync(IPAddress.Loopback, port);
                    break;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50);
                }
            }
        }

        return new HaproxyProcess(process, directory, config.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
