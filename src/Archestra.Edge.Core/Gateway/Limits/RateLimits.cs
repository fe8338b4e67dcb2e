using System.Globalization;
using Archestra.Edge.Model;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Gateway.Limits;

/// <summary>
/// The configured rate limits of one runtime: per caller and per profile (checked for every JSON-RPC request,
/// refused with 429 and <c>Retry-After</c>) and per tool (refused with a tool error inside the session). In a fleet
/// each limit is the fleet's: every instance enforces its share, the limit divided by the live instances (rounded
/// up), which holds the whole to the limit when the balancer spreads requests evenly (round-robin) and lets one
/// caller through at most the limit times the fraction of its requests one instance sees — no counter is shared, so
/// no request waits on another instance or the database.
/// </summary>
internal sealed class RateLimits
{
    /// <param name="carried">The limits of the runtime a reload replaces: a limit that reads the same keeps its
    /// counts, so a reload is no way around it.</param>
    /// <param name="fleet">Where the number of instances sharing each limit comes from (null: alone).</param>
    public RateLimits(LimitSettings limits, TimeProvider time, RateLimits? carried = null, Fleet.FleetNode? fleet = null)
    {
        Func<int>? share = fleet is { InFleet: true } ? () => fleet.Share : null;
        PerPrincipal = Limiter(limits.RatePerPrincipal, carried?.PerPrincipal, time, share);
        PerProfile = Limiter(limits.RatePerProfile, carried?.PerProfile, time, share);
        PerTool = Limiter(limits.RatePerTool, carried?.PerTool, time, share);
    }

    private static RateLimiter? Limiter(RateLimit? limit, RateLimiter? carried, TimeProvider time, Func<int>? share)
        => limit is null ? null : carried is not null && carried.Limit == limit ? carried : new RateLimiter(limit, time, share);

    public RateLimiter? PerPrincipal { get; }

    public RateLimiter? PerProfile { get; }

    public RateLimiter? PerTool { get; }

    /// <summary>Checks the caller and profile limits for one request; on refusal sets <c>Retry-After</c> and returns the error.</summary>
    public GatewayError CheckRequest(HttpContext context, ProfileRuntime profile, Identity.Principal caller)
    {
        if (PerPrincipal is { } perPrincipal)
        {
            // Without auth: everyone is the same anonymous principal, so callers are told apart by address.
            var key = ReferenceEquals(caller, Identity.Principal.Anonymous) ? context.Connection.RemoteIpAddress?.ToString() ?? "unknown" : caller.Name;
            if (!perPrincipal.TryAcquire(key, out var wait))
            {
                return Refuse(context, wait, $"Too Many Requests: {key} is limited to {perPrincipal.Limit} requests");
            }
        }

        if (PerProfile is { } perProfile && !perProfile.TryAcquire(profile.Name, out var profileWait))
        {
            return Refuse(context, profileWait, $"Too Many Requests: profile '{profile.Name}' is limited to {perProfile.Limit} requests");
        }

        return default;
    }

    /// <summary>Checks the tool limit for one call of <paramref name="server"/>'s <paramref name="tool"/> in <paramref name="profile"/>.</summary>
    public GatewayError CheckTool(string profile, string server, string tool)
    {
        if (PerTool is not { } perTool || perTool.TryAcquire(string.Concat(profile, "\n", server, "\n", tool), out var wait))
        {
            return default;
        }

        return new GatewayError(GatewayErrorKind.ToolRateLimited,
            $"Rate limited: {server}'s tool '{tool}' is limited to {perTool.Limit} calls; try again in {RetrySeconds(wait)} s");
    }

    private static GatewayError Refuse(HttpContext context, TimeSpan wait, string message)
    {
        context.Response.Headers.RetryAfter = RetrySeconds(wait).ToString(CultureInfo.InvariantCulture);
        return new GatewayError(GatewayErrorKind.RateLimited, message);
    }

    private static long RetrySeconds(TimeSpan wait) => Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
}
