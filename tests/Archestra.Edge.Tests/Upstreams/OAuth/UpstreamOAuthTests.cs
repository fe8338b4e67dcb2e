using System.Text;
using Archestra.Edge.Upstreams.OAuth;

namespace Archestra.Edge.Tests.Upstreams.OAuth;

/// <summary>The gateway as an OAuth client: sealing connections, reading challenges, where metadata is looked for.</summary>
public sealed class UpstreamOAuthTests
{
    private const string Key = "0123456789abcdef0123456789abcdef-unit";
    private const string OldKey = "an-older-key-of-at-least-32-characters";

    [Fact]
    public void TheVault_SealsPerRow_RefusesAlterationsAndOtherRows_AndOpensRowsOfAPreviousKey()
    {
        var vault = new ConnectionVault([Key]);
        var secret = Encoding.UTF8.GetBytes("{\"access_token\":\"eyJ-secret\"}");
        var sealedRow = vault.Seal("github", "org", secret);
        Assert.DoesNotContain("eyJ", Encoding.Latin1.GetString(sealedRow), StringComparison.Ordinal);
        Assert.Equal(secret, vault.Open("github", "org", sealedRow));
        Assert.NotEqual(sealedRow, vault.Seal("github", "org", secret)); // a fresh nonce each time

        Assert.Null(vault.Open("linear", "org", sealedRow)); // copied under another server
        Assert.Null(vault.Open("github", "user:alice", sealedRow)); // or another owner
        var altered = (byte[])sealedRow.Clone();
        altered[^1] ^= 1;
        Assert.Null(vault.Open("github", "org", altered));
        Assert.Null(vault.Open("github", "org", [1, 2, 3]));

        // Rotation: the new key seals, the old one still opens what it sealed.
        var old = new ConnectionVault([OldKey]).Seal("github", "org", secret);
        var rotated = new ConnectionVault([Key, OldKey]);
        Assert.Equal(secret, rotated.Open("github", "org", old));
        Assert.True(rotated.IsStale(old));
        Assert.False(rotated.IsStale(rotated.Seal("github", "org", secret)));
        Assert.Null(vault.Open("github", "org", old)); // a key nobody configured any more
    }

    [Fact]
    public void AConnection_RoundTrips_AndKnowsWhenItExpires()
    {
        var at = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
        var connection = new UpstreamConnection(
            new UpstreamAuthorization(new Uri("https://mcp.example/mcp"), new Uri("https://auth.example/"), new Uri("https://auth.example/authorize"),
                new Uri("https://auth.example/token"), null, ["client_secret_basic"], "read write", false),
            new OAuthClientIdentity("client-1", "s3cret", "client_secret_basic"),
            new UpstreamTokens("access", at, "refresh", "read"));
        var back = UpstreamConnection.Deserialize(connection.Serialize())!;
        Assert.Equal(connection.Tokens, back.Tokens);
        Assert.Equal(connection.Client, back.Client);
        Assert.Equal(connection.Authorization.TokenEndpoint, back.Authorization.TokenEndpoint);
        Assert.Equal("read write", back.Authorization.Scope);
        Assert.True(back.ExpiresWithin(at.AddSeconds(-10), TimeSpan.FromSeconds(30)));
        Assert.False(back.ExpiresWithin(at.AddMinutes(-5), TimeSpan.FromSeconds(30)));
        Assert.Null(UpstreamConnection.Deserialize("not json"u8.ToArray()));
    }

    [Fact]
    public void Challenges_AndQueries_AreRead_QuotedCommasAndEscapesIncluded()
    {
        var parameters = Challenge.Parameters("""resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp", scope="files:read files:write", error=insufficient_scope, error_description="a, b \"c\"" """);
        Assert.Equal("https://mcp.example/.well-known/oauth-protected-resource/mcp", parameters["resource_metadata"]);
        Assert.Equal("files:read files:write", parameters["scope"]);
        Assert.Equal("insufficient_scope", parameters["error"]);
        Assert.Equal("a, b \"c\"", parameters["error_description"]);

        // The callback's query is read by the framework's parser.
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery("?code=abc%2Fdef&state=x+y&state=second&empty");
        Assert.Equal("abc/def", query["code"][0]);
        Assert.Equal("x y", query["state"][0]);
        Assert.Equal(string.Empty, query["empty"][0]);
    }

