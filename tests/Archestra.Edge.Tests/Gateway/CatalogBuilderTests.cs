using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Model;
using Archestra.Edge.Tests.Infrastructure;
using Archestra.Edge.Upstreams;
using Archestra.Edge.Utilities;
using Microsoft.Extensions.Logging.Abstractions;

namespace Archestra.Edge.Tests.Gateway;

/// <summary>Name mapping: how upstream lists become a profile's catalog.</summary>
public sealed class CatalogBuilderTests : IDisposable
{
    private readonly UpstreamServices _services = DetachedUpstreams.Services(TimeProvider.System);

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
        var notes = new CatalogNotes();
        var catalog = CatalogBuilder.Build(CatalogKind.Tools, Profile(ToolNaming.Bare),
            [Source(a, List("""{"name":"echo"}""")), Source(b, List("""{"name":"echo"}""", """{"name":"only_b"}"""))], notes);

        Assert.Same(a, catalog.Entries["echo"].Server);
        Assert.Same(b, catalog.Entries["only_b"].Server);
        Assert.Equal([new CatalogCollision("echo", "a", "echo", "b", "echo")], notes.Collisions);
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
    public void NamesWithQuotes_AreRepaired_AndStillRouteToTheUpstreamName()
    {
        var catalog = Build(Profile(ToolNaming.Prefixed), Source(Server("s"), List("""{"name":"we\"ird"}""")));
        using var document = JsonDocument.Parse(catalog.ResultJson);
        Assert.Equal("s__we_ird", document.RootElement.GetProperty("tools")[0].GetProperty("name").GetString());
        Assert.Equal("we\"ird", catalog.Entries["s__we_ird"].UpstreamName);
        Assert.Equal("\"we\\\"ird\"", Encoding.UTF8.GetString(catalog.Entries["s__we_ird"].UpstreamNameToken));
    }

