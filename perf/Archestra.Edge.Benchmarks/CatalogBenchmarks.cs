using System.Text;
using System.Text.Json;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Model;
using Archestra.Edge.Upstreams;
using Archestra.Edge.Utilities;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Archestra.Edge.Benchmarks;

/// <summary>Routing a call by name in a 10 servers × 50 tools catalog, and building that catalog.</summary>
[MemoryDiagnoser]
public class CatalogBenchmarks
{
    private Catalog _catalog = null!;
    private CatalogSource[] _sources = [];
    private ProfileModel _profile = null!;
    private byte[] _hit = [];
    private byte[] _miss = [];

    [GlobalSetup]
    public void Setup()
    {
        var services = new UpstreamServices(NullLoggerFactory.Instance, TimeProvider.System, NoEvents.Instance, NoEvents.Instance);
        _profile = new ProfileModel("p", null, null, null, ToolNaming.Prefixed, "__", [], [], []);
        _sources = new CatalogSource[10];
        for (var s = 0; s < 10; s++)
        {
            var server = new UpstreamServer(new ServerModel($"server{s}", ServerKind.Builtin, TimeSpan.FromSeconds(60), null, null, "archestra"), services);
            var items = new List<ServerListItem>();
            for (var t = 0; t < 50; t++)
            {
                var raw = Encoding.UTF8.GetBytes("""{"name":"tool_T","description":"Synthetic tool T","inputSchema":{"type":"object","properties":{"a":{"type":"string"}}}}""".Replace("T", t.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
                items.Add(new ServerListItem($"tool_{t}", raw, ServerListFetcher.FindNameToken(raw)));
            }

            _ = Glob.TryParse("*", out var all, out _);
            _sources[s] = new CatalogSource(new AssignmentModel(server.Name, [all!], []), server, new ServerList([.. items], UpstreamError.None));
        }

        _catalog = CatalogBuilder.Build(CatalogKind.Tools, _profile, _sources, new CatalogNotes());
        _hit = Encoding.UTF8.GetBytes("\"server7__tool_42\"");
        _miss = Encoding.UTF8.GetBytes("\"server7__nope\"");
    }

    [Benchmark]
    public bool LookupHit() => CatalogBuilder.TryGetEntry(_catalog, _hit, out _);

    [Benchmark]
    public bool LookupMiss() => CatalogBuilder.TryGetEntry(_catalog, _miss, out _);

    [Benchmark]
    public int Build500Tools() => CatalogBuilder.Build(CatalogKind.Tools, _profile, _sources, new CatalogNotes()).ResultJson.Length;

    private sealed class NoEvents : IUpstreamEvents, IGatewayIntrospection
    {
        public static readonly NoEvents Instance = new();

        public DateTimeOffset StartedAt => DateTimeOffset.UnixEpoch;

        public void OnSessionOpened(UpstreamServer server, UpstreamSession session, bool reopened, ICallerContext? owner)
        {
        }

        public void OnSessionClosed(UpstreamServer server, UpstreamSession session, ICallerContext? owner)
        {
        }

        public void OnNotification(UpstreamServer server, UpstreamSession session, UpstreamMessage message, ICallerContext? owner) => message.Dispose();

        public void OnRequest(UpstreamServer server, UpstreamSession session, UpstreamMessage message, ICallerContext? owner) => message.Dispose();

        public IReadOnlyList<ServerStatus> ServersOf(string profile) => [];

        public IReadOnlyList<ServerStatus> AllServers() => [];
    }

    internal static JsonElement Unused => default;
}
