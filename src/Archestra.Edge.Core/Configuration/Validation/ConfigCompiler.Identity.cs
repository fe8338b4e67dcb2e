using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Globalization;
using Archestra.Edge.Configuration.Documents;
using Archestra.Edge.Configuration.Yaml;
using Archestra.Edge.Model;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Configuration.Validation;

internal sealed partial class ConfigCompiler
{
    private IdentityModel CompileIdentity(EdgeConfig config)
    {
        var teams = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (config.Teams?.Count ?? 0); i++)
        {
            var team = config.Teams![i];
            if (!IsValidName(team))
            {
                _diagnostics.Add($"teams[{i}]", $"'{team}' is not a valid team id", "use 1-64 letters, digits, '_', '-' or '.'");
            }
            else if (!teams.Add(team))
            {
                _diagnostics.Add($"teams[{i}]", $"team '{team}' is listed twice");
            }
        }

        var users = new Dictionary<string, ImmutableArray<string>>(StringComparer.Ordinal);
        foreach (var (user, userConfig) in config.Users ?? [])
        {
            if (!IsValidPrincipalId(user))
            {
                _diagnostics.Add($"users.{user}", $"'{user}' is not a valid user id", "use letters, digits and '_', '-', '.', '@', '+' (an email works)");
                continue;
            }

            var memberOf = ImmutableArray.CreateBuilder<string>();
            for (var i = 0; i < (userConfig?.Teams?.Count ?? 0); i++)
            {
                var team = userConfig!.Teams![i];
                if (!teams.Contains(team))
                {
                    UnknownName($"users.{user}.teams[{i}]", "team", team, teams, "teams are listed under teams:");
                    continue;
                }

                memberOf.Add(team);
            }

            users[user] = memberOf.ToImmutable();
        }

        var credentials = new Dictionary<string, CredentialModel>(StringComparer.Ordinal);
        foreach (var (name, credential) in config.Credentials ?? [])
        {
            var path = $"credentials.{name}";
            if (!IsValidName(name))
            {
                _diagnostics.Add(path, $"'{name}' is not a valid credential name", "use 1-64 letters, digits, '_', '-' or '.'");
                continue;
            }

            var byTeam = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (team, value) in credential?.Teams ?? [])
            {
                if (!teams.Contains(team))
                {
                    UnknownName($"{path}.teams.{team}", "team", team, teams, "teams are listed under teams:");
                    continue;
                }

                byTeam[team] = CheckCredentialValue(value, $"{path}.teams.{team}");
            }

