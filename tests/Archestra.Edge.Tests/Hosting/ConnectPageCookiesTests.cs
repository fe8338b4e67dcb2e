using Archestra.Edge.Hosting.Connections;
using Archestra.Edge.Upstreams.OAuth;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Tests.Hosting;

/// <summary>The connect page's sealed cookies: what they hold comes back only from this vault, unaltered and in time.</summary>
public sealed class ConnectPageCookiesTests
{
    private static readonly ConnectionVault s_vault = new(["0123456789abcdef0123456789abcdef-unit"]);
    private static readonly DateTimeOffset s_now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TheSignIn_ComesBackUntilItExpires_AndOnlyFromThisVault()
    {
        var set = new DefaultHttpContext();
        ConnectPageCookies.SignIn(set, s_vault, "archestra_personal", s_now);
        var header = set.Response.Headers.SetCookie.ToString();
        Assert.Contains("httponly", header, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", header, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/connect", header, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("personal", header, StringComparison.Ordinal);

        var request = Returning(header);
        Assert.Equal("archestra_personal", ConnectPageCookies.SignedInToken(request, s_vault, s_now.AddHours(7)));
        Assert.Null(ConnectPageCookies.SignedInToken(request, s_vault, s_now.AddHours(8)));
        Assert.Null(ConnectPageCookies.SignedInToken(request, new ConnectionVault(["another-key-of-at-least-32-characters!"]), s_now));

        var value = header.Split(';')[0];
        Assert.Null(ConnectPageCookies.SignedInToken(Returning(value[..^2] + (value[^2] == 'A' ? "B" : "A") + value[^1]), s_vault, s_now));
        Assert.Null(ConnectPageCookies.SignedInToken(Returning($"{ConnectPageCookies.SessionCookie}=" + new string('A', 9000)), s_vault, s_now));
        Assert.Null(ConnectPageCookies.SignedInToken(Returning($"{ConnectPageCookies.SessionCookie}=%%%"), s_vault, s_now));

        // The CSRF value is the cookie's digest: the same for the same sign-in, never guessable from outside.
        Assert.True(ConnectPageCookies.CsrfMatches(request, ConnectPageCookies.Csrf(request)));
        Assert.False(ConnectPageCookies.CsrfMatches(request, "forged"));
        Assert.False(ConnectPageCookies.CsrfMatches(new DefaultHttpContext(), string.Empty));
    }

    [Fact]
    public void APendingAuthorization_IsTheSignedInUsers_AndNotASignInCookie()
    {
        var connection = new UpstreamConnection(
            new UpstreamAuthorization(new Uri("https://mcp.example/mcp"), new Uri("https://auth.example/"), new Uri("https://auth.example/authorize"),
                new Uri("https://auth.example/token"), null, ["none"], "read", false),
            new OAuthClientIdentity("client", null, "none"), new UpstreamTokens("-", null, null, null));
        var set = new DefaultHttpContext();
        ConnectPageCookies.Begin(set, s_vault, new ConnectPageCookies.Pending("github", "alice", "state-1", "verifier-1", "https://edge.example/connect/callback", connection, s_now.AddMinutes(10)));
        var header = set.Response.Headers.SetCookie.ToString();
        Assert.Contains("samesite=lax", header, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/connect/callback", header, StringComparison.OrdinalIgnoreCase);

        var pending = ConnectPageCookies.Resume(Returning(header), s_vault, s_now)!;
        Assert.Equal(("github", "alice", "state-1", "verifier-1"), (pending.Server, pending.User, pending.State, pending.Verifier));
        Assert.Equal(connection.Authorization.TokenEndpoint, pending.Connection.Authorization.TokenEndpoint);
        Assert.Null(ConnectPageCookies.Resume(Returning(header), s_vault, s_now.AddMinutes(10)));

        // Sealed under another purpose: a pending cookie's value is no sign-in, and the other way round.
        var asSession = $"{ConnectPageCookies.SessionCookie}={header.Split(';')[0].Split('=', 2)[1]}";
        Assert.Null(ConnectPageCookies.SignedInToken(Returning(asSession), s_vault, s_now));
    }

    private static DefaultHttpContext Returning(string setCookie)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = setCookie.Split(';')[0];
        return context;
    }
}
