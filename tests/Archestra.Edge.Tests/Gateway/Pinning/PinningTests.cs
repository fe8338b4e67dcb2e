using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Configuration;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Gateway.Pinning;
using Archestra.Edge.Model;
using Archestra.Edge.Tests.Infrastructure;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Tests.Gateway.Pinning;

/// <summary>Definition digests, the lock file, and how a catalog treats items that no longer match it.</summary>
public sealed class PinningTests : IDisposable
{
    private const string Echo = """{"name":"echo","description":"Echoes","inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}}""";

    private readonly UpstreamServices _services = DetachedUpstreams.Services(TimeProvider.System);
    private readonly string _directory = Directory.CreateTempSubdirectory("archestra-pin-unit-").FullName;

    [Fact]
    public void TheDigest_IgnoresPropertyOrderWhitespaceNameAndMeta_ButNotAnyPinnedByte()
    {
        var digest = ItemDefinition.Digest(Encoding.UTF8.GetBytes(Echo));
        var reordered = ItemDefinition.Digest(Encoding.UTF8.GetBytes("""
            { "inputSchema": { "required": ["text"], "properties": { "text": { "type": "string" } }, "type": "object" },
              "_meta": { "build": 42 }, "description": "Echoes", "name": "other" }
            """));
        Assert.Equal(digest.Digest, reordered.Digest);
        Assert.Equal(["description", "inputSchema"], digest.Fields.Keys.Order(StringComparer.Ordinal));

        string[] changed =
        [
            Echo.Replace("Echoes", "Echoes ", StringComparison.Ordinal),
            Echo.Replace("\"required\":[\"text\"]", "\"required\":[]", StringComparison.Ordinal),
            Echo[..^1] + ",\"annotations\":{\"destructiveHint\":true}}",
            Echo.Replace("\"description\":\"Echoes\",", string.Empty, StringComparison.Ordinal),
            Echo.Replace("{\"name\":\"echo\",", "{\"name\":\"echo\",\"title\":\"Echo\",", StringComparison.Ordinal),
            Echo.Replace("\"type\":\"string\"", "\"type\":\"string\",\"maxLength\":1", StringComparison.Ordinal),
        ];
        foreach (var variant in changed)
        {
            Assert.NotEqual(digest.Digest, ItemDefinition.Digest(Encoding.UTF8.GetBytes(variant)).Digest);
        }

        // Escapes are decoded before hashing: the same text written two ways is the same definition.
        Assert.Equal(digest.Digest, ItemDefinition.Digest(Encoding.UTF8.GetBytes(Echo.Replace("Echoes", "\\u0045choes", StringComparison.Ordinal))).Digest);
    }

    [Fact]
    public void ChangedFields_NameWhatWasAddedRemovedOrAltered()
    {
        var before = ItemDefinition.Digest(Encoding.UTF8.GetBytes(Echo));
        var after = ItemDefinition.Digest(Encoding.UTF8.GetBytes("""{"name":"echo","description":"Now different","annotations":{"readOnlyHint":false},"inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}}"""));
        Assert.Equal(["annotations", "description"], PinCheck.ChangedFields(before, after).ToArray());
        Assert.Equal(["annotations", "description"], PinCheck.ChangedFields(after, before).ToArray());
    }

    [Fact]
    public void TheLockFile_RoundTrips_Sorted_AndRefusesHandEditsAndBrokenJsonWithPositions()
    {
        var path = Path.Combine(_directory, "archestra.lock.json");
        var survey = new ServerSurvey("s", List(Echo, """{"name":"add","description":"Adds","inputSchema":{}}"""), List("""{"name":"greet","arguments":[]}"""));
        LockFile.Write(path, new SortedDictionary<string, LockedServer>(StringComparer.Ordinal) { ["s"] = survey.ToLocked() });

        var text = File.ReadAllText(path);
        Assert.True(text.IndexOf("\"add\"", StringComparison.Ordinal) < text.IndexOf("\"echo\"", StringComparison.Ordinal)); // sorted: stable diffs
        Assert.Contains("\"description\": \"Echoes\"", text, StringComparison.Ordinal); // the definition is there to review
        var problems = new List<ConfigDiagnostic>();
        var read = LockFile.Read(path, problems)!;
        Assert.Empty(problems);
        Assert.Empty(PinSurvey.Compare(survey, read["s"]));
        var pins = LockFile.ToPinLock(path, true, read);
        Assert.Equal(survey.Tools.Digests[0].Digest, pins.For("s").Tools["echo"].Digest);
        Assert.Same(ServerPins.Empty, pins.For("unknown"));

        // The digest of a definition edited by hand no longer matches it: refused, not trusted.
        File.WriteAllText(path, text.Replace("\"description\": \"Echoes\"", "\"description\": \"Echoes, edited\"", StringComparison.Ordinal));
        Assert.Null(LockFile.Read(path, problems));
        Assert.Equal("servers.s.tools.echo", problems.Single().Path);
        Assert.Contains("does not match its definition", problems.Single().Message, StringComparison.Ordinal);

        problems.Clear();
        File.WriteAllText(path, "{\n  \"version\": 1,\n  \"servers\": [\n");
        Assert.Null(LockFile.Read(path, problems));
        Assert.Equal((4, "the lock file is not valid JSON"), (problems.Single().Line, problems.Single().Message));

        problems.Clear();
        File.WriteAllText(path, "{\"version\": 7}");
        Assert.Null(LockFile.Read(path, problems));
        Assert.Contains("lock file version 7 is not supported", problems.Single().Message, StringComparison.Ordinal);

        problems.Clear();
        Assert.NotNull(LockFile.Read(Path.Combine(_directory, "absent.lock.json"), problems)); // no lock: nothing pinned
        Assert.Empty(problems);
    }

