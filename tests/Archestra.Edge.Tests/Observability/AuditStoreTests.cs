using System.Text;
using Archestra.Edge.Model;
using Archestra.Edge.Observability.Audit;
using Archestra.Edge.Storage.Sqlite;

namespace Archestra.Edge.Tests.Observability;

public sealed class AuditStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("archestra-audit-").FullName;

    [Theory]
    [InlineData("""{"token":"s3cret","n":{"deep":1}}""", "redacted", """{"token":"[redacted]","n":"[redacted]"}""")]
    [InlineData("""[1,2]""", "redacted", "\"[redacted]\"")]
    [InlineData("""{"broken""", "redacted", "\"[redacted]\"")]
    [InlineData("""{"token":"s3cret"}""", "full", """{"token":"s3cret"}""")]
    [InlineData("""{"token":"s3cret"}""", "none", null)]
    public void Arguments_AreKeptAsConfigured(string raw, string mode, string? kept)
    {
        var arguments = mode switch { "full" => AuditArguments.Full, "none" => AuditArguments.None, _ => AuditArguments.Redacted };
        Assert.Equal(kept, AuditRedaction.Keep(Encoding.UTF8.GetBytes(raw), arguments));
    }

    [Fact]
    public void Records_RoundTrip_NewestLast_AndPruningRemovesOnlyTheOldOnes()
    {
        IAuditRepository store = new SqliteAuditRepository(StateDatabase.Open(_directory));
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var records = new List<AuditRecord>();
        for (var day = 0; day < 10; day++)
        {
            records.Add(new AuditRecord(start.AddDays(day), "user:alice", "p", "s", "tools/call", $"tool{day}", "ok", 1.5, 100, 200, "session")
            {
                Arguments = Encoding.UTF8.GetBytes("""{"a":1}"""),
            });
        }

        store.Insert(records, AuditArguments.Redacted);

        var newest = store.Read(since: null, until: null, last: 3);
        Assert.Equal(["tool7", "tool8", "tool9"], newest.Select(r => r.Item));
        Assert.Equal("""{"a":"[redacted]"}""", newest[0].StoredArguments);

        Assert.Equal(7, store.Prune(start.AddDays(7)));
        var left = store.Read(since: null, until: null, last: null);
        Assert.Equal(["tool7", "tool8", "tool9"], left.Select(r => r.Item));
        Assert.Equal(start.AddDays(7), left[0].At);
        Assert.Single(store.Read(since: start.AddDays(8), until: start.AddDays(9), last: null));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
