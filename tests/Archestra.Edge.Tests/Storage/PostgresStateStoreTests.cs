using Archestra.Edge.Storage;
using Archestra.Edge.Storage.Postgres;
using Archestra.Edge.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Archestra.Edge.Tests.Storage;

/// <summary>One real PostgreSQL server (Debian's package) for every test that needs one; each test takes a fresh database.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    internal PostgresServer Server => _server ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>The connection string of a new, empty database.</summary>
    public string NewDatabase() => Server.ConnectionString(Server.CreateDatabaseAsync().GetAwaiter().GetResult());
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}

/// <summary>The contract, on PostgreSQL: the same tests as on SQLite, against a real server.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStateStoreTests(PostgresFixture postgres) : StateStoreContractTests
{
    private readonly string _connection = postgres.NewDatabase();

    private protected override StateStores Create() => StateStores.Postgres(new PostgresDatabase(_connection), "test", NullLogger.Instance);

    [Fact]
    public async Task InstancesStartingTogether_MigrateOnce()
    {
        var databases = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => new PostgresDatabase(_connection))));
        using var connection = databases[0].Connect();
        using var count = PostgresDatabase.Command(connection, "SELECT count(*) FROM schema_version");
        Assert.Equal(1L, count.ExecuteScalar());
        foreach (var database in databases)
        {
            database.Dispose();
        }
    }

    [Fact]
    public void EveryInstance_ReadsTheSameFleetSecret_AndAuditRowsNameTheirInstance()
    {
        var a = StateStores.Postgres(new PostgresDatabase(_connection), "aaaa", NullLogger.Instance);
        var b = StateStores.Postgres(new PostgresDatabase(_connection), "bbbb", NullLogger.Instance);
        Assert.Equal(32, a.Fleet!.Secret().Length);
        Assert.Equal(a.Fleet.Secret(), b.Fleet!.Secret());

        a.Audit.Insert([new Archestra.Edge.Observability.Audit.AuditRecord(Start, "org", "p", "s", "tools/call", "t", "ok", 1, 2, 3, "x")], Model.AuditArguments.None);
        b.Audit.Insert([new Archestra.Edge.Observability.Audit.AuditRecord(Start.AddSeconds(1), "org", "p", "s", "tools/call", "t", "ok", 1, 2, 3, "y")], Model.AuditArguments.None);
        Assert.Equal(["x", "y"], a.Audit.Read(null, null, null).Select(r => r.Session));
        var database = new PostgresDatabase(_connection);
        using var connection = database.Connect();
        using var instances = PostgresDatabase.Command(connection, "SELECT string_agg(instance, ',' ORDER BY id) FROM audit");
        Assert.Equal("aaaa,bbbb", instances.ExecuteScalar());
    }

    [Fact]
    public void Members_BeatAndLeave_AndTheSilentOnesAreNotLive()
    {
        var fleet = Stores.Fleet!;
        fleet.Beat(new Archestra.Edge.Fleet.FleetMember("a", new Uri("http://10.0.0.1:9000"), "1", "f1", Start, Start), Start.AddHours(-1));
        fleet.Beat(new Archestra.Edge.Fleet.FleetMember("b", new Uri("http://10.0.0.2:9000"), "1", "f1", Start, Start.AddSeconds(5)), Start.AddHours(-1));
        fleet.Beat(new Archestra.Edge.Fleet.FleetMember("a", new Uri("http://10.0.0.1:9000"), "1", "f2", Start, Start.AddSeconds(20)), Start.AddHours(-1));

        var live = fleet.Members(Start.AddSeconds(10));
        Assert.Equal("a", Assert.Single(live).Instance);
        Assert.Equal("f2", live[0].Fingerprint);
        Assert.Equal(2, fleet.Members(Start).Count);

        fleet.Leave("a");
        Assert.Equal(["b"], fleet.Members(Start).Select(m => m.Instance));

        // Rows of instances silent for longer than the forget horizon are deleted by the next beat.
        fleet.Beat(new Archestra.Edge.Fleet.FleetMember("c", new Uri("http://10.0.0.3:9000"), "1", "f2", Start, Start.AddHours(2)), Start.AddHours(1));
        Assert.Equal(["c"], fleet.Members(Start).Select(m => m.Instance));
    }

    [Fact]
    public async Task ARevocation_ReachesAnotherInstancesTokenStore_ByNotification_WithinASecond()
    {
        // A fake clock that never moves: the one-second poll never runs, so only the notification can do it.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Start);
        var a = StateStores.Postgres(new PostgresDatabase(_connection), "a", NullLogger.Instance);
        var b = StateStores.Postgres(new PostgresDatabase(_connection), "b", NullLogger.Instance);
        using var onA = new Archestra.Edge.Identity.TokenStore(a.Tokens(), [], clock, NullLogger.Instance);
        using var onB = new Archestra.Edge.Identity.TokenStore(b.Tokens(), [], clock, NullLogger.Instance);
        var (record, secret) = onA.Create("ci", Model.TokenScope.Org, [], null);
        var hash = Archestra.Edge.Identity.TokenSecrets.Hash(secret);
        await Eventually(() => onB.TryFind(hash, out _), TimeSpan.FromSeconds(1));

        var revoked = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(onA.Revoke(record.Id));
        await Eventually(() => !onB.TryFind(hash, out _), TimeSpan.FromSeconds(1));
        Assert.True(revoked.Elapsed < TimeSpan.FromSeconds(1), $"took {revoked.Elapsed}");
    }

    private static async Task Eventually(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within {within}");
            await Task.Delay(10);
        }
    }
}
