using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Upstreams.OAuth;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Hosting;

/// <summary>
/// A sign-in on one of the gateway's pages (the connect page, the console): the token the person pasted, sealed
/// (AES-GCM, under the cookie's own name as purpose, so one page's cookie is never another's) into an
/// <c>HttpOnly</c>, <c>SameSite=Strict</c> cookie scoped to the page's path, and checked again on every request, so a
/// revoked token ends the sign-in at once. Nothing is kept on the server: any instance of a fleet serves any request.
/// Forms of the page carry <see cref="Csrf"/>, a digest of the cookie.
/// </summary>
internal sealed class SignInCookie(string name, string path, TimeSpan lifetime)
{
    /// <summary>A cookie's value is refused past this size before anything is decoded.</summary>
    internal const int MaxCookieLength = 8 * 1024;

    public string Name => name;

    public TimeSpan Lifetime => lifetime;

    public void SignIn(HttpContext context, ConnectionVault vault, string token, DateTimeOffset now)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("token", token);
            writer.WriteNumber("expires", (now + lifetime).ToUnixTimeSeconds());
            writer.WriteEndObject();
        }

        context.Response.Cookies.Append(name, Base64Url.EncodeToString(vault.Seal("/sign-in", name, buffer.ToArray())), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = path,
            MaxAge = lifetime,
            IsEssential = true,
        });
    }

    public void SignOut(HttpContext context) => context.Response.Cookies.Delete(name, new CookieOptions { Path = path });

    /// <summary>The token of the signed-in person, if the cookie is this gateway's, unaltered and not expired.</summary>
    public string? SignedInToken(HttpContext context, ConnectionVault vault, DateTimeOffset now)
    {
        if (context.Request.Cookies[name] is not { Length: > 0 and <= MaxCookieLength } value)
        {
            return null;
        }

        try
        {
            if (vault.Open("/sign-in", name, Base64Url.DecodeFromChars(value)) is not { } plaintext)
            {
                return null;
            }

            using var document = JsonDocument.Parse(plaintext);
            var root = document.RootElement;
            return root.GetProperty("expires").GetInt64() > now.ToUnixTimeSeconds() ? root.GetProperty("token").GetString() : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The value that proves a request comes from a page this sign-in was shown (a digest of the cookie).</summary>
    public string Csrf(HttpContext context)
        => context.Request.Cookies[name] is { } value ? Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(value)).AsSpan(0, 16)) : string.Empty;

    public bool CsrfMatches(HttpContext context, string? presented)
    {
        var expected = Csrf(context);
        return expected.Length > 0 && presented is not null
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(presented));
    }
}
