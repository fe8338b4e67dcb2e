using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Archestra.Edge.Identity;
using Archestra.Edge.Identity.OAuth;

namespace Archestra.Edge.Contracts;

/// <summary>A refusal of the admin API: <c>{"error": "..."}</c>.</summary>
internal sealed record AdminError(string Error);

/// <summary><c>GET /admin/tokens</c>.</summary>
internal sealed record TokenList(IReadOnlyList<TokenView> Tokens);

/// <summary>A token as the admin API shows it: never the secret, except once, when it is created.</summary>
internal record TokenView(
    string Id,
    string Name,
    string Scope,
    ImmutableArray<string> Profiles,
    string Source,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt)
{
    public static TokenView From(TokenRecord token) => new(
        token.Id,
        token.Name,
        token.Scope.ToString(),
        token.Profiles.IsDefault ? [] : token.Profiles,
        token.Declared ? "config" : "database",
        token.Declared ? null : token.CreatedAt,
        token.ExpiresAt,
        token.RevokedAt);
}

/// <summary><c>POST /admin/tokens</c>: the new token's secret first, then what the list shows of it.</summary>
internal sealed record CreatedToken : TokenView
{
    public CreatedToken(string secret, TokenRecord token)
        : base(From(token))
    {
        Token = secret;
    }

    [JsonPropertyOrder(-1)]
    public string Token { get; }
}

/// <summary>The body of <c>POST /admin/tokens</c>: every member optional but the scope.</summary>
internal sealed record CreateTokenRequest(string? Name, string? Scope, ImmutableArray<string>? Profiles, string? Expires);

/// <summary><c>GET /admin/grants</c>.</summary>
internal sealed record GrantList(IReadOnlyList<GrantInfo> Grants);

/// <summary><c>DELETE /admin/grants/{id}</c>: how many grants were revoked.</summary>
internal sealed record RevokedCount(int Revoked);

/// <summary><c>POST /admin/keys/rotate</c>: the new signing key's id.</summary>
internal sealed record RotatedKey(string Kid);

/// <summary>One OAuth connection to an upstream, as <c>GET /admin/connections</c> lists it: never its tokens.</summary>
internal sealed record ConnectionInfo(string Server, string Owner, DateTimeOffset UpdatedAt, bool Opened, DateTimeOffset? ExpiresAt, string? Scope, bool Refreshable, string? Problem);

/// <summary><c>GET /admin/connections</c>.</summary>
internal sealed record ConnectionList(IReadOnlyList<ConnectionInfo> Connections);

/// <summary><c>DELETE /admin/connections/{server}/{owner}</c>: removed, and whether its tokens were revoked upstream (RFC 7009).</summary>
internal sealed record RemovedConnection(string Server, string Owner, bool RevokedUpstream, string? Problem);
