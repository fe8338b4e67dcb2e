using System.Security.Cryptography;
using Archestra.Edge.Gateway;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Identity;
using Archestra.Edge.Observability.Audit;
using Archestra.Edge.Upstreams.OAuth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Hosting.Console;

/// <summary>
/// The read-only web console at <c>/console</c>: profiles as clients see them, servers (live), activity from the
/// audit trail, and the configuration with the registry. Served by the binary (assets embedded, no script from
/// elsewhere), off with <c>server.console: false</c>. With <c>auth:</c> people sign in with a token as on the consent
/// page (sealed in a cookie, checked on every request); without it only local clients see it. Nothing here changes
/// the gateway: the config in git stays the one source of truth.
/// </summary>
internal sealed partial class ConsoleEndpoints(GatewayHost host, ConfigReloader reloader, AuditTrail audit, ILogger<ConsoleEndpoints> logger)
{
    /// <summary>Live server tables streamed at once, at most; then 503 (the page still works, without updates).</summary>
    internal const int MaxStreams = 32;

    private static readonly SignInCookie s_session = new("archestra_console", "/console", TimeSpan.FromHours(8));
    private static readonly TimeSpan s_streamTick = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_streamLifetime = TimeSpan.FromMinutes(30);

    /// <summary>Seals sign-ins when the gateway has no encryption key: per process (a restart signs everyone out).</summary>
    private static readonly ConnectionVault s_processVault = new([Convert.ToBase64String(RandomNumberGenerator.GetBytes(36))]);

