using Archestra.Edge.Identity;
using Archestra.Edge.Model;
using Archestra.Edge.Storage.Sqlite;
using Archestra.Edge.Upstreams;
using Archestra.Edge.Upstreams.OAuth;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Archestra.Edge.Tests.Upstreams.OAuth;

/// <summary>
/// Whose connection a caller uses (their own, their team's, the organisation's, as configured), read from a real
/// SQLite state store; which one lists the tools; and what a caller without one, or with too narrow a one, is told.
/// </summary>
public sealed class ConnectionOwnerTests : IDisposable
{
    private const string Key = "0123456789abcdef0123456789abcdef-unit";
    private readonly string _directory = Directory.CreateTempSubdirectory("archestra-owners-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly UpstreamConnections _connections;

    private static readonly Principal s_alice = new(PrincipalKind.User, "alice", ["platform", "data"], "test");
    private static readonly Principal s_bob = new(PrincipalKind.User, "bob", ["data"], "test");
    private static readonly Principal s_carol = new(PrincipalKind.User, "carol", [], "test");
    private static readonly Principal s_dataTeam = new(PrincipalKind.Team, "data", [], "test");

    public ConnectionOwnerTests()
    {
        var repository = new SqliteConnectionRepository(new StateDatabase(Path.Combine(_directory, "state.db")));
        _connections = new UpstreamConnections(repository, new ConnectionVault([Key]), new HttpClient(), _time, NullLogger.Instance)
        {
            ConnectBase = static () => "https://edge.example",
        };
    }

    [Fact]
    public void TheCallersOwnComesFirst_ThenTheirTeams_ThenTheOrganisations()
    {
        var oauth = new RemoteOAuthModel(null, null, null);
        Save("github", "org");
        Save("github", "team:data");
        Save("github", "user:alice");

        Assert.Equal("user:alice", Owner(oauth, s_alice));
        Assert.Equal("team:data", Owner(oauth, s_bob)); // his team's
        Assert.Equal("org", Owner(oauth, s_carol)); // no team of hers has one
        Assert.Equal("team:data", Owner(oauth, s_dataTeam));
        Assert.Equal("org", Owner(oauth, Principal.Anonymous));

        // The configured order decides: organisation first, or personal connections only.
        Assert.Equal("org", Owner(oauth with { Owners = [ConnectionOwner.Org, ConnectionOwner.User] }, s_alice));
        var personal = oauth with { Owners = [ConnectionOwner.User] };
        Assert.Equal("user:alice", Owner(personal, s_alice));
        var (none, error) = _connections.OwnerFor("github", personal, s_bob);
        Assert.Null(none);
        Assert.Equal(UpstreamErrorKind.CredentialMissing, error.Kind);
        Assert.Equal("https://edge.example/connect?server=github", error.ConnectUrl);
        Assert.Contains("needs your account: connect it at https://edge.example/connect?server=github", error.Message, StringComparison.Ordinal);

        // A team or the organisation cannot connect on a page: they are told whom to ask, and no URL is offered.
        var (_, teamError) = _connections.OwnerFor("github", personal, s_dataTeam);
        Assert.Null(teamError.ConnectUrl);
        Assert.Contains("archestra-edge connections connect github", teamError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCatalog_IsListedWithTheOrganisations_ElseATeams_ElseAUsers_InNameOrder()
    {
        var oauth = new RemoteOAuthModel(null, null, null);
        var (nobody, error) = _connections.OwnerForCatalog("linear", oauth);
        Assert.Null(nobody);
        Assert.Contains("or each user at https://edge.example/connect?server=linear", error.Message, StringComparison.Ordinal);

        Save("linear", "user:zoe");
        Save("linear", "user:bob");
        Assert.Equal("user:bob", _connections.OwnerForCatalog("linear", oauth).Owner);
        Save("linear", "team:ops");
        Assert.Equal("team:ops", _connections.OwnerForCatalog("linear", oauth).Owner);
        Save("linear", "org");
        Assert.Equal("org", _connections.OwnerForCatalog("linear", oauth).Owner);
        Assert.Equal("team:ops", _connections.OwnerForCatalog("linear", oauth with { Owners = [ConnectionOwner.Team, ConnectionOwner.User] }).Owner);
    }

    [Fact]
    public async Task AConnectionMadeElsewhere_IsSeenWithinTwoSeconds_AndOneRemovedHere_AtOnce()
    {
        var oauth = new RemoteOAuthModel(null, null, null);
        Assert.Null(Owner(oauth, s_carol));

        // Another instance (or the CLI) writes the row: this one reads the store again once two seconds have passed.
        var other = new UpstreamConnections(new SqliteConnectionRepository(new StateDatabase(Path.Combine(_directory, "state.db"))), new ConnectionVault([Key]),
            new HttpClient(), _time, NullLogger.Instance);
        other.Save("notion", "user:carol", Connection("scope-a"));
        Assert.Null(Owner(oauth, s_carol, "notion"));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("user:carol", Owner(oauth, s_carol, "notion"));

        // Removed here: gone at once (no revocation endpoint known: said so, and removed all the same).
        var (found, problem) = await _connections.RemoveAsync("notion", "user:carol", CancellationToken.None);
        Assert.True(found);
        Assert.Contains("no revocation endpoint", problem, StringComparison.Ordinal);
        Assert.Null(Owner(oauth, s_carol, "notion"));
        Assert.False((await _connections.RemoveAsync("notion", "user:carol", CancellationToken.None)).Found);
    }

    [Fact]
    public async Task InsufficientScope_AsksTheOwnerToReconnect_WithWhatTheyHaveAndWhatTheServerWants()
    {
        Save("github", "user:alice", scope: "repo:read");
        var (token, _) = await _connections.AccessTokenAsync("github", "user:alice", rejected: null, CancellationToken.None);
        Assert.Equal("access-user:alice", token);

        var stepUp = _connections.StepUp("github", "user:alice", "repo:write");
        Assert.Equal("https://edge.example/connect?server=github&scope=repo%3Aread%20repo%3Awrite", stepUp.ConnectUrl);
        Assert.Contains("needs more access than the connection grants (scope: repo:write)", stepUp.Message, StringComparison.Ordinal);

        var organisation = _connections.StepUp("github", "org", "admin");
        Assert.Null(organisation.ConnectUrl);
        Assert.Contains("archestra-edge connections connect github --scope \"admin\"", organisation.Message, StringComparison.Ordinal);
        Assert.Contains("connections connect github --owner team:ops", _connections.StepUp("github", "team:ops", null).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConnectionThatCannotBeRefreshed_SendsItsUserBackToThePage()
    {
        var expired = Connection("s") with { Tokens = new UpstreamTokens("old", _time.GetUtcNow().AddSeconds(-1), null, "s") };
        _connections.Save("github", "user:alice", expired);
        var (token, error) = await _connections.AccessTokenAsync("github", "user:alice", rejected: null, CancellationToken.None);
        Assert.Null(token);
        Assert.Equal("https://edge.example/connect?server=github", error.ConnectUrl);
        Assert.Contains("your connection of server 'github' has expired and cannot be refreshed; connect it again at", error.Message, StringComparison.Ordinal);
    }

    private string? Owner(RemoteOAuthModel oauth, Principal caller, string server = "github") => _connections.OwnerFor(server, oauth, caller).Owner;

    private void Save(string server, string owner, string scope = "read") => _connections.Save(server, owner, Connection(scope) with
    {
        Tokens = new UpstreamTokens($"access-{owner}", _time.GetUtcNow().AddHours(1), "refresh", scope),
    });

    private static UpstreamConnection Connection(string scope) => new(
        new UpstreamAuthorization(new Uri("https://mcp.example/mcp"), new Uri("https://auth.example/"), new Uri("https://auth.example/authorize"),
            new Uri("https://auth.example/token"), null, ["none"], scope, false),
        new OAuthClientIdentity("client", null, "none"),
        new UpstreamTokens("access", null, "refresh", scope));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
