using System.Buffers.Text;
using System.Text.Json;
using Archestra.Edge.Upstreams.OAuth;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Hosting.Connections;

/// <summary>
/// The connect page keeps no state of its own, so any instance of a fleet serves any request: who is signed in, and
/// the authorization in progress, travel in cookies sealed with the connection vault (AES-GCM, under purposes no
/// connection row can have). The sign-in cookie holds the personal token itself, checked again on every request, so
/// a revoked token ends the sign-in at once; it is <c>SameSite=Strict</c>. The pending authorization's cookie is
/// <c>Lax</c>, since it must come back with the authorization server's redirect, and names the user it was for.
/// </summary>
internal static class ConnectPageCookies
{
    public const string SessionCookie = "archestra_connect";
    public const string PendingCookie = "archestra_connect_pending";

    /// <summary>The sign-in: 8 hours.</summary>
    public static readonly SignInCookie Session = new(SessionCookie, "/connect", TimeSpan.FromHours(8));

    /// <summary>How long the user has at the authorization server.</summary>
    public static readonly TimeSpan PendingLifetime = TimeSpan.FromMinutes(10);

    private const string Purpose = "/connect";

    /// <summary>An authorization under way: what the callback needs to finish it, and for whom.</summary>
    public sealed record Pending(string Server, string User, string State, string Verifier, string RedirectUri, UpstreamConnection Connection, DateTimeOffset ExpiresAt);

    public static void SignIn(HttpContext context, ConnectionVault vault, string token, DateTimeOffset now) => Session.SignIn(context, vault, token, now);

    public static void SignOut(HttpContext context) => Session.SignOut(context);

    /// <summary>The personal token of the signed-in user, if the cookie is this gateway's and not expired.</summary>
    public static string? SignedInToken(HttpContext context, ConnectionVault vault, DateTimeOffset now) => Session.SignedInToken(context, vault, now);

    /// <summary>The form value that proves a POST comes from the page this sign-in was shown (a digest of the cookie).</summary>
    public static string Csrf(HttpContext context) => Session.Csrf(context);

    public static bool CsrfMatches(HttpContext context, string? presented) => Session.CsrfMatches(context, presented);

    public static void Begin(HttpContext context, ConnectionVault vault, Pending pending)
    {
        var sealedValue = Seal(vault, "pending", writer =>
        {
            writer.WriteString("server", pending.Server);
            writer.WriteString("user", pending.User);
            writer.WriteString("state", pending.State);
            writer.WriteString("verifier", pending.Verifier);
            writer.WriteString("redirect", pending.RedirectUri);
            writer.WriteBase64String("connection", pending.Connection.Serialize());
            writer.WriteNumber("expires", pending.ExpiresAt.ToUnixTimeSeconds());
        });
        context.Response.Cookies.Append(PendingCookie, sealedValue, Options(context, SameSiteMode.Lax, "/connect/callback", PendingLifetime));
    }

    public static Pending? Resume(HttpContext context, ConnectionVault vault, DateTimeOffset now)
        => Open(context, PendingCookie, vault, "pending", root =>
        {
            var expires = DateTimeOffset.FromUnixTimeSeconds(root.GetProperty("expires").GetInt64());
            return expires <= now || UpstreamConnection.Deserialize(root.GetProperty("connection").GetBytesFromBase64()) is not { } connection
                ? null
                : new Pending(root.GetProperty("server").GetString()!, root.GetProperty("user").GetString()!, root.GetProperty("state").GetString()!,
                    root.GetProperty("verifier").GetString()!, root.GetProperty("redirect").GetString()!, connection, expires);
        });

    public static void End(HttpContext context) => context.Response.Cookies.Delete(PendingCookie, new CookieOptions { Path = "/connect/callback" });

    private static CookieOptions Options(HttpContext context, SameSiteMode sameSite, string path, TimeSpan lifetime)
        => new() { HttpOnly = true, SameSite = sameSite, Secure = context.Request.IsHttps, Path = path, MaxAge = lifetime, IsEssential = true };

    private static string Seal(ConnectionVault vault, string kind, Action<Utf8JsonWriter> write)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return Base64Url.EncodeToString(vault.Seal(Purpose, kind, buffer.ToArray()));
    }

    private static T? Open<T>(HttpContext context, string cookie, ConnectionVault vault, string kind, Func<JsonElement, T?> read)
        where T : class
    {
        if (context.Request.Cookies[cookie] is not { Length: > 0 and <= SignInCookie.MaxCookieLength } value)
        {
            return null;
        }

        try
        {
            if (vault.Open(Purpose, kind, Base64Url.DecodeFromChars(value)) is not { } plaintext)
            {
                return null;
            }

            using var document = JsonDocument.Parse(plaintext);
            return read(document.RootElement);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }
}
