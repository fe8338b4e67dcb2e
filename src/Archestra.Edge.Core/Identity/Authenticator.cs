using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;
using Archestra.Edge.Identity.Jwt;
using Archestra.Edge.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Archestra.Edge.Identity;

internal enum AuthOutcome : byte
{
    Ok,

    /// <summary>No credential: 401 with the resource metadata.</summary>
    Missing,

    /// <summary>A credential that is not valid (unknown, revoked, expired, bad signature, wrong audience): 401.</summary>
    Invalid,

    /// <summary>A valid credential that may not use this profile: 403.</summary>
    Forbidden,
}

internal readonly record struct AuthResult(AuthOutcome Outcome, Principal? Principal, string? Reason)
{
    public static AuthResult Ok(Principal principal) => new(AuthOutcome.Ok, principal, null);
}

/// <summary>
/// Who a request comes from. An <c>archestra_…</c> token is checked against the token store (a hash lookup); a JWT
/// against the built-in authorization server's keys or the external provider's JWKS, with its audience bound to the
/// profile's URL (RFC 8707), so a token for one profile never opens another. Verified JWTs are cached by hash until
/// they expire, so the signature is checked once, not on every call. Failures are logged by reason and a short
/// fingerprint, never with the token.
/// </summary>
internal sealed partial class Authenticator
{
    private const int MaxCachedJwts = 10_000;

    private readonly GatewaySnapshot _snapshot;
    private readonly IdentityServices? _services;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, CachedJwt> _jwts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CachedJwt>.AlternateLookup<ReadOnlySpan<char>> _jwtLookup;
    private readonly ConcurrentDictionary<TokenRecord, Principal> _tokenPrincipals = new(ReferenceEqualityComparer.Instance);
    private readonly string? _publicBase;
    private readonly FrozenDictionary<string, string>? _publicResources;

    // The built-in server signs with the configured algorithm; tokens signed before a change of it stay valid.
    private readonly ImmutableArray<string> _builtinAlgorithms;

