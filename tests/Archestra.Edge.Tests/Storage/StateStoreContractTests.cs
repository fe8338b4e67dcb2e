using Archestra.Edge.Identity;
using Archestra.Edge.Identity.OAuth;
using Archestra.Edge.Model;
using Archestra.Edge.Observability.Audit;
using Archestra.Edge.Storage;
using Archestra.Edge.Storage.Sqlite;

namespace Archestra.Edge.Tests.Storage;

/// <summary>
/// What every state backend must do, written once against the repository interfaces: a second backend (PostgreSQL
/// for a fleet) derives a class that says how to create its stores, and passes the same tests.
/// </summary>
public abstract class StateStoreContractTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private readonly Lazy<StateStores> _stores;

    protected StateStoreContractTests()
    {
        _stores = new(Create);
    }

    private protected StateStores Stores => _stores.Value;

    private protected abstract StateStores Create();

    private protected static DateTimeOffset Start => T0;

    [Fact]
    public void Tokens_AreAdded_Listed_AndRevokedByIdOrByAUniqueName()
    {
        using var tokens = Stores.Tokens();
        var before = tokens.ChangeVersion();
        tokens.Add(Token("tok_1", "ci", T0));
        tokens.Add(Token("tok_2", "dup", T0.AddSeconds(1)));
        tokens.Add(Token("tok_3", "dup", T0.AddSeconds(2)));

        Assert.Equal(["tok_1", "tok_2", "tok_3"], tokens.LoadAll().Select(t => t.Id));
        Assert.False(tokens.Revoke("dup", T0.AddMinutes(1)));   // two active tokens have that name
        Assert.True(tokens.Revoke("ci", T0.AddMinutes(1)));     // unique name
        Assert.True(tokens.Revoke("tok_2", T0.AddMinutes(1)));  // id
        Assert.False(tokens.Revoke("tok_2", T0.AddMinutes(2))); // already revoked
        Assert.True(tokens.Revoke("dup", T0.AddMinutes(3)));    // now unique among the active ones

        var all = tokens.LoadAll();
        Assert.All(all, t => Assert.NotNull(t.RevokedAt));
        Assert.Equal(new TokenScope(PrincipalKind.User, "alice"), all[0].Scope);
        Assert.Equal<string>(["p", "q"], all[0].Profiles);
        Assert.Equal(T0.AddDays(30), all[0].ExpiresAt);

        // Another writer's commits are visible as a changed version.
        using var other = Stores.Tokens();
        other.Add(Token("tok_4", "later", T0));
        Assert.NotEqual(before, tokens.ChangeVersion());
    }

    [Fact]
    public void Connections_ArePut_Replaced_Listed_AndDeleted_PerServerAndOwner()
    {
        var connections = Stores.Connections;
        Assert.Null(connections.Get("github", "org"));
        connections.Put("github", "org", [1, 2, 3], T0);
        connections.Put("linear", "org", [4], T0.AddSeconds(1));
        connections.Put("github", "org", [5, 6], T0.AddSeconds(2)); // a refresh replaces the row

        var github = connections.Get("github", "org")!;
        Assert.Equal(new byte[] { 5, 6 }, github.Sealed);
        Assert.Equal(T0.AddSeconds(2), github.UpdatedAt);
        Assert.Equal(["github", "linear"], connections.List().Select(c => c.Server));
        Assert.True(connections.Delete("github", "org"));
        Assert.False(connections.Delete("github", "org"));
        Assert.Null(connections.Get("github", "org"));
        Assert.Null(connections.Get("linear", "user:alice"));
    }

    [Fact]
    public void Clients_AreFound_Touched_Counted_AndPrunedWhenUnusedOrIdle()
    {
        var clients = Stores.Clients;
        clients.Add(new OAuthClient("client_new", "New", ["http://127.0.0.1/cb", "https://app.example/cb"], "registered"), T0);
        clients.Add(new OAuthClient("client_used", null, ["https://used.example/cb"], "registered"), T0.AddDays(-100));
        clients.Add(new OAuthClient("client_idle", "Idle", ["https://idle.example/cb"], "registered"), T0.AddDays(-200));
        clients.Touch("client_used", T0.AddDays(-1));
        clients.Touch("client_idle", T0.AddDays(-100));

        var found = clients.Find("client_new")!;
        Assert.Equal("New", found.Name);
        Assert.Equal<string>(["http://127.0.0.1/cb", "https://app.example/cb"], found.RedirectUris);
        Assert.Null(clients.Find("client_used")!.Name);
        Assert.Null(clients.Find("nope"));
        Assert.Equal(3, clients.Count());

        // Never used and older than a day: none; used, but not within 90 days: client_idle.
        Assert.Equal(1, clients.Prune(unusedBefore: T0.AddDays(-1), idleBefore: T0.AddDays(-90)));
        Assert.Null(clients.Find("client_idle"));
        Assert.Equal(0, clients.Prune(unusedBefore: T0.AddDays(-1), idleBefore: T0.AddDays(-90)));
        Assert.Equal(1, clients.Prune(unusedBefore: T0.AddSeconds(1), idleBefore: T0.AddDays(-90))); // client_new, never used
        Assert.Equal(1, clients.Count());
    }

    [Fact]
    public void ACode_IsReadAndMarkedUsedInOneUnitOfWork_AndNothingCommitsWithoutCommit()
    {
        var grants = Stores.Grants;
        var hash = new byte[] { 1, 2, 3 };
        grants.AddCode(new NewCode(hash, "c1", "http://127.0.0.1/cb", "challenge", "alice", "http://gw/v1/mcp/p", null, T0.AddMinutes(1), "g1"));

        using (var abandoned = grants.Begin())
        {
            Assert.False(abandoned.FindCode(hash)!.Used);
            abandoned.MarkCodeUsed(hash, T0);
            abandoned.AddRefreshToken(new NewRefreshToken([9], "g1", "c1", "alice", "http://gw/v1/mcp/p", "mcp", T0.AddDays(30)));
        } // rolled back

        using (var transaction = grants.Begin())
        {
            var code = transaction.FindCode(hash)!;
            Assert.Equal(("c1", "alice", "g1", false), (code.ClientId, code.User, code.Grant, code.Used));
            Assert.Null(transaction.FindRefreshToken([9]));
            transaction.MarkCodeUsed(hash, T0);
            transaction.AddRefreshToken(new NewRefreshToken([7], "g1", "c1", "alice", "http://gw/v1/mcp/p", "mcp", T0.AddDays(30)));
            transaction.Commit();
        }

        using var after = grants.Begin();
        Assert.True(after.FindCode(hash)!.Used);
        var refresh = after.FindRefreshToken([7])!;
        Assert.Equal(("g1", "c1", "mcp", false, false), (refresh.Grant, refresh.ClientId, refresh.Scope, refresh.Used, refresh.Revoked));
        Assert.Null(after.FindCode([4]));
    }

    [Fact]
    public void RevokingAGrant_RevokesItsRefreshTokens_AndTheTokenStoreSeesItUntilItsAccessTokensExpire()
    {
        var grants = Stores.Grants;
        using (var transaction = grants.Begin())
        {
            transaction.AddRefreshToken(new NewRefreshToken([1], "g1", "c1", "alice", "r", null, T0.AddDays(30)));
            transaction.AddRefreshToken(new NewRefreshToken([2], "g2", "c2", "alice", "r", null, T0.AddDays(30)));
            transaction.AddRefreshToken(new NewRefreshToken([3], "g3", "c1", "bob", "r", null, T0.AddDays(30)));
            transaction.Commit();
        }

        Assert.Equal(["g1", "g2", "g3"], grants.List(null, T0).Select(g => g.Id).Order());
        Assert.Equal(["g1", "g2"], grants.List("alice", T0).Select(g => g.Id).Order());
        using (var transaction = grants.Begin())
        {
            Assert.Equal(["g1", "g2"], transaction.ActiveGrants(null, "alice", T0).Order());
            Assert.Equal("g3", transaction.GrantOfClient("c1", [3], null));
            Assert.Null(transaction.GrantOfClient("c2", [3], null)); // another client's token
            Assert.Equal("g2", transaction.GrantOfClient("c2", null, "g2"));
            transaction.RevokeGrant("g1", T0, revokedUntil: T0.AddMinutes(61));
            transaction.Commit();
        }

        using (var transaction = grants.Begin())
        {
            Assert.True(transaction.FindRefreshToken([1])!.Revoked);
            Assert.Equal(["g2"], transaction.ActiveGrants(null, "alice", T0));
        }

        Assert.NotNull(grants.List("alice", T0).Single(g => g.Id == "g1").RevokedAt);
        using var tokens = Stores.Tokens();
        Assert.Equal(["g1"], tokens.RevokedGrants(T0.AddMinutes(60)));
        Assert.Empty(tokens.RevokedGrants(T0.AddMinutes(62)));
    }

    [Fact]
    public void SigningKeys_Rotate_AndRetiredKeysStayUntilTheirTokensExpire()
    {
        var keys = Stores.SigningKeys;
        keys.Rotate("k1", "ES256", [1, 1], T0);
        keys.Rotate("k2", "ES256", [2, 2], T0.AddHours(1));
        keys.Rotate("k3", "RS256", [3, 3], T0.AddHours(2));

        var loaded = keys.Load(retiredSince: T0.AddMinutes(90));
        Assert.Equal(["k2", "k3"], loaded.Select(k => k.Kid)); // k1 was retired (at 1 h) before the cut-off
        Assert.Equal(T0.AddHours(2), loaded[0].RetiredAt);
        Assert.Null(loaded[1].RetiredAt); // the active one
        Assert.Equal("RS256", loaded[1].Algorithm);
        Assert.Equal([3, 3], loaded[1].PrivateKey);
    }

    [Fact]
    public void ASigningKey_IsCreatedOnlyIfNoneOfItsAlgorithmIsActive()
    {
        var keys = Stores.SigningKeys;
        Assert.True(keys.CreateIfNoneActive("k1", "ES256", [1], T0));
        Assert.False(keys.CreateIfNoneActive("k2", "ES256", [2], T0)); // another instance got there first
        Assert.True(keys.CreateIfNoneActive("k3", "RS256", [3], T0.AddHours(1))); // the algorithm changed: rotate
        var loaded = keys.Load(retiredSince: T0);
        Assert.Equal(["k1", "k3"], loaded.Select(k => k.Kid));
        Assert.Equal([T0.AddHours(1), (DateTimeOffset?)null], loaded.Select(k => k.RetiredAt));
    }

    [Fact]
    public void AuditRecords_AreWrittenInBatches_ReadInOrder_AndPruned()
    {
        var audit = Stores.Audit;
        using (var writer = audit.OpenWriter(AuditArguments.Redacted))
        {
            writer.Write([Record(T0, """{"token":"s3cret"}"""), Record(T0.AddMinutes(1), null) with { Decision = "deny:no-writes" }]);
            writer.Write([Record(T0.AddMinutes(2), null)]);
        }

        var all = audit.Read(null, null, null);
        Assert.Equal([T0, T0.AddMinutes(1), T0.AddMinutes(2)], all.Select(r => r.At));
        Assert.Equal("""{"token":"[redacted]"}""", all[0].StoredArguments);
        Assert.Equal([null, "deny:no-writes", null], all.Select(r => r.Decision));
        Assert.Equal([T0.AddMinutes(2)], audit.Read(null, null, last: 1).Select(r => r.At));
        Assert.Equal([T0.AddMinutes(1)], audit.Read(T0.AddSeconds(30), T0.AddSeconds(90), null).Select(r => r.At));
        Assert.Equal(2, audit.Prune(T0.AddSeconds(90)));
        Assert.Single(audit.Read(null, null, null));
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);

    private static TokenRecord Token(string id, string name, DateTimeOffset created)
        => new(id, name, TokenSecrets.Hash(id), new TokenScope(PrincipalKind.User, "alice"), ["p", "q"], created, created.AddDays(30), null, Declared: false);

    private static AuditRecord Record(DateTimeOffset at, string? arguments)
        => new(at, "user:alice", "p", "s", "tools/call", "echo", "ok", 1.5, 10, 20, "session")
        {
            Arguments = arguments is null ? null : System.Text.Encoding.UTF8.GetBytes(arguments),
        };
}

/// <summary>The contract, on SQLite (one database in a temporary data directory).</summary>
public sealed class SqliteStateStoreTests : StateStoreContractTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("archestra-state-").FullName;

    private protected override StateStores Create() => StateStores.Sqlite(_directory);

    public override void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        base.Dispose();
    }
}
