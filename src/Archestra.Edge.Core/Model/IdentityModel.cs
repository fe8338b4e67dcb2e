using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;

namespace Archestra.Edge.Model;

internal enum PrincipalKind : byte
{
    Org,
    Team,
    User,
}

/// <summary>What a token stands for: the organisation, one team, or one user (<c>org</c>, <c>team:id</c>, <c>user:id</c>).</summary>
internal readonly record struct TokenScope(PrincipalKind Kind, string Id)
{
    public static readonly TokenScope Org = new(PrincipalKind.Org, string.Empty);

    public static bool TryParse(string? text, out TokenScope scope)
    {
        scope = default;
        if (text == "org")
        {
            scope = Org;
            return true;
        }

        if (text?.StartsWith("team:", StringComparison.Ordinal) == true && text.Length > 5)
        {
            scope = new TokenScope(PrincipalKind.Team, text[5..]);
            return true;
        }

        if (text?.StartsWith("user:", StringComparison.Ordinal) == true && text.Length > 5)
        {
            scope = new TokenScope(PrincipalKind.User, text[5..]);
            return true;
        }

        return false;
    }

    public override string ToString() => Kind switch
    {
        PrincipalKind.Org => "org",
        PrincipalKind.Team => $"team:{Id}",
        _ => $"user:{Id}",
    };
}

/// <summary>The organisation as the config describes it: its teams, its users and their teams, and the credentials.</summary>
internal sealed record IdentityModel(
    FrozenSet<string> Teams,
    FrozenDictionary<string, ImmutableArray<string>> Users,
    FrozenDictionary<string, CredentialModel> Credentials)
{
    public static readonly IdentityModel Empty = new(FrozenSet<string>.Empty, FrozenDictionary<string, ImmutableArray<string>>.Empty, FrozenDictionary<string, CredentialModel>.Empty);

    /// <summary>The teams of a user (none if the user is unknown).</summary>
    public ImmutableArray<string> TeamsOf(string user) => Users.TryGetValue(user, out var teams) ? teams : [];
}

/// <summary>One named upstream credential: per user, per team, and the organisation default.</summary>
internal sealed record CredentialModel(string Name, string? Default, FrozenDictionary<string, string> Teams, FrozenDictionary<string, string> Users);

/// <summary>Who may use a profile.</summary>
internal sealed record AccessModel(bool Org, FrozenSet<string> Teams, FrozenSet<string> Users)
{
    /// <summary>Everyone (when the gateway authenticates nobody).</summary>
    public static readonly AccessModel Everyone = new(true, FrozenSet<string>.Empty, FrozenSet<string>.Empty);
}

internal enum OAuthMode
{
    None,
    Builtin,
    External,
}

/// <summary>The <c>auth:</c> section, compiled. <see cref="Enabled"/> is false when the file has none.</summary>
internal sealed record AuthSettings(
    bool Enabled,
    ImmutableArray<DeclaredToken> Tokens,
    OAuthMode OAuth,
    BuiltinAuthorizationServerSettings Builtin,
    ExternalIdentityProviderSettings? External)
{
    public static readonly AuthSettings Disabled = new(false, [], OAuthMode.None, BuiltinAuthorizationServerSettings.Default, null);
}

/// <summary>A token declared in the file by the SHA-256 of its secret.</summary>
internal sealed record DeclaredToken(string Name, byte[] Hash, TokenScope Scope, ImmutableArray<string> Profiles, DateTimeOffset? Expires);

internal sealed record BuiltinAuthorizationServerSettings(
    TimeSpan AccessTokenTtl,
    TimeSpan RefreshTokenTtl,
    bool DynamicClientRegistration,
    bool ClientIdMetadataDocuments,
    string SigningAlgorithm,
    bool AllowPrivateMetadataHosts)
{
    public static readonly BuiltinAuthorizationServerSettings Default = new(TimeSpan.FromHours(1), TimeSpan.FromDays(30), true, true, "ES256", false);

    /// <summary>The most registered clients kept at once (<c>max_clients</c>).</summary>
    public int MaxClients { get; init; } = 10_000;

    /// <summary>Registrations per client address (<c>registration_rate</c>).</summary>
    public RateLimit RegistrationRate { get; init; } = new(10, TimeSpan.FromMinutes(1));
}

internal sealed record ExternalIdentityProviderSettings(
    string Issuer,
    Uri JwksUri,
    ImmutableArray<string> Audiences,
    ImmutableArray<string> Algorithms,
    string UserClaim,
    string TeamsClaim,
    TimeSpan JwksCacheTtl,
    TimeSpan JwksRefreshInterval);

/// <summary>
/// A config string holding <c>${credential:name}</c> references (kept as markers by the loader), filled per caller.
/// </summary>
internal static class CredentialTemplate
{
    public static bool HasReferences(string value) => value.Contains(Configuration.Yaml.ReferenceResolver.CredentialMarker, StringComparison.Ordinal);

    /// <summary>The credential names a value refers to.</summary>
    public static IEnumerable<string> Names(string value)
    {
        var parts = value.Split(Configuration.Yaml.ReferenceResolver.CredentialMarker);
        for (var i = 1; i < parts.Length; i += 2)
        {
            yield return parts[i];
        }
    }

    /// <summary>The value with each reference replaced by <paramref name="resolve"/>(name).</summary>
    public static string Fill(string value, Func<string, string> resolve)
    {
        if (!HasReferences(value))
        {
            return value;
        }

        var parts = value.Split(Configuration.Yaml.ReferenceResolver.CredentialMarker);
        var output = new StringBuilder(value.Length + 32);
        for (var i = 0; i < parts.Length; i++)
        {
            output.Append(i % 2 == 0 ? parts[i] : resolve(parts[i]));
        }

        return output.ToString();
    }

    /// <summary>The value as the user wrote it (markers shown as <c>${credential:name}</c>), for messages.</summary>
    public static string Display(string value) => Fill(value, name => $"${{credential:{name}}}");
}
