using System.Net;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Hosting;

/// <summary>
/// The gateway's few HTML pages (the OAuth consent page, the connect page): one small self-contained document, no
/// script, and the headers that keep it from being framed, sniffed or made to submit anywhere else.
/// </summary>
internal static class HtmlPage
{
    /// <param name="body">HTML, already encoded where it holds text from outside.</param>
    /// <param name="formTarget">Another origin (or scheme) a form of the page may lead to, as a CSP source: a client's redirect URI.</param>
    public static Task WriteAsync(HttpContext context, int status, string title, string body, string? formTarget = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        // form-action also governs where the form's redirect may lead: the client's redirect URI, and nowhere else.
        response.Headers.ContentSecurityPolicy = $"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'{(formTarget is null ? string.Empty : $" {formTarget}")}; frame-ancestors 'none'; base-uri 'none'";
        response.Headers.XFrameOptions = "DENY";
        // same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with the form's POST, which the
        // origin policy (applied to every endpoint) must refuse; no referrer still leaves for the client's redirect URI.
        response.Headers["Referrer-Policy"] = "same-origin";
        response.Headers.XContentTypeOptions = "nosniff";
        return response.WriteAsync($$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{WebUtility.HtmlEncode(title)}}</title>
            <style>
              body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; color: #1b1f24; }
              h1 { font-size: 1.4rem; } .muted { color: #57606a; font-size: .9em; } code { font-size: .9em; }
              label { display: block; margin: 1.2rem 0 .3rem; } input[type=password] { width: 100%; padding: .5rem; font: inherit; box-sizing: border-box; }
              .buttons { margin-top: 1.2rem; display: flex; gap: .6rem; } button, .button { font: inherit; padding: .4rem .9rem; cursor: pointer; }
              .button { border: 1px solid #8c959f; border-radius: 3px; color: inherit; text-decoration: none; background: #f6f8fa; }
              .secondary { background: none; } .error { color: #b42318; } .notice { color: #1a7f37; }
              table { border-collapse: collapse; width: 100%; margin-top: 1rem; } td, th { text-align: left; padding: .5rem .4rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
              tr.wanted { background: #fff8c5; } form.inline { display: inline; margin: 0; }
            </style></head>
            <body><h1>{{WebUtility.HtmlEncode(title)}}</h1>{{body}}</body></html>
            """);
    }

    /// <summary>The CSP source for a redirect URI a form may end at: its origin, or a native app's scheme.</summary>
    public static string? FormTarget(string? redirectUri)
    {
        if (redirectUri is null || !Uri.TryCreate(redirectUri, UriKind.Absolute, out var uri))
        {
            return null;
        }

        return uri.Scheme is "http" or "https" ? uri.GetLeftPart(UriPartial.Authority) : $"{uri.Scheme}:";
    }

    /// <summary>An urlencoded form of at most <paramref name="maxFields"/> fields of at most 64 KiB each; null if it is not one.</summary>
    public static async Task<FormCollection?> ReadFormAsync(HttpContext context, int maxFields = 16)
    {
        if (!context.Request.HasFormContentType)
        {
            return null;
        }

        try
        {
            var reader = new Microsoft.AspNetCore.WebUtilities.FormReader(context.Request.Body)
            {
                ValueCountLimit = maxFields,
                KeyLengthLimit = 256,
                ValueLengthLimit = 64 * 1024,
            };
            return new FormCollection(await reader.ReadFormAsync(context.RequestAborted).ConfigureAwait(false));
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }
}