    [Fact]
    public void Curation_RenamesDescribesAndHidesFixedArguments()
    {
        var github = Server("github");
        var assignment = Assignment("github") with
        {
            Renames = new Dictionary<string, string> { ["search_repositories"] = "find_repos" }.ToFrozenDictionary(),
            Descriptions = new Dictionary<string, string> { ["create_issue"] = "Open an issue in the team tracker" }.ToFrozenDictionary(),
            FixedArguments = new Dictionary<string, FixedArguments> { ["create_issue"] = new(["owner"], "\"owner\":\"acme\""u8.ToArray()) }.ToFrozenDictionary(),
        };
        var catalog = Build(Profile(ToolNaming.Prefixed), Source(github, List(
            """{"name":"search_repositories","description":"Search","inputSchema":{"type":"object"}}""",
            """{"name":"create_issue","description":"Create","inputSchema":{"type":"object","properties":{"owner":{"type":"string"},"title":{"type":"string"}},"required":["owner","title"]}}"""), assignment));

        using var document = JsonDocument.Parse(catalog.ResultJson);
        var tools = document.RootElement.GetProperty("tools");
        Assert.Equal("github__create_issue", tools[0].GetProperty("name").GetString());
        Assert.Equal("Open an issue in the team tracker", tools[0].GetProperty("description").GetString());
        var schema = tools[0].GetProperty("inputSchema");
        Assert.False(schema.GetProperty("properties").TryGetProperty("owner", out _));
        Assert.True(schema.GetProperty("properties").TryGetProperty("title", out _));
        Assert.Equal(["title"], schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal("github__find_repos", tools[1].GetProperty("name").GetString());
        Assert.Equal("Search", tools[1].GetProperty("description").GetString());
        Assert.Equal("search_repositories", catalog.Entries["github__find_repos"].UpstreamName);
        Assert.NotNull(catalog.Entries["github__create_issue"].Fixed);
        Assert.Null(catalog.Entries["github__find_repos"].Fixed);
    }

    [Fact]
    public void Names_AreRepairedIntoTheMcpAlphabet_AndShortenedTo128_Deterministically()
    {
        var s = Server("s");
        var longName = new string('x', 200);
        var catalog = Build(Profile(ToolNaming.Prefixed), Source(s, List(
            """{"name":"has space/slash"}""", "{\"name\":\"" + longName + "\"}", """{"name":"ünï"}""")));

        var names = catalog.Entries.Keys.Order().ToArray();
        Assert.Contains("s__has_space_slash", names);
        Assert.Contains("s___n_", names);
        var shortened = Assert.Single(names, n => n.StartsWith("s__xxx", StringComparison.Ordinal));
        Assert.Equal(128, shortened.Length);
        Assert.All(names, n => Assert.Matches("^[A-Za-z0-9_.-]{1,128}$", n));

        var again = Build(Profile(ToolNaming.Prefixed), Source(s, List("{\"name\":\"" + longName + "\"}")));
        Assert.Equal(shortened, again.Entries.Keys.Single());
    }

    [Fact]
    public void Repair_PrefersTheItemWhoseNameNeedsNoRepair()
    {
        var s = Server("s");
        var notes = new CatalogNotes();
        var catalog = CatalogBuilder.Build(CatalogKind.Tools, Profile(ToolNaming.Bare), [Source(s, List("""{"name":"a b"}""", """{"name":"a_b"}"""))], notes);

        Assert.Equal("a_b", catalog.Entries["a_b"].UpstreamName);
        Assert.Equal("a b", Assert.Single(notes.Collisions).DroppedName);
    }

    [Fact]
    public void Order_IsByExposedName_WhateverTheUpstreamOrder()
    {
        var a = Server("a");
        var one = Build(Profile(ToolNaming.Bare), Source(a, List("""{"name":"zeta"}""", """{"name":"alpha"}""", """{"name":"mid"}""")));
        var two = Build(Profile(ToolNaming.Bare), Source(a, List("""{"name":"mid"}""", """{"name":"zeta"}""", """{"name":"alpha"}""")));

        Assert.Equal(one.ResultJson, two.ResultJson);
        Assert.Equal(one.Fingerprint, two.Fingerprint);
        Assert.StartsWith("""{"tools":[{"name":"alpha"}""", Encoding.UTF8.GetString(one.ResultJson), StringComparison.Ordinal);
    }

    [Fact]
    public void UnmatchedCuration_IsReported()
    {
        var s = Server("s");
        var notes = new CatalogNotes();
        var assignment = Assignment("s") with
        {
            Renames = new Dictionary<string, string> { ["gone"] = "x", ["search_issues"] = "find" }.ToFrozenDictionary(),
            Descriptions = new Dictionary<string, string> { ["find"] = "keyed by the renamed name", ["serch_issues"] = "misspelt" }.ToFrozenDictionary(),
        };
        CatalogBuilder.Build(CatalogKind.Tools, Profile(ToolNaming.Prefixed), [Source(s, List("""{"name":"here"}""", """{"name":"search_issues"}"""), assignment)], notes);

        // Each entry that matches nothing, with the upstream name it could mean: the item renamed to it, or the closest spelling.
        Assert.Equal([("s", "gone", null), ("s", "find", "search_issues"), ("s", "serch_issues", "search_issues")], notes.UnmatchedCuration);
    }

    [Fact]
    public void Resources_GetTheServerPrefixInFrontOfTheirUri_OnlyUnderPrefixedNaming()
    {
        var fs = Server("fs");
        var item = """{"uri":"file:///tmp/a.txt","name":"a.txt"}""";
        var prefixed = CatalogBuilder.Build(CatalogKind.Resources, Profile(ToolNaming.Prefixed), [Source(fs, UriList("uri", item))], new CatalogNotes());
        var bare = CatalogBuilder.Build(CatalogKind.Resources, Profile(ToolNaming.Bare), [Source(fs, UriList("uri", item))], new CatalogNotes());

        Assert.Equal("""{"resources":[{"uri":"fs+file:///tmp/a.txt","name":"a.txt"}]}""", Encoding.UTF8.GetString(prefixed.ResultJson));
        Assert.Equal("file:///tmp/a.txt", prefixed.Entries["fs+file:///tmp/a.txt"].UpstreamName);
        Assert.Equal("""{"resources":[{"uri":"file:///tmp/a.txt","name":"a.txt"}]}""", Encoding.UTF8.GetString(bare.ResultJson));
    }

    [Fact]
    public void Pages_AreContiguousSlicesOfTheRenderedList()
    {
        var a = Server("a");
        var catalog = Build(Profile(ToolNaming.Bare), Source(a, List("""{"name":"t1"}""", """{"name":"t2"}""", """{"name":"t3"}""")));
        var page = new System.Buffers.ArrayBufferWriter<byte>();
        catalog.WritePage(page, 1, 2, "CUR"u8);
        Assert.Equal("""{"tools":[{"name":"t2"},{"name":"t3"}],"nextCursor":"CUR"}""", Encoding.UTF8.GetString(page.WrittenSpan));

        page.Clear();
        catalog.WritePage(page, 0, 1, default);
        Assert.Equal("""{"tools":[{"name":"t1"}]}""", Encoding.UTF8.GetString(page.WrittenSpan));

        var empty = Build(Profile(ToolNaming.Bare), Source(a, List()));
        page.Clear();
        empty.WritePage(page, 0, 0, default);
        Assert.Equal("""{"tools":[]}""", Encoding.UTF8.GetString(page.WrittenSpan));
        Assert.Equal("""{"tools":[]}""", Encoding.UTF8.GetString(empty.ResultJson));
    }

    [Fact]
    public void Cursors_RoundTrip_AndRejectGarbage()
    {
        Span<byte> cursor = stackalloc byte[ListCursor.MaxLength];
        var length = ListCursor.Format(0xDEADBEEF_01234567, 250, cursor);
        Assert.True(ListCursor.TryParse(cursor[..length], out var fingerprint, out var offset));
        Assert.Equal(0xDEADBEEF_01234567UL, fingerprint);
        Assert.Equal(250, offset);
        Assert.False(ListCursor.TryParse("not-a-cursor"u8, out _, out _));
        Assert.False(ListCursor.TryParse("AAAAAAAAAAAAAAAA"u8, out _, out _)); // offset 0 is never issued
    }

    public void Dispose() => _services.Dispose();

    private static Catalog Build(ProfileModel profile, params CatalogSource[] sources)
        => CatalogBuilder.Build(CatalogKind.Tools, profile, sources, new CatalogNotes());

    private static ProfileModel Profile(ToolNaming naming)
        => new("p", null, null, null, naming, "__", [], [], []);

    private UpstreamServer Server(string name)
        => new(new ServerModel(name, ServerKind.Builtin, TimeSpan.FromSeconds(5), null, null, "archestra"), _services);

    private static AssignmentModel Assignment(string server, string[]? include = null, string[]? exclude = null)
        => new(server, Globs(include ?? []), Globs(exclude ?? []));

    private static CatalogSource Source(UpstreamServer server, ServerList list, string[]? include = null, string[]? exclude = null)
        => new(Assignment(server.Name, include, exclude), server, list);

    private static CatalogSource Source(UpstreamServer server, ServerList list, AssignmentModel assignment)
        => new(assignment, server, list);

    private static ImmutableArray<Glob> Globs(string[] patterns)
        => [.. patterns.Select(p => Glob.TryParse(p, out var g, out var error) ? g! : throw new ArgumentException(error))];

    private static ServerList UriList(string key, params string[] items) => ServerLists.Keyed(key, items);

    private static ServerList List(params string[] items) => ServerLists.Of(items);
}