    [Fact]
    public void Metadata_IsLookedForWhereTheSpecsSay()
    {
        Assert.Equal(
            ["https://mcp.example/.well-known/oauth-protected-resource/v1/mcp", "https://mcp.example/.well-known/oauth-protected-resource"],
            AuthorizationDiscovery.ProtectedResourceCandidates(new Uri("https://mcp.example/v1/mcp")).Select(u => u.ToString()));
        Assert.Equal(
            ["https://auth.example/.well-known/oauth-authorization-server/tenant", "https://auth.example/.well-known/openid-configuration/tenant", "https://auth.example/tenant/.well-known/openid-configuration"],
            AuthorizationDiscovery.AuthorizationServerCandidates(new Uri("https://auth.example/tenant")).Select(u => u.ToString()));
        Assert.Equal(
            ["https://auth.example/.well-known/oauth-authorization-server", "https://auth.example/.well-known/openid-configuration"],
            AuthorizationDiscovery.AuthorizationServerCandidates(new Uri("https://auth.example/")).Select(u => u.ToString()));
        Assert.True(AuthorizationDiscovery.Allowed(new Uri("https://remote.example/mcp")));
        Assert.True(AuthorizationDiscovery.Allowed(new Uri("http://127.0.0.1:9000/mcp")));
        Assert.False(AuthorizationDiscovery.Allowed(new Uri("http://remote.example/mcp")));
        Assert.Equal("https://mcp.example/mcp", AuthorizationDiscovery.Canonical(new Uri("https://mcp.example/mcp?x=1#f")).ToString());
    }

    [Fact]
    public void TheAuthorizationRequest_CarriesPkceS256_TheResource_AndTheScope()
    {
        var authorization = new UpstreamAuthorization(new Uri("https://mcp.example/mcp"), new Uri("https://auth.example/"), new Uri("https://auth.example/authorize"),
            new Uri("https://auth.example/token"), null, ["none"], "files:read", false);
        var pending = UpstreamOAuthClient.BeginAuthorization(authorization, new OAuthClientIdentity("c1", null, "none"), new Uri("http://127.0.0.1:5000/callback"), scope: null);
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(pending.AuthorizationUrl.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Equal(43, query["code_challenge"].Length);
        Assert.Equal("https://mcp.example/mcp", query["resource"]);
        Assert.Equal("files:read", query["scope"]);
        Assert.Equal(pending.State, query["state"]);
        Assert.NotEqual(pending.State, UpstreamOAuthClient.BeginAuthorization(authorization, new OAuthClientIdentity("c1", null, "none"), new Uri("http://127.0.0.1:5000/callback"), null).State);
    }

    [Fact]
    public async Task TheClient_IsTheConfiguredOne_ElseTheGatewaysMetadataDocument_WhereTheServerTakesThem_AndTheGatewayIsHttps()
    {
        var authorization = new UpstreamAuthorization(new Uri("https://mcp.example/mcp"), new Uri("https://auth.example/"), new Uri("https://auth.example/authorize"),
            new Uri("https://auth.example/token"), null, ["none", "client_secret_basic"], null, ClientIdMetadataDocuments: true);
        using var http = new HttpClient(); // never used: no registration endpoint, and none of these ask one
        var redirect = new Uri("https://edge.example/connect/callback");
        var document = new Uri("https://edge.example/connect/client-metadata.json");

        var (configured, _) = await UpstreamOAuthClient.IdentifyAsync(http, authorization, "app-1", "s3cret", redirect, "Edge", CancellationToken.None, document);
        Assert.Equal(new OAuthClientIdentity("app-1", "s3cret", "client_secret_basic"), configured);

        var (byDocument, _) = await UpstreamOAuthClient.IdentifyAsync(http, authorization, null, null, redirect, "Edge", CancellationToken.None, document);
        Assert.Equal(new OAuthClientIdentity(document.ToString(), null, "none"), byDocument);

        // An http gateway cannot be a metadata document (the server would not fetch it); nor a server that does not take them.
        var (_, httpError) = await UpstreamOAuthClient.IdentifyAsync(http, authorization, null, null, redirect, "Edge", CancellationToken.None, new Uri("http://127.0.0.1:9000/connect/client-metadata.json"));
        Assert.Contains("does not offer registration", httpError, StringComparison.Ordinal);
        var (_, notTaken) = await UpstreamOAuthClient.IdentifyAsync(http, authorization with { ClientIdMetadataDocuments = false }, null, null, redirect, "Edge", CancellationToken.None, document);
        Assert.Contains("does not offer registration", notTaken, StringComparison.Ordinal);
    }

    [Fact]
    public void TheRevocationEndpoint_IsKeptWithTheConnection()
    {
        var connection = new UpstreamConnection(
            new UpstreamAuthorization(new Uri("https://mcp.example/mcp"), new Uri("https://auth.example/"), new Uri("https://auth.example/authorize"),
                new Uri("https://auth.example/token"), null, ["none"], null, false) { RevocationEndpoint = new Uri("https://auth.example/revoke") },
            new OAuthClientIdentity("c", null, "none"),
            new UpstreamTokens("a", null, "r", null));
        Assert.Equal(new Uri("https://auth.example/revoke"), UpstreamConnection.Deserialize(connection.Serialize())!.Authorization.RevocationEndpoint);
    }
}