    public Authenticator(GatewaySnapshot snapshot, IdentityServices? services, ILogger logger)
    {
        _snapshot = snapshot;
        _services = services;
        _logger = logger;
        _jwtLookup = _jwts.GetAlternateLookup<ReadOnlySpan<char>>();
        _builtinAlgorithms = [snapshot.Auth.Builtin.SigningAlgorithm, "ES256", "RS256"];
        if (snapshot.Listener.PublicBase is { } publicBase)
        {
            _publicBase = publicBase;
            var resources = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var profile in snapshot.ProfileList)
            {
                resources[profile.Name] = $"{_publicBase}/v1/mcp/{profile.Name}";
            }

            _publicResources = resources.ToFrozenDictionary(StringComparer.Ordinal);
        }
    }

    public bool Enabled => _snapshot.Auth.Enabled;

    public AuthSettings Settings => _snapshot.Auth;

    /// <summary>Authenticates a request to <paramref name="profile"/> and checks that the principal may use it.</summary>
    public ValueTask<AuthResult> AuthenticateAsync(HttpContext context, ProfileModel profile)
    {
        if (!Enabled)
        {
            return ValueTask.FromResult(AuthResult.Ok(Principal.Anonymous));
        }

        if (!TryGetBearer(context.Request, out var header, out var start, out var length))
        {
            return ValueTask.FromResult(new AuthResult(AuthOutcome.Missing, null, "no bearer token"));
        }

        var token = header.AsSpan(start, length);
        if (token.StartsWith(TokenSecrets.Prefix, StringComparison.Ordinal))
        {
            // The hot path: hash the token where it lies in the header, look the hash up, reuse the principal.
            return ValueTask.FromResult(Authorize(CheckBearer(token), profile, token));
        }

        // A JWT seen before is answered from the cache, looked up by the span (no string for the token).
        var resource = ResourceUrl(context.Request, profile.Name);
        if (_jwtLookup.TryGetValue(token, out var cached) && cached.ExpiresAt >= Now - JsonWebToken.ClockSkew)
        {
            if (cached.Grant is { } grant && _services!.Tokens.IsGrantRevoked(grant))
            {
                return ValueTask.FromResult(FailToken(AuthOutcome.Invalid, "the grant was revoked", token));
            }

            return ValueTask.FromResult(cached.Audiences.Contains(resource) || (cached.AnyAudience && Accepts(cached.Audiences, resource))
                ? Authorize(AuthResult.Ok(cached.Principal), profile, token)
                : FailToken(AuthOutcome.Invalid, "token issued for another resource", token));
        }

        return AuthenticateJwtAsync(context.Request, header.Substring(start, length), resource, profile);
    }

    private DateTimeOffset Now => _services?.Time.GetUtcNow() ?? DateTimeOffset.UtcNow;

    /// <summary>The <c>archestra_…</c> token of a request's <c>Authorization</c> header, whatever the profile (the admin API).</summary>
    public AuthResult CheckBearer(HttpRequest request)
        => TryGetBearer(request, out var header, out var start, out var length)
            ? CheckBearer(header.AsSpan(start, length))
            : new AuthResult(AuthOutcome.Missing, null, "no bearer token");

    /// <summary>An <c>archestra_…</c> token, whatever the profile (the admin API; the login page of the authorization server).</summary>
    public AuthResult CheckBearer(ReadOnlySpan<char> token)
    {
        Span<byte> hash = stackalloc byte[32];
        TokenSecrets.Hash(token, hash);
        if (_services is null || !_services.Tokens.TryFind(hash, out var record))
        {
            return Fail(AuthOutcome.Invalid, "unknown or revoked token", hash);
        }

        if (record!.ExpiresAt is { } expires && expires <= _services.Time.GetUtcNow())
        {
            return Fail(AuthOutcome.Invalid, "expired token", hash);
        }

        // A record is immutable and this authenticator belongs to one snapshot (one team membership), so its
        // principal is made once. A revoked record is no longer found above, so a stale entry is never used.
        if (!_tokenPrincipals.TryGetValue(record, out var principal))
        {
            var scope = record.Scope;
            var teams = scope.Kind == PrincipalKind.User ? _snapshot.Identity.TeamsOf(scope.Id) : [];
            principal = new Principal(scope.Kind, scope.Id, teams, $"token {record.Name}") { Profiles = record.Profiles };
            if (_tokenPrincipals.Count >= MaxCachedJwts)
            {
                _tokenPrincipals.Clear();
            }

            _tokenPrincipals[record] = principal;
        }

        return AuthResult.Ok(principal);
    }

    /// <summary>The base URL clients use: <c>server.public_url</c>, else the scheme and host of the request.</summary>
    public string BaseUrl(HttpRequest request)
    {
        return _publicBase ?? $"{request.Scheme}://{request.Host.Value}";
    }

    /// <summary>The resource URL of a profile (RFC 8707): what its access tokens are issued for.</summary>
    public string ResourceUrl(HttpRequest request, string profile)
        => _publicResources is not null && _publicResources.TryGetValue(profile, out var resource) ? resource : $"{BaseUrl(request)}/v1/mcp/{profile}";

    /// <summary>
    /// The issuer of the built-in authorization server, from configuration only: <c>server.public_url</c>, else the
    /// address the gateway listens on. Never the request's Host, so a forged Host cannot become the issuer in the
    /// RFC 8414 metadata, and tokens carry one issuer whatever host name a client used.
    /// </summary>
    public string Issuer(HttpRequest request) => _publicBase ?? _services?.ListenBase ?? BaseUrl(request);

    private AuthResult Authorize(AuthResult result, ProfileModel profile, ReadOnlySpan<char> token)
    {
        if (result.Outcome != AuthOutcome.Ok)
        {
            return result;
        }

        if (result.Principal!.MayUse(profile))
        {
            return result;
        }

        Span<byte> hash = stackalloc byte[32];
        TokenSecrets.Hash(token, hash);
        Log.Denied(_logger, result.Principal.Name, profile.Name, Fingerprint(hash));
        return new AuthResult(AuthOutcome.Forbidden, result.Principal, $"{result.Principal.Name} may not use profile '{profile.Name}'");
    }

    private async ValueTask<AuthResult> AuthenticateJwtAsync(HttpRequest request, string token, string resource, ProfileModel profile)
    {
        var now = Now;

        if (!JsonWebToken.TryReadHeader(token, out var algorithm, out var kid))
        {
            return FailToken(AuthOutcome.Invalid, "not a JWT", token);
        }

        JsonWebKey? key;
        ImmutableArray<string> algorithms;
        string issuer;
        switch (_snapshot.Auth.OAuth)
        {
            case OAuthMode.Builtin when _services?.Keys is { } keys:
                key = keys.Find(kid);
                algorithms = _builtinAlgorithms;
                issuer = Issuer(request);
                break;
            case OAuthMode.External when _services?.Jwks is { } jwks && _snapshot.Auth.External is { } external:
                key = await jwks.GetAsync(kid, CancellationToken.None).ConfigureAwait(false);
                algorithms = external.Algorithms;
                issuer = external.Issuer;
                break;
            default:
                return FailToken(AuthOutcome.Invalid, "JWTs are not accepted (no OAuth configured)", token);
        }

        if (key is null)
        {
            return FailToken(AuthOutcome.Invalid, $"unknown signing key (alg {algorithm})", token);
        }

        var error = JsonWebToken.Validate(token, key, algorithms, issuer, audience => Accepts([audience], resource), now, out var claims,
            canonicalSignature: _snapshot.Auth.OAuth == OAuthMode.Builtin);
        if (error != JwtError.None)
        {
            return FailToken(AuthOutcome.Invalid, error.ToString(), token);
        }

        var grant = _snapshot.Auth.OAuth == OAuthMode.Builtin ? JsonWebToken.Text(claims!.Payload, "sid") : null;
        if (grant is not null && _services!.Tokens.IsGrantRevoked(grant))
        {
            return FailToken(AuthOutcome.Invalid, "the grant was revoked", token);
        }

        var principal = PrincipalOf(claims!);
        if (principal is null)
        {
            return FailToken(AuthOutcome.Invalid, "the token names no known user", token);
        }

        if (_jwts.Count >= MaxCachedJwts)
        {
            _jwts.Clear();
        }

        _jwts[token] = new CachedJwt(principal, claims!.Audiences, claims.ExpiresAt, _snapshot.Auth.OAuth == OAuthMode.External, grant);
        return Authorize(AuthResult.Ok(principal), profile, token);
    }

    /// <summary>
    /// A JWT of the built-in server with a valid signature, issuer and lifetime, whatever its audience (the revocation
    /// endpoint's check); null otherwise.
    /// </summary>
    public JwtClaims? ReadBuiltinToken(HttpRequest request, string token)
    {
        if (_snapshot.Auth.OAuth != OAuthMode.Builtin || _services?.Keys is not { } keys
            || !JsonWebToken.TryReadHeader(token, out _, out var kid) || keys.Find(kid) is not { } key)
        {
            return null;
        }

        return JsonWebToken.Validate(token, key, _builtinAlgorithms, Issuer(request), static _ => true, Now, out var claims, canonicalSignature: true) == JwtError.None ? claims : null;
    }

    /// <summary>Built-in tokens carry the resource URL as audience; external ones may use configured audiences instead.</summary>
    private bool Accepts(ImmutableArray<string> audiences, string resource)
    {
        foreach (var audience in audiences)
        {
            if (audience == resource)
            {
                return true;
            }

            if (_snapshot.Auth.OAuth == OAuthMode.External && _snapshot.Auth.External is { Audiences: { IsEmpty: false } configured } && configured.Contains(audience))
            {
                return true;
            }
        }

        return false;
    }

    private Principal? PrincipalOf(JwtClaims claims)
    {
        if (_snapshot.Auth.OAuth == OAuthMode.Builtin)
        {
            // The built-in server issues tokens to users of the config only; a user removed since loses access.
            var user = claims.Subject;
            var clientId = JsonWebToken.Text(claims.Payload, "client_id") ?? "?";
            return _snapshot.Identity.Users.ContainsKey(user)
                ? new Principal(PrincipalKind.User, user, _snapshot.Identity.TeamsOf(user), $"oauth client {clientId}")
                : null;
        }

        var external = _snapshot.Auth.External!;
        var id = JsonWebToken.Text(claims.Payload, external.UserClaim);
        if (string.IsNullOrEmpty(id))
        {
            return null;
        }

        // Teams: the token's groups that are teams of the config, then the config's own membership of that user.
        var teams = ImmutableArray.CreateBuilder<string>();
        foreach (var group in JsonWebToken.Strings(claims.Payload, external.TeamsClaim))
        {
            if (_snapshot.Identity.Teams.Contains(group) && !teams.Contains(group))
            {
                teams.Add(group);
            }
        }

        foreach (var team in _snapshot.Identity.TeamsOf(id))
        {
            if (!teams.Contains(team))
            {
                teams.Add(team);
            }
        }

        return new Principal(PrincipalKind.User, id, teams.ToImmutable(), $"idp {external.Issuer}");
    }

    /// <summary>Where the token lies in the <c>Authorization</c> header (<c>Bearer</c>, case-insensitive; spaces around it ignored).</summary>
    private static bool TryGetBearer(HttpRequest request, out string value, out int start, out int length)
    {
        value = string.Empty;
        start = length = 0;
        var header = request.Headers.Authorization;
        if (StringValues.IsNullOrEmpty(header) || header.Count != 1)
        {
            return false;
        }

        value = header[0]!;
        if (value.Length <= 7 || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || value.Length > TokenSecrets.MaxLength)
        {
            return false;
        }

        var token = value.AsSpan(7);
        var trimmed = token.TrimStart(' ');
        start = 7 + (token.Length - trimmed.Length);
        length = trimmed.TrimEnd(' ').Length;
        return length > 0;
    }

    private AuthResult FailToken(AuthOutcome outcome, string reason, ReadOnlySpan<char> token)
    {
        Span<byte> hash = stackalloc byte[32];
        TokenSecrets.Hash(token, hash);
        return Fail(outcome, reason, hash);
    }

    private AuthResult Fail(AuthOutcome outcome, string reason, ReadOnlySpan<byte> hash)
    {
        Log.Failed(_logger, reason, Fingerprint(hash));
        return new AuthResult(outcome, null, reason);
    }

    /// <summary>The first 8 hex digits of a token's SHA-256: enough to correlate log lines, useless to an attacker.</summary>
    private static string Fingerprint(ReadOnlySpan<byte> hash) => Convert.ToHexStringLower(hash[..4]);

    /// <param name="Grant">The built-in server's grant the token belongs to (its <c>sid</c>): revoking the grant stops the token.</param>
    private sealed record CachedJwt(Principal Principal, ImmutableArray<string> Audiences, DateTimeOffset ExpiresAt, bool AnyAudience, string? Grant);

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.AuthenticationFailed, LogLevel.Information, "Refused a credential ({Reason}); token fingerprint {Fingerprint}")]
        public static partial void Failed(ILogger logger, string reason, string fingerprint);

        [LoggerMessage(Observability.EventIds.AccessDenied, LogLevel.Information, "{Principal} may not use profile '{Profile}'; token fingerprint {Fingerprint}")]
        public static partial void Denied(ILogger logger, string principal, string profile, string fingerprint);
    }
}
