using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Configuration;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Upstreams;
using Archestra.Edge.Utilities;
using Microsoft.Extensions.Logging.Abstractions;

namespace Archestra.Edge.Tests.Gateway;

/// <summary>Name mapping: how upstream lists become a profile's catalog.</summary>
public sealed class CatalogBuilderTests : IDisposable
{
    private readonly UpstreamServices _services = new(NullLoggerFactory.Instance, TimeProvider.System, new NoEvents(), new NoIntrospection());

    [Fact]
    public void Prefixed_NamesEachItemWithItsServer_AndKeepsEverythingElse()
    {
        var github = Server("github");
        var jira = Server("jira");
        var catalog = Build(Profile(ToolNaming.Prefixed),
            Source(github, List("""{"name":"search","description":"Find things","inputSchema":{"type":"object"},"x-extra":[1,2.50]}"""), include: []),
            Source(jira, List("""{"name":"search","inputSchema":{}}""", """{"name":"delete_all","inputSchema":{}}"""), include: [], exclude: ["delete_*"]));

        var json = Encoding.UTF8.GetString(catalog.ResultJson);
        Assert.Equal("""{"tools":[{"name":"github__search","description":"Find things","inputSchema":{"type":"object"},"x-extra":[1,2.50]},{"name":"jira__search","inputSchema":{}}]}""", json);
        Assert.Equal(["github__search", "jira__search"], catalog.Entries.Keys.Order());
        Assert.Same(jira, catalog.Entries["jira__search"].Server);
        Assert.Equal("\"search\"", Encoding.UTF8.GetString(catalog.Entries["jira__search"].UpstreamNameToken));
    }

    [Fact]
    public void Bare_Collision_FirstServerInConfigOrderWins_AndIsReported()
    {
        var a = Server("a");
        var b = Server("b");
        var collisions = new List<CatalogCollision>();
        var catalog = CatalogBuilder.Build(CatalogKind.Tools, Profile(ToolNaming.Bare),
            [Source(a, List("""{"name":"echo"}""")), Source(b, List("""{"name":"echo"}""", """{"name":"only_b"}"""))], collisions);

        Assert.Same(a, catalog.Entries["echo"].Server);
        Assert.Same(b, catalog.Entries["only_b"].Server);
        Assert.Equal([new CatalogCollision("echo", "a", "b")], collisions);
    }

    [Fact]
    public void FailedServer_IsLeftOut_AndRecorded()
    {
        var good = Server("good");
        var bad = Server("bad");
        var catalog = Build(Profile(ToolNaming.Prefixed),
            Source(good, List("""{"name":"x"}""")),
            new CatalogSource(Assignment("bad"), bad, new ServerList([], UpstreamError.Unavailable("down"))));

        Assert.False(catalog.IsComplete);
        Assert.Equal("bad", catalog.Failures.Single().Server);
        Assert.Equal(["good__x"], catalog.Entries.Keys.ToArray());
    }

    [Theory]
    [InlineData("\"s__echo\"")]
    [InlineData("\"s\\u005f_echo\"")]
    public void Lookup_DecodesPlainAndEscapedNames(string token)
    {
        var catalog = Build(Profile(ToolNaming.Prefixed), Source(Server("s"), List("""{"name":"echo"}""")));
        Assert.True(CatalogBuilder.TryGetEntry(catalog, Encoding.UTF8.GetBytes(token), out var entry));
        Assert.Equal("echo", entry!.UpstreamName);
    }

    [Fact]
    public void ExposedNamesWithQuotes_AreEscapedInTheList()
    {
        var catalog = Build(Profile(ToolNaming.Prefixed), Source(Server("s"), List("""{"name":"we\"ird"}""")));
        using var document = JsonDocument.Parse(catalog.ResultJson);
        Assert.Equal("s__we\"ird", document.RootElement.GetProperty("tools")[0].GetProperty("name").GetString());
    }

    public void Dispose() => _services.Dispose();

    private static Catalog Build(ProfileModel profile, params CatalogSource[] sources)
        => CatalogBuilder.Build(CatalogKind.Tools, profile, sources, []);

    private static ProfileModel Profile(ToolNaming naming)
        => new("p", null, null, null, naming, "__", [], [], []);

    private UpstreamServer Server(string name)
        => new(new ServerModel(name, ServerKind.Builtin, TimeSpan.FromSeconds(5), null, null, "archestra"), _services);

    private static AssignmentModel Assignment(string server, string[]? include = null, string[]? exclude = null)
        => new(server, Globs(include ?? []), Globs(exclude ?? []));

    private static CatalogSource Source(UpstreamServer server, ServerList list, string[]? include = null, string[]? exclude = null)
        => new(Assignment(server.Name, include, exclude), server, list);

    private static ImmutableArray<Glob> Globs(string[] patterns)
        => [.. patterns.Select(p => Glob.TryParse(p, out var g, out var error) ? g! : throw new ArgumentException(error))];

    private static ServerList List(params string[] items)
        => new([.. items.Select(i =>
        {
            var raw = Encoding.UTF8.GetBytes(i);
            using var document = JsonDocument.Parse(raw);
            return new ServerListItem(document.RootElement.GetProperty("name").GetString()!, raw, ServerListFetcher.FindNameToken(raw));
        })], UpstreamError.None);

    private sealed class NoEvents : IUpstreamEvents
    {
        public void OnSessionOpened(UpstreamServer server, UpstreamSession session, bool reopened)
        {
        }

        public void OnSessionClosed(UpstreamServer server, UpstreamSession session)
        {
        }

        public void OnNotification(UpstreamServer server, UpstreamSession session, UpstreamMessage message) => message.Dispose();

        public void OnRequest(UpstreamServer server, UpstreamSession session, UpstreamMessage message) => message.Dispose();
    }

    private sealed class NoIntrospection : IGatewayIntrospection
    {
        public DateTimeOffset StartedAt => DateTimeOffset.UnixEpoch;

        public IReadOnlyList<ServerStatus> ServersOf(string profile) => [];
    }
}