            var byUser = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (user, value) in credential?.Users ?? [])
            {
                if (!users.ContainsKey(user))
                {
                    UnknownName($"{path}.users.{user}", "user", user, users.Keys, "users are listed under users:");
                    continue;
                }

                byUser[user] = CheckCredentialValue(value, $"{path}.users.{user}");
            }

            var fallback = credential?.Default is { } d ? CheckCredentialValue(d, $"{path}.default") : null;
            if (fallback is null && byTeam.Count == 0 && byUser.Count == 0)
            {
                _diagnostics.Add(path, "a credential needs a default, or values per team or user");
            }

            credentials[name] = new CredentialModel(name, fallback, byTeam.ToFrozenDictionary(StringComparer.Ordinal), byUser.ToFrozenDictionary(StringComparer.Ordinal));
        }

        return new IdentityModel(teams.ToFrozenSet(StringComparer.Ordinal), users.ToFrozenDictionary(StringComparer.Ordinal), credentials.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private int PositiveCount(int value, string path, int fallback)
    {
        if (value < 1)
        {
            _diagnostics.Add(path, $"must be at least 1 (found {value})");
            return fallback;
        }

        return value;
    }

    private string CheckCredentialValue(string? value, string path)
    {
        if (string.IsNullOrEmpty(value))
        {
            _diagnostics.Add(path, "the credential is empty", "reference the secret: ${env:NAME} or ${file:/path}");
            return string.Empty;
        }

        if (CredentialTemplate.HasReferences(value))
        {
            _diagnostics.Add(path, "a credential cannot refer to another credential");
        }

        return value;
    }

    /// <summary>Every <c>${credential:name}</c> in a server must name a declared credential.</summary>
    private void CheckCredentialReferences(ImmutableArray<ServerModel> servers, IdentityModel identity)
    {
        foreach (var server in servers)
        {
            foreach (var name in server.CredentialNames)
            {
                if (!identity.Credentials.ContainsKey(name))
                {
                    UnknownName($"servers.{server.Name}", "credential", name, identity.Credentials.Keys, "credentials are declared under credentials:");
                }
            }

            // A value that goes into a header must be one line (never the value itself in the message: it is a secret).
            foreach (var (header, template) in server.Remote?.Headers ?? [])
            {
                foreach (var name in CredentialTemplate.Names(template))
                {
                    if (identity.Credentials.TryGetValue(name, out var credential))
                    {
                        CheckHeaderValues(credential, name, server.Name, header);
                    }
                }
            }
        }
    }

    private void CheckHeaderValues(CredentialModel credential, string name, string server, string header)
    {
        void Check(string? value, string path)
        {
            if (value is not null && !Upstreams.Credentials.IsHeaderSafe(value))
            {
                _diagnostics.Add(path, $"this value goes into the header '{header}' of server '{server}' and holds a line break or control character",
                    "a header value is one line: check for a trailing newline in the secret's file");
            }
        }

        Check(credential.Default, $"credentials.{name}.default");
        foreach (var (team, value) in credential.Teams)
        {
            Check(value, $"credentials.{name}.teams.{team}");
        }

        foreach (var (user, value) in credential.Users)
        {
            Check(value, $"credentials.{name}.users.{user}");
        }
    }

    private AuthSettings CompileAuth(AuthConfig? auth, IdentityModel identity, ImmutableArray<ProfileModel> profiles)
    {
        if (auth is null)
        {
            return AuthSettings.Disabled;
        }

        var profileNames = new HashSet<string>(profiles.Select(p => p.Name), StringComparer.Ordinal);
        var tokens = ImmutableArray.CreateBuilder<DeclaredToken>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (auth.Bearer?.Tokens?.Count ?? 0); i++)
        {
            var token = auth.Bearer!.Tokens![i];
            var path = $"auth.bearer.tokens[{i}]";
            var valid = true;
            if (string.IsNullOrEmpty(token.Name) || !names.Add(token.Name))
            {
                _diagnostics.Add($"{path}.name", token.Name is null ? "a token needs a name" : $"token name '{token.Name}' is used twice");
                valid = false;
            }

            byte[]? hash = null;
            if (token.Sha256 is not { Length: 64 } hex || !TryParseHex(hex, out hash))
            {
                _diagnostics.Add($"{path}.sha256", "expected the 64 hex digits of the token's SHA-256",
                    "printf %s archestra_… | sha256sum; never put the token itself in the file");
                valid = false;
            }

            var scope = CompileScope(token.Scope, $"{path}.scope", identity, ref valid);
            var narrowed = ImmutableArray.CreateBuilder<string>();
            for (var j = 0; j < (token.Profiles?.Count ?? 0); j++)
            {
                if (!profileNames.Contains(token.Profiles![j]))
                {
                    UnknownName($"{path}.profiles[{j}]", "profile", token.Profiles[j], profileNames, "profiles are defined under profiles:");
                    valid = false;
                    continue;
                }

                narrowed.Add(token.Profiles[j]);
            }

            DateTimeOffset? expires = null;
            if (token.Expires is { } expiresText)
            {
                if (DateTimeOffset.TryParse(expiresText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
                {
                    expires = parsed;
                }
                else
                {
                    _diagnostics.Add($"{path}.expires", $"'{expiresText}' is not a date", "for example 2027-01-01 or 2027-01-01T12:00:00Z");
                    valid = false;
                }
            }

            if (valid)
            {
                tokens.Add(new DeclaredToken(token.Name!, hash!, scope, narrowed.ToImmutable(), expires));
            }
        }

        var mode = auth.Oauth is null ? OAuthMode.None : auth.Oauth.AuthorizationServer switch
        {
            null or "builtin" => OAuthMode.Builtin,
            "external" => OAuthMode.External,
            "none" => OAuthMode.None,
            _ => InvalidOAuthMode(auth.Oauth.AuthorizationServer),
        };

        var builtin = BuiltinAuthorizationServerSettings.Default;
        if (auth.Oauth?.Builtin is { } b)
        {
            var algorithm = b.SigningAlgorithm ?? builtin.SigningAlgorithm;
            if (algorithm is not ("ES256" or "RS256"))
            {
                _diagnostics.Add("auth.oauth.builtin.signing_algorithm", $"unsupported algorithm '{algorithm}'", "use ES256 or RS256");
                algorithm = builtin.SigningAlgorithm;
            }

            builtin = new BuiltinAuthorizationServerSettings(
                Duration(b.AccessTokenTtl, "auth.oauth.builtin.access_token_ttl", builtin.AccessTokenTtl),
                Duration(b.RefreshTokenTtl, "auth.oauth.builtin.refresh_token_ttl", builtin.RefreshTokenTtl),
                b.DynamicClientRegistration ?? builtin.DynamicClientRegistration,
                b.ClientIdMetadataDocuments ?? builtin.ClientIdMetadataDocuments,
                algorithm,
                b.AllowPrivateMetadataHosts ?? false)
            {
                MaxClients = b.MaxClients is { } max ? PositiveCount(max, "auth.oauth.builtin.max_clients", builtin.MaxClients) : builtin.MaxClients,
                RegistrationRate = Rate(b.RegistrationRate, "auth.oauth.builtin.registration_rate") ?? builtin.RegistrationRate,
            };
        }

        ExternalIdentityProviderSettings? external = null;
        if (mode == OAuthMode.External)
        {
            external = CompileExternal(auth.Oauth!.External);
        }
        else if (auth.Oauth?.External is not null)
        {
            _diagnostics.Add("auth.oauth.external", "external is set but authorization_server is not external", "set authorization_server: external, or remove external:");
        }

        return new AuthSettings(true, tokens.ToImmutable(), mode, builtin, external);
    }

    private OAuthMode InvalidOAuthMode(string value)
    {
        _diagnostics.Add("auth.oauth.authorization_server", $"unknown authorization server '{value}'", "use builtin, external or none");
        return OAuthMode.None;
    }

    private ExternalIdentityProviderSettings? CompileExternal(ExternalIdentityProviderConfig? external)
    {
        const string path = "auth.oauth.external";
        if (external is null)
        {
            _diagnostics.Add(path, "authorization_server: external needs an external: section", "issuer and jwks_uri at least");
            return null;
        }

        var valid = true;
        if (string.IsNullOrEmpty(external.Issuer))
        {
            _diagnostics.Add($"{path}.issuer", "the issuer is required (it must equal the iss claim of the tokens)");
            valid = false;
        }

        if (!Uri.TryCreate(external.JwksUri, UriKind.Absolute, out var jwks) || (jwks.Scheme != Uri.UriSchemeHttps && jwks.Scheme != Uri.UriSchemeHttp))
        {
            _diagnostics.Add($"{path}.jwks_uri", external.JwksUri is null ? "the jwks_uri is required" : $"'{external.JwksUri}' is not an http(s) URL");
            valid = false;
        }

        var algorithms = external.Algorithms is { Count: > 0 } list ? list : ["RS256", "ES256"];
        foreach (var algorithm in algorithms)
        {
            if (algorithm is not ("RS256" or "ES256"))
            {
                _diagnostics.Add($"{path}.algorithms", $"unsupported algorithm '{algorithm}'", "RS256 and ES256 are supported (never none or HS*)");
                valid = false;
            }
        }

        return valid
            ? new ExternalIdentityProviderSettings(
                external.Issuer!,
                jwks!,
                [.. external.Audiences ?? []],
                [.. algorithms],
                external.Claims?.User ?? "sub",
                external.Claims?.Teams ?? "groups",
                Duration(external.JwksCacheTtl, $"{path}.jwks_cache_ttl", TimeSpan.FromMinutes(10)),
                Duration(external.JwksRefreshInterval, $"{path}.jwks_refresh_interval", TimeSpan.FromSeconds(30)))
            : null;
    }

    private TokenScope CompileScope(string? text, string path, IdentityModel identity, ref bool valid)
    {
        if (!TokenScope.TryParse(text, out var scope))
        {
            _diagnostics.Add(path, text is null ? "a token needs a scope" : $"'{text}' is not a scope", "org, team:<id> or user:<id>");
            valid = false;
            return TokenScope.Org;
        }

        if (scope.Kind == PrincipalKind.Team && !identity.Teams.Contains(scope.Id))
        {
            UnknownName(path, "team", scope.Id, identity.Teams, "teams are listed under teams:");
            valid = false;
        }
        else if (scope.Kind == PrincipalKind.User && !identity.Users.ContainsKey(scope.Id))
        {
            UnknownName(path, "user", scope.Id, identity.Users.Keys, "users are listed under users:");
            valid = false;
        }

        return scope;
    }

    /// <summary>Each profile's <c>access</c>: required when auth is on; it may only name declared teams and users.</summary>
    private ImmutableArray<ProfileModel> CompileAccess(Dictionary<string, ProfileConfig>? configs, ImmutableArray<ProfileModel> profiles, IdentityModel identity, AuthSettings auth)
    {
        var result = ImmutableArray.CreateBuilder<ProfileModel>(profiles.Length);
        foreach (var profile in profiles)
        {
            var access = configs?.GetValueOrDefault(profile.Name)?.Access;
            var path = $"profiles.{profile.Name}.access";
            if (access is null)
            {
                if (auth.Enabled)
                {
                    _diagnostics.Add($"profiles.{profile.Name}", "with auth: configured, every profile needs access:", "access: { org: true } for everyone in the organisation, or { teams: [...], users: [...] }");
                }

                result.Add(profile);
                continue;
            }

            if (!auth.Enabled)
            {
                _diagnostics.Add(path, "access: needs an auth: section (without it nobody is authenticated, so nobody could be checked)", "add auth: with bearer tokens or oauth");
            }

            var teams = Teams(access.Teams, $"{path}.teams", identity);
            var users = Users(access.Users, $"{path}.users", identity);

            var org = access.Org ?? false;
            if (!org && teams.Count == 0 && users.Count == 0)
            {
                _diagnostics.Add(path, "access names nobody", "org: true, or teams and users");
            }

            result.Add(profile with { Access = new AccessModel(org, teams, users) });
        }

        return result.MoveToImmutable();
    }

    /// <summary>Team names as a set, each checked against <c>teams:</c>.</summary>
    private FrozenSet<string> Teams(List<string>? names, string path, IdentityModel identity)
        => Names(names, path, "team", identity.Teams, "teams are listed under teams:");

    /// <summary>User names as a set, each checked against <c>users:</c>.</summary>
    private FrozenSet<string> Users(List<string>? names, string path, IdentityModel identity)
        => Names(names, path, "user", identity.Users.Keys, "users are listed under users:");

    private FrozenSet<string> Names(List<string>? names, string path, string what, IReadOnlyCollection<string> known, string hint)
    {
        if (names is null)
        {
            return FrozenSet<string>.Empty;
        }

        for (var i = 0; i < names.Count; i++)
        {
            if (!known.Contains(names[i]))
            {
                UnknownName($"{path}[{i}]", what, names[i], known, hint);
            }
        }

        return names.ToFrozenSet(StringComparer.Ordinal);
    }

    private void UnknownName(string path, string what, string name, IEnumerable<string> known, string hint)
    {
        var suggestion = Spelling.Closest(name, known);
        _diagnostics.Add(path, $"{what} '{name}' is not defined", suggestion is not null ? $"did you mean '{suggestion}'? {hint}" : hint);
    }

    private static bool IsValidPrincipalId(string id)
    {
        if (id.Length is 0 or > 128)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '.' or '@' or '+'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParseHex(string hex, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
