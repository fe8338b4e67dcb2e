namespace Archestra.Edge.Configuration.Documents;

/// <summary>A user of the organisation: the teams they belong to.</summary>
internal sealed class UserConfig
{
    public List<string>? Teams { get; set; }
}

/// <summary>
/// A named upstream credential (used as <c>${credential:name}</c> in server headers or env), chosen per caller:
/// the user's own, else one of their teams', else the organisation default.
/// </summary>
internal sealed class CredentialConfig
{
    /// <summary>The organisation default (usually <c>${env:…}</c> or <c>${file:…}</c>).</summary>
    public string? Default { get; set; }

    /// <summary>Per team.</summary>
    public Dictionary<string, string>? Teams { get; set; }

    /// <summary>Per user.</summary>
    public Dictionary<string, string>? Users { get; set; }
}

/// <summary>Who may use a profile: the whole organisation, or named teams and users.</summary>
internal sealed class AccessConfig
{
    public bool? Org { get; set; }

    public List<string>? Teams { get; set; }

    public List<string>? Users { get; set; }
}

/// <summary>The <c>auth:</c> section. Without it the gateway authenticates nobody (local use only).</summary>
internal sealed class AuthConfig
{
    public BearerConfig? Bearer { get; set; }

    public OAuthConfig? Oauth { get; set; }
}

/// <summary><c>archestra_…</c> bearer tokens declared in the file (by hash) in addition to those created at run time.</summary>
internal sealed class BearerConfig
{
    public List<DeclaredTokenConfig>? Tokens { get; set; }
}

/// <summary>A token declared by the SHA-256 of its secret (never the secret itself).</summary>
internal sealed class DeclaredTokenConfig
{
    public string? Name { get; set; }

    /// <summary>Hex SHA-256 of the token (<c>printf %s archestra_… | sha256sum</c>).</summary>
    public string? Sha256 { get; set; }

    /// <summary><c>org</c>, <c>team:&lt;id&gt;</c> or <c>user:&lt;id&gt;</c>.</summary>
    public string? Scope { get; set; }

    /// <summary>Optional narrowing to these profiles.</summary>
    public List<string>? Profiles { get; set; }

    /// <summary>Optional expiry, a date (<c>2027-01-01</c>) or a date and time in UTC.</summary>
    public string? Expires { get; set; }
}

/// <summary>OAuth 2.1 for MCP clients.</summary>
internal sealed class OAuthConfig
{
    /// <summary><c>builtin</c> (default when this section exists), <c>external</c> or <c>none</c>.</summary>
    public string? AuthorizationServer { get; set; }

    public BuiltinAuthorizationServerConfig? Builtin { get; set; }

    public ExternalIdentityProviderConfig? External { get; set; }
}

/// <summary>The gateway's own authorization server.</summary>
internal sealed class BuiltinAuthorizationServerConfig
{
    /// <summary>Lifetime of access tokens (JWTs). Default <c>1h</c>.</summary>
    public string? AccessTokenTtl { get; set; }

    /// <summary>Lifetime of refresh tokens (rotated on every use). Default <c>30d</c>.</summary>
    public string? RefreshTokenTtl { get; set; }

    /// <summary>RFC 7591 dynamic client registration. Default true.</summary>
    public bool? DynamicClientRegistration { get; set; }

    /// <summary>Client ID metadata documents (an https URL as client_id). Default true.</summary>
    public bool? ClientIdMetadataDocuments { get; set; }

    /// <summary><c>ES256</c> (default) or <c>RS256</c>.</summary>
    public string? SigningAlgorithm { get; set; }

    /// <summary>Allow metadata documents on loopback or private addresses (tests and labs only). Default false.</summary>
    public bool? AllowPrivateMetadataHosts { get; set; }

    /// <summary>The most dynamically registered clients kept at once; past it registration is refused. Default 10000.</summary>
    public int? MaxClients { get; set; }

    /// <summary>Registrations allowed per client address, as <c>N/s|m|h</c>. Default <c>10/m</c>.</summary>
    public string? RegistrationRate { get; set; }
}

/// <summary>An external identity provider whose JWTs the gateway validates locally.</summary>
internal sealed class ExternalIdentityProviderConfig
{
    public string? Issuer { get; set; }

    public string? JwksUri { get; set; }

    /// <summary>Accepted <c>aud</c> values. Default: the profile's resource URL.</summary>
    public List<string>? Audiences { get; set; }

    /// <summary>Accepted algorithms. Default <c>[RS256, ES256]</c>.</summary>
    public List<string>? Algorithms { get; set; }

    public ClaimsConfig? Claims { get; set; }

    /// <summary>How long the JWKS is cached. Default <c>10m</c>; an unknown <c>kid</c> refreshes it at most once per <c>jwks_refresh_interval</c>.</summary>
    public string? JwksCacheTtl { get; set; }

    /// <summary>Least time between two fetches of the JWKS for an unknown key id. Default <c>30s</c>.</summary>
    public string? JwksRefreshInterval { get; set; }
}

/// <summary>Which claims name the user and their teams.</summary>
internal sealed class ClaimsConfig
{
    /// <summary>Default <c>sub</c>.</summary>
    public string? User { get; set; }

    /// <summary>Default <c>groups</c>.</summary>
    public string? Teams { get; set; }
}