    private int _streams;

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/console", (RequestDelegate)(context => Redirect(context, "/console/profiles")));
        app.MapGet("/console/sign-in", (RequestDelegate)SignInPageAsync);
        app.MapPost("/console/sign-in", (RequestDelegate)SignInAsync);
        app.MapPost("/console/sign-out", (RequestDelegate)SignOutAsync);
        app.MapGet("/console/profiles", (RequestDelegate)ProfilesAsync);
        app.MapGet("/console/profiles/{name}", (RequestDelegate)ProfileAsync);
        app.MapGet("/console/servers", (RequestDelegate)ServersAsync);
        app.MapGet("/console/servers/events", (RequestDelegate)ServerEventsAsync);
        app.MapGet("/console/activity", (RequestDelegate)ActivityAsync);
        app.MapGet("/console/config", (RequestDelegate)ConfigAsync);
        app.MapGet("/console/assets/{file}", (RequestDelegate)AssetAsync);
    }

    private async Task ProfilesAsync(HttpContext context)
    {
        if (await ViewerAsync(context).ConfigureAwait(false) is not ({ } runtime, { } viewer))
        {
            return;
        }

        await ConsoleHtml.WriteAsync(context, 200, "Profiles", "/console/profiles", viewer, s_session.Csrf(context), ConsoleProfilesPage.List(runtime, viewer)).ConfigureAwait(false);
    }

    private async Task ProfileAsync(HttpContext context)
    {
        if (await ViewerAsync(context).ConfigureAwait(false) is not ({ } runtime, { } viewer))
        {
            return;
        }

        var name = context.Request.RouteValues["name"] as string ?? string.Empty;
        if (!runtime.Profiles.TryGetValue(name, out var profile) || !viewer.MaySee(profile.Model))
        {
            // Not "forbidden": a profile one may not see does not exist for them.
            await ConsoleHtml.WriteAsync(context, 404, "No such profile", "/console/profiles", viewer, s_session.Csrf(context), "<p>There is no profile by that name open to you.</p>").ConfigureAwait(false);
            return;
        }

        var listing = context.Request.Query["list"] == "1";
        CatalogHolder[] holders = [profile.Tools, profile.Prompts, profile.Resources];
        var catalogs = new Catalog?[holders.Length];
        for (var i = 0; i < holders.Length; i++)
        {
            catalogs[i] = holders[i].Current;
            if (catalogs[i] is null && listing && HasAssignments(profile, i))
            {
                var building = holders[i].GetAsync().AsTask();
                catalogs[i] = await Task.WhenAny(building, Task.Delay(TimeSpan.FromSeconds(20), runtime.TimeProvider, context.RequestAborted)).ConfigureAwait(false) == building ? building.Result : null;
            }
        }

        var body = ConsoleProfilesPage.Detail(profile, catalogs, listing, runtime.Authenticator.BaseUrl(context.Request), runtime.Snapshot.Auth);
        await ConsoleHtml.WriteAsync(context, 200, profile.Model.Title is { } title ? $"{title} ({name})" : name, "/console/profiles", viewer, s_session.Csrf(context), body).ConfigureAwait(false);
    }

    private static bool HasAssignments(ProfileRuntime profile, int kind)
        => kind switch { 0 => !profile.Model.Tools.IsEmpty, 1 => !profile.Model.Prompts.IsEmpty, _ => !profile.Model.Resources.IsEmpty };

    private async Task ServersAsync(HttpContext context)
    {
        if (await ViewerAsync(context).ConfigureAwait(false) is not ({ } runtime, { } viewer))
        {
            return;
        }

        await ConsoleHtml.WriteAsync(context, 200, "Servers", "/console/servers", viewer, s_session.Csrf(context),
            ConsoleServersPage.Page(ConsoleServersPage.Table(runtime, viewer))).ConfigureAwait(false);
    }

    /// <summary>The servers table as server-sent events: now, then whenever it reads differently (checked every 2 s).</summary>
    private async Task ServerEventsAsync(HttpContext context)
    {
        if (await ViewerAsync(context, page: false).ConfigureAwait(false) is not ({ }, { }))
        {
            return;
        }

        if (Interlocked.Increment(ref _streams) > MaxStreams)
        {
            Interlocked.Decrement(ref _streams);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "30";
            return;
        }

        try
        {
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-store";
            var time = host.Current.TimeProvider;
            var ends = time.GetUtcNow() + s_streamLifetime;
            string? sent = null;
            while (!context.RequestAborted.IsCancellationRequested && time.GetUtcNow() < ends)
            {
                // Read again each time: the config may have been reloaded, the token revoked.
                var runtime = host.Current;
                if (Viewer(context, runtime) is not { } viewer)
                {
                    return;
                }

                var table = ConsoleServersPage.Table(runtime, viewer);
                if (table != sent)
                {
                    sent = table;
                    await response.WriteAsync("event: servers\n" + string.Concat(table.Split('\n').Select(static line => $"data: {line}\n")) + "\n", context.RequestAborted).ConfigureAwait(false);
                    await response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                }

                await Task.Delay(s_streamTick, time, context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The page was closed.
        }
        finally
        {
            Interlocked.Decrement(ref _streams);
        }
    }

    private async Task ActivityAsync(HttpContext context)
    {
        if (await ViewerAsync(context).ConfigureAwait(false) is not ({ } runtime, { } viewer))
        {
            return;
        }

        var now = runtime.TimeProvider.GetUtcNow();
        List<AuditRecord> records;
        string? problem = null;
        try
        {
            records = audit.ReadRecent(now.AddDays(-1), ConsoleActivityPage.MaxRead);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException or InvalidOperationException)
        {
            records = [];
            problem = ex.Message;
            Log.AuditUnreadable(logger, ex.Message);
        }

        if (!viewer.SeesEverything)
        {
            var profiles = viewer.Profiles(runtime).Select(static p => p.Name).ToHashSet(StringComparer.Ordinal);
            records = [.. records.Where(r => r.Principal == viewer.Principal!.Name && profiles.Contains(r.Profile))];
        }

        var body = (problem is null ? string.Empty : $"<p class=\"error\">The audit trail cannot be read: {ConsoleHtml.E(problem)}</p>")
            + ConsoleActivityPage.Render(records, context.Request.Query, now, audit.Enabled);
        await ConsoleHtml.WriteAsync(context, 200, "Activity", "/console/activity", viewer, s_session.Csrf(context), body).ConfigureAwait(false);
    }

    private async Task ConfigAsync(HttpContext context)
    {
        if (await ViewerAsync(context).ConfigureAwait(false) is not ({ } runtime, { } viewer))
        {
            return;
        }

        if (!viewer.SeesEverything)
        {
            await ConsoleHtml.WriteAsync(context, 404, "Not for you", "/console/config", viewer, s_session.Csrf(context), "<p>The configuration is shown to organisation tokens only.</p>").ConfigureAwait(false);
            return;
        }

        var query = context.Request.Query["q"].ToString();
        await ConsoleHtml.WriteAsync(context, 200, "Configuration", "/console/config", viewer, s_session.Csrf(context),
            ConsoleConfigPage.Render(runtime, reloader, query.Length > 200 ? query[..200] : query)).ConfigureAwait(false);
    }

    private Task SignInPageAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (!runtime.Snapshot.Listener.Console)
        {
            return NotFoundAsync(context);
        }

        return ConsoleHtml.WriteAsync(context, 200, "Sign in", string.Empty, null, string.Empty, SignInForm(Then(context.Request.Query["then"]), null));
    }

    private async Task SignInAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (!runtime.Snapshot.Listener.Console || !runtime.Authenticator.Enabled)
        {
            await NotFoundAsync(context).ConfigureAwait(false);
            return;
        }

        var form = await HtmlPage.ReadFormAsync(context).ConfigureAwait(false);
        var token = form?["token"].ToString().Trim() ?? string.Empty;
        var then = Then(form?["then"].ToString());
        if (runtime.Authenticator.CheckBearer(token) is not { Outcome: AuthOutcome.Ok, Principal: { } principal })
        {
            await ConsoleHtml.WriteAsync(context, 200, "Sign in", string.Empty, null, string.Empty, SignInForm(then, "That token is not valid (unknown, revoked or expired).")).ConfigureAwait(false);
            return;
        }

        s_session.SignIn(context, Vault(runtime), token, runtime.TimeProvider.GetUtcNow());
        Log.SignedIn(logger, principal.Name);
        await Redirect(context, then).ConfigureAwait(false);
    }

    private static async Task SignOutAsync(HttpContext context)
    {
        var form = await HtmlPage.ReadFormAsync(context).ConfigureAwait(false);
        if (s_session.CsrfMatches(context, form?["csrf"]))
        {
            s_session.SignOut(context);
        }

        await Redirect(context, "/console/sign-in").ConfigureAwait(false);
    }

    private static async Task AssetAsync(HttpContext context)
    {
        var file = context.Request.RouteValues["file"] as string;
        var type = file switch { "console.css" => "text/css; charset=utf-8", "console.js" => "text/javascript; charset=utf-8", "favicon.svg" => "image/svg+xml", _ => null };
        using var stream = type is null ? null : typeof(ConsoleEndpoints).Assembly.GetManifestResourceStream($"console/{file}");
        if (stream is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentType = type;
        context.Response.Headers.CacheControl = "public, max-age=300";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.ContentLength = stream.Length;
        await stream.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The runtime and who is looking; null when the answer (404, 403, or the way to the sign-in) has been written.</summary>
    private async Task<(GatewayRuntime Runtime, ConsoleViewer Viewer)?> ViewerAsync(HttpContext context, bool page = true)
    {
        var runtime = host.Current;
        if (!runtime.Snapshot.Listener.Console)
        {
            await NotFoundAsync(context).ConfigureAwait(false);
            return null;
        }

        if (Viewer(context, runtime) is { } viewer)
        {
            return (runtime, viewer);
        }

        if (!runtime.Authenticator.Enabled)
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await ConsoleHtml.WriteAsync(context, 403, "Local clients only", string.Empty, null, string.Empty,
                "<p>This gateway authenticates nobody (no <code>auth:</code> section), so its console answers local clients only.</p>").ConfigureAwait(false);
            return null;
        }

        if (page)
        {
            await Redirect(context, $"/console/sign-in?then={Uri.EscapeDataString(context.Request.Path + context.Request.QueryString)}").ConfigureAwait(false);
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        }

        return null;
    }

    private static ConsoleViewer? Viewer(HttpContext context, GatewayRuntime runtime)
    {
        if (!runtime.Authenticator.Enabled)
        {
            return context.Connection.RemoteIpAddress is { } address && System.Net.IPAddress.IsLoopback(address) ? new ConsoleViewer(null) : null;
        }

        return s_session.SignedInToken(context, Vault(runtime), runtime.TimeProvider.GetUtcNow()) is { } token
            && runtime.Authenticator.CheckBearer(token) is { Outcome: AuthOutcome.Ok, Principal: { } principal }
                ? new ConsoleViewer(principal)
                : null;
    }

    private static ConnectionVault Vault(GatewayRuntime runtime) => runtime.Connections?.Vault ?? s_processVault;

    /// <summary>Where to go after signing in: a console path, never another site.</summary>
    private static string Then(string? then)
        => then is { Length: > 0 and < 512 } path && path.StartsWith("/console/", StringComparison.Ordinal) && !path.Contains("//", StringComparison.Ordinal) && !path.Contains('\\', StringComparison.Ordinal)
            ? path
            : "/console/profiles";

    private static string SignInForm(string then, string? problem)
        => $"""
            <div class="signin">
            <p>The console shows this gateway's profiles, servers, activity and configuration, read-only. Sign in with a token:
            an organisation token sees everything, a personal or team token the profiles open to it.</p>
            {(problem is null ? string.Empty : $"<p class=\"error\" role=\"alert\">{ConsoleHtml.E(problem)}</p>")}
            <form method="post" action="/console/sign-in">
              <input type="hidden" name="then" value="{ConsoleHtml.E(then)}">
              <p><label for="token">Token (<code>archestra_…</code>)</label><br>
              <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" autofocus></p>
              <button type="submit">Sign in</button>
            </form>
            </div>
            """;

    private static Task Redirect(HttpContext context, string location)
    {
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    }

    private static Task NotFoundAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.ConsoleSignIn, LogLevel.Information, "{Principal} signed in to the console")]
        public static partial void SignedIn(ILogger logger, string principal);

        [LoggerMessage(Observability.EventIds.ConsoleAuditUnreadable, LogLevel.Warning, "The console could not read the audit trail: {Reason}")]
        public static partial void AuditUnreadable(ILogger logger, string reason);
    }
}
