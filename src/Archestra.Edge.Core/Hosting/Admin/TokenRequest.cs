using System.Collections.Immutable;
using System.Globalization;
using Archestra.Edge.Model;

namespace Archestra.Edge.Hosting.Admin;

/// <summary>A token to create, validated against the config (shared by the admin API and the <c>token</c> command).</summary>
internal sealed record TokenRequest(string Name, TokenScope Scope, ImmutableArray<string> Profiles, DateTimeOffset? Expires)
{
    public static (TokenRequest? Request, string? Error) Validate(string? name, string? scopeText, ImmutableArray<string> profiles, string? expiresText, GatewaySnapshot snapshot, TimeProvider time)
    {
        if (!TokenScope.TryParse(scopeText, out var scope))
        {
            return (null, "scope must be org, team:<id> or user:<id>");
        }

        if (scope.Kind == PrincipalKind.Team && !snapshot.Identity.Teams.Contains(scope.Id))
        {
            return (null, $"team '{scope.Id}' is not in the config's teams:");
        }

        if (scope.Kind == PrincipalKind.User && !snapshot.Identity.Users.ContainsKey(scope.Id))
        {
            return (null, $"user '{scope.Id}' is not in the config's users:");
        }

        foreach (var profile in profiles)
        {
            if (!snapshot.Profiles.ContainsKey(profile))
            {
                return (null, $"profile '{profile}' does not exist");
            }
        }

        DateTimeOffset? expires = null;
        if (!string.IsNullOrEmpty(expiresText))
        {
            if (Utilities.Units.TryParseDuration(expiresText, out var lifetime) && lifetime > TimeSpan.Zero)
            {
                expires = time.GetUtcNow() + lifetime;
            }
            else if (DateTimeOffset.TryParse(expiresText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            {
                expires = at;
            }
            else
            {
                return (null, $"expires '{expiresText}' is neither a duration (30d) nor a date (2027-01-01)");
            }
        }

        return (new TokenRequest(string.IsNullOrWhiteSpace(name) ? $"{scope}-{time.GetUtcNow():yyyyMMdd}" : name.Trim(), scope, profiles.IsDefault ? [] : profiles, expires), null);
    }
}
