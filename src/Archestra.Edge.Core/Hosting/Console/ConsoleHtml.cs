using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Hosting.Console;

/// <summary>
/// The console's page shell and small helpers. Every value from outside goes through <see cref="E"/>; scripts and
/// styles come only from <c>/console/assets</c> (the CSP forbids anything inline), so the page is inert data.
/// </summary>
internal static class ConsoleHtml
{
    public const string Csp = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private static readonly (string Path, string Label, bool EveryoneSees)[] s_sections =
    [
        ("/console/profiles", "Profiles", true),
        ("/console/servers", "Servers", true),
        ("/console/activity", "Activity", true),
        ("/console/config", "Configuration", false),
    ];

    public static string E(string? text) => WebUtility.HtmlEncode(text ?? string.Empty);

    public static string U(string text) => Uri.EscapeDataString(text);

    public static string Time(DateTimeOffset? at) => at is { } value ? value.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "–";

    public static string Duration(long? seconds) => seconds switch
    {
        null => "–",
        < 60 => $"{seconds}s",
        < 3600 => $"{seconds / 60}m {seconds % 60}s",
        < 86400 => $"{seconds / 3600}h {seconds % 3600 / 60}m",
        _ => $"{seconds / 86400}d {seconds % 86400 / 3600}h",
    };

    /// <summary>A page: header with the sections this viewer may open, who is signed in, and the body (already HTML).</summary>
    public static Task WriteAsync(HttpContext context, int status, string title, string current, ConsoleViewer? viewer, string csrf, string body)
    {
        var html = new StringBuilder(4096 + body.Length);
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(E(title)).Append(" · Archestra Edge</title>")
            .Append("<link rel=\"icon\" href=\"/console/assets/favicon.svg\" type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"/console/assets/console.css\"><script src=\"/console/assets/console.js\" defer></script></head><body>")
            .Append("<header><span class=\"brand\">Archestra Edge</span><nav>");
        if (viewer is not null)
        {
            foreach (var (path, label, everyone) in s_sections)
            {
                if (everyone || viewer.SeesEverything)
                {
                    html.Append("<a href=\"").Append(path).Append('"').Append(path == current ? " class=\"current\"" : string.Empty).Append('>').Append(label).Append("</a>");
                }
            }
        }

        html.Append("</nav>");
        if (viewer is not null)
        {
            html.Append("<span class=\"who\">").Append(E(viewer.Name));
            if (viewer.Principal is not null)
            {
                html.Append("<form class=\"inline\" method=\"post\" action=\"/console/sign-out\"><input type=\"hidden\" name=\"csrf\" value=\"").Append(E(csrf))
                    .Append("\"><button type=\"submit\">Sign out</button></form>");
            }

            html.Append("</span>");
        }

        html.Append("</header><main><h1>").Append(E(title)).Append("</h1>").Append(body).Append("</main></body></html>");
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        response.Headers.ContentSecurityPolicy = Csp;
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "same-origin";
        response.Headers.XContentTypeOptions = "nosniff";
        return response.WriteAsync(html.ToString());
    }

    /// <summary>A block of text to copy (a snippet, a YAML entry) with its Copy button.</summary>
    public static void Copyable(StringBuilder html, string id, string text)
        => html.Append("<pre><code id=\"").Append(id).Append("\">").Append(E(text)).Append("</code></pre><button type=\"button\" data-copy=\"").Append(id).Append("\">Copy</button>");
}
