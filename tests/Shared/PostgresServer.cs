using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Archestra.Edge.Testing;

/// <summary>
/// A real, throwaway PostgreSQL server from the machine's packages (Debian's <c>postgresql</c>): a fresh cluster in a
/// temporary directory, on a free loopback port, trust authentication for one user (<c>edge</c>), durability off (a
/// test's data need not survive a power cut). Run as the <c>postgres</c> user when the tests run as root (the server
/// refuses root). Databases are made with <c>psql</c>, so the helper needs no client library of its own.
/// </summary>
internal sealed partial class PostgresServer : IAsyncDisposable
{
    private readonly Process _server;
    private readonly string _bin;

    private PostgresServer(Process server, string bin, string directory, int port)
    {
        _server = server;
        _bin = bin;
        Directory = directory;
        Port = port;
    }

    public string Directory { get; }

    public int Port { get; }

    /// <summary>Where the server binaries are (the newest installed major version), or null if PostgreSQL is not installed.</summary>
    public static string? BinDirectory { get; } = FindBin();

    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=edge;Database={database}";

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = BinDirectory ?? throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql); .ci/run installs it");
        var directory = System.IO.Directory.CreateTempSubdirectory("archestra-pg-").FullName;
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            await RunAsync("/usr/bin/chown", ["-R", "postgres:postgres", directory]).ConfigureAwait(false);
        }

        var data = Path.Combine(directory, "data");
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "edge", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], asRoot).ConfigureAwait(false);
        var port = FreePort();
        var server = Start(Path.Combine(bin, "postgres"),
            ["-D", data, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-k", directory, "-c", "listen_addresses=127.0.0.1",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=300"], asRoot);
        var instance = new PostgresServer(server, bin, directory, port);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (server.HasExited)
            {
                throw new InvalidOperationException($"postgres exited with {server.ExitCode}: {await server.StandardError.ReadToEndAsync().ConfigureAwait(false)}");
            }

            var (ready, _) = await TryRunAsync(Path.Combine(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "edge", "-d", "postgres"]).ConfigureAwait(false);
            if (ready)
            {
                return instance;
            }

            if (DateTime.UtcNow > deadline)
            {
                await instance.DisposeAsync().ConfigureAwait(false);
                throw new TimeoutException("postgres did not become ready within 30 s");
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>A new empty database; its name.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));
        await SqlAsync("postgres", $"CREATE DATABASE {name}").ConfigureAwait(false);
        return name;
    }

    /// <summary>Runs SQL with <c>psql</c> and returns its unaligned, tuples-only output.</summary>
    public async Task<string> SqlAsync(string database, string sql)
    {
        var (ok, output) = await TryRunAsync(Path.Combine(_bin, "psql"),
            ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "edge", "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql]).ConfigureAwait(false);
        return ok ? output.Trim() : throw new InvalidOperationException($"psql failed: {output}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_server.HasExited)
        {
            // SIGQUIT: immediate shutdown, no checkpoint (the cluster is thrown away).
            _ = Kill(_server.Id, 3);
            if (!_server.WaitForExit(10_000))
            {
                _server.Kill(entireProcessTree: true);
            }
        }

        await _server.WaitForExitAsync().ConfigureAwait(false);
        _server.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private static string? FindBin()
    {
        const string Root = "/usr/lib/postgresql";
        if (!System.IO.Directory.Exists(Root))
        {
            return null;
        }

        return System.IO.Directory.GetDirectories(Root)
            .Select(d => (Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0, Bin: Path.Combine(d, "bin")))
            .Where(d => File.Exists(Path.Combine(d.Bin, "postgres")))
            .OrderByDescending(d => d.Version)
            .Select(d => d.Bin)
            .FirstOrDefault();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Process Start(string file, string[] arguments, bool asPostgres)
    {
        var start = asPostgres
            // setpriv execs (no process in between), so the process is the server itself and takes signals directly.
            ? new ProcessStartInfo("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--clear-groups", "--", file, .. arguments])
            : new ProcessStartInfo(file, arguments);
        start.RedirectStandardError = true;
        start.RedirectStandardOutput = true;
        start.UseShellExecute = false;
        return Process.Start(start)!;
    }

    private static async Task RunAsync(string file, string[] arguments, bool asPostgres = false)
    {
        using var process = Start(file, arguments, asPostgres);
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} failed ({process.ExitCode}): {await error.ConfigureAwait(false)}{await output.ConfigureAwait(false)}");
        }
    }

    private static async Task<(bool Ok, string Output)> TryRunAsync(string file, string[] arguments)
    {
        using var process = Start(file, arguments, asPostgres: false);
        var error = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        return (process.ExitCode == 0, process.ExitCode == 0 ? output : output + await error.ConfigureAwait(false));
    }
}