    [Fact]
    public void TheLockFile_SitsBesideTheConfig_WithItsStem()
        => Assert.Equal(Path.Combine(_directory, "edge.lock.json"), PinLock.PathFor(Path.Combine(_directory, "edge.yaml")));

    [Fact]
    public void UnderBlock_ChangedAndNewItemsAreWithheld_AndACallIsToldWhy_UnderWarn_TheyAreServed()
    {
        var pinned = Pins(List(Echo, """{"name":"add","inputSchema":{}}"""));
        var live = List(Echo.Replace("Echoes", "Echoes, and reads ~/.ssh", StringComparison.Ordinal), """{"name":"add","inputSchema":{}}""", """{"name":"fresh","inputSchema":{}}""");
        var server = Server("s");

        var notes = new CatalogNotes();
        var blocked = CatalogBuilder.Build(CatalogKind.Tools, Profile(), [new CatalogSource(Assignment("s"), server, live) { Pins = new SourcePins(PinningMode.Block, pinned) }], notes);
        Assert.Equal(["s__add"], blocked.Entries.Keys.ToArray());
        Assert.Equal("""{"tools":[{"name":"s__add","inputSchema":{}}]}""", Encoding.UTF8.GetString(blocked.ResultJson));
        Assert.Equal(new WithheldItem("s", "echo", "changed since pinned: description"), blocked.Withheld["s__echo"]);
        Assert.Equal(new WithheldItem("s", "fresh", "new since pinned"), blocked.Withheld["s__fresh"]);
        Assert.Equal([("echo", PinChange.Changed), ("fresh", PinChange.New)], notes.PinMismatches.Select(n => (n.Mismatch.Name, n.Mismatch.Change)).Order());

        var warned = CatalogBuilder.Build(CatalogKind.Tools, Profile(), [new CatalogSource(Assignment("s"), server, live) { Pins = new SourcePins(PinningMode.Warn, pinned) }], new CatalogNotes());
        Assert.Equal(["s__add", "s__echo", "s__fresh"], warned.Entries.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(warned.Withheld);

        // A matching list is served whole; the check is made once per list and lock.
        var matching = List(Echo, """{"name":"add","inputSchema":{}}""");
        var outcome = PinCheck.Apply(matching, CatalogKind.Tools, new SourcePins(PinningMode.Block, pinned));
        Assert.Same(matching, outcome.Admitted);
        Assert.Same(outcome, PinCheck.Apply(matching, CatalogKind.Tools, new SourcePins(PinningMode.Block, pinned)));
    }

    [Fact]
    public void APinnedServerWithoutALockEntry_HasEveryItemWithheld()
    {
        var catalog = CatalogBuilder.Build(CatalogKind.Tools, Profile(), [new CatalogSource(Assignment("s"), Server("s"), List(Echo)) { Pins = new SourcePins(PinningMode.Block, ServerPins.Empty.Tools) }], new CatalogNotes());
        Assert.Empty(catalog.Entries);
        Assert.Equal("new since pinned", catalog.Withheld["s__echo"].What);
    }

    [Fact]
    public void TheReport_IsSaidOncePerDefinition_AndItsMemoryIsBounded()
    {
        var logger = new CollectingLogger();
        var reporter = new PinReporter(logger, TimeProvider.System, null, null);
        var mismatch = new PinMismatch(CatalogKind.Tools, "echo", PinChange.Changed, ["description"], "d1");
        reporter.Report("p", "s", PinningMode.Block, mismatch);
        reporter.Report("p", "s", PinningMode.Block, mismatch);
        Assert.Single(logger.Messages);
        reporter.Report("p", "s", PinningMode.Block, mismatch with { LiveDigest = "d2" }); // changed again: said again
        Assert.Equal(2, logger.Messages.Count);

        for (var i = 0; i < PinReporter.Capacity + 10; i++)
        {
            reporter.Report("p", "s", PinningMode.Warn, mismatch with { Name = $"t{i}" });
        }

        Assert.True(reporter.Remembered <= PinReporter.Capacity);
    }

    public void Dispose()
    {
        _services.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private sealed class CollectingLogger : Microsoft.Extensions.Logging.ILogger
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Messages.Add(formatter(state, exception));
    }

    private static FrozenDictionary<string, PinnedItem> Pins(ServerList list)
        => list.Items.Select((item, i) => (item.Name, list.Digests[i])).ToFrozenDictionary(static p => p.Name, static p => p.Item2, StringComparer.Ordinal);

    private static ProfileModel Profile() => new("p", null, null, null, ToolNaming.Prefixed, "__", [], [], []);

    private UpstreamServer Server(string name)
        => new(new ServerModel(name, ServerKind.Builtin, TimeSpan.FromSeconds(5), null, null, "archestra"), _services);

    private static AssignmentModel Assignment(string server) => new(server, [], []);

    private static ServerList List(params string[] items) => ServerLists.Of(items);
}
