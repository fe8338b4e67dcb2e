using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Archestra.Edge.Gateway;
using Archestra.Edge.Identity;
using Archestra.Edge.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Hosting;

/// <summary>
/// The admin API: status, tokens (list, create, revoke) and the signing key rotation. With <c>auth:</c> configured it
/// requires an organisation-scoped bearer token; without, it answers local (loopback) clients only.
/// </summary>
internal static partial class AdminEndpoints
{
    public static void MapAdmin(this IEndpointRouteBuilder app)
    {
        app.MapGet("/admin/status", (RequestDelegate)StatusAsync);
        app.MapGet("/admin/tokens", (RequestDelegate)ListTokensAsync);
        app.MapPost("/admin/tokens", (RequestDelegate)CreateTokenAsync);
        app.MapDelete("/admin/tokens/{id}", (RequestDelegate)RevokeTokenAsync);
        app.MapPost("/admin/keys/rotate", (RequestDelegate)RotateKeysAsync);
        app.MapGet("/admin/grants", (RequestDelegate)ListGrantsAsync);
        app.MapDelete("/admin/grants/{id}", (RequestDelegate)RevokeGrantAsync);
    }

    private static GatewayRuntime Runtime(HttpContext context) => context.RequestServices.GetRequiredService<GatewayHost>().Current;

    /// <summary>
    /// Whether the caller may use the admin API (or, with <paramref name="openWithoutAuth"/>, a read-only endpoint
    /// such as <c>/metrics</c> that anyone who can reach an unauthenticated gateway may read); if not, the refusal
    /// has been written.
    /// </summary>
    internal static async Task<bool> AllowedAsync(HttpContext context, GatewayRuntime runtime, bool openWithoutAuth = false)
    {
        if (!runtime.Authenticator.Enabled)
        {
            if (openWithoutAuth || (context.Connection.RemoteIpAddress is { } address && System.Net.IPAddress.IsLoopback(address)))
            {
                return true;
            }

            await RefuseAsync(context, StatusCodes.Status403Forbidden, "the admin API answers local clients only (configure auth: to use it remotely with an organisation token)").ConfigureAwait(false);
            return false;
        }

        var result = runtime.Authenticator.CheckBearer(context.Request);
        if (result.Outcome != AuthOutcome.Ok || result.Principal is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, "an organisation-scoped archestra_ token is required").ConfigureAwait(false);
            return false;
        }

        if (result.Principal.Kind != PrincipalKind.Org)
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden, $"{result.Principal.Name} is not an organisation token").ConfigureAwait(false);
            return false;
        }

        return true;
    }

    private static async Task StatusAsync(HttpContext context)
    {
        var runtime = Runtime(context);
        if (!await AllowedAsync(context, runtime).ConfigureAwait(false))
        {
            return;
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        StatusWriter.Write(buffer, runtime);
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(buffer.WrittenMemory).ConfigureAwait(false);
    }

    private static async Task ListTokensAsync(HttpContext context)
    {
        var runtime = Runtime(context);
        if (!await AllowedAsync(context, runtime).ConfigureAwait(false))
        {
            return;
        }

        var tokens = runtime.Identity?.Tokens.List() ?? [];
        await WriteJsonAsync(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartArray("tokens");
            foreach (var token in tokens)
            {
                WriteToken(writer, token);
            }

            writer.WriteEndArray();
        }).ConfigureAwait(false);
    }

    private static async Task CreateTokenAsync(HttpContext context)
    {
        var runtime = Runtime(context);
        if (!await AllowedAsync(context, runtime).ConfigureAwait(false))
        {
            return;
        }

        if (runtime.Identity is not { Database: not null } identity)
        {
            await RefuseAsync(context, StatusCodes.Status409Conflict, "tokens can only be created when auth: is configured (they are stored in data_dir)").ConfigureAwait(false);
            return;
        }

        string? name = null, scopeText = null, expiresText = null;
        var profiles = ImmutableArray<string>.Empty;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
            var root = document.RootElement;
            name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            scopeText = root.TryGetProperty("scope", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            expiresText = root.TryGetProperty("expires", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
            if (root.TryGetProperty("profiles", out var p) && p.ValueKind == JsonValueKind.Array)
            {
                profiles = [.. p.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!)];
            }
        }
        catch (JsonException)
        {
        }

        var (request, error) = TokenRequest.Validate(name, scopeText, profiles, expiresText, runtime.Snapshot, identity.Time);
        if (request is null)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        var (record, secret) = identity.Tokens.Create(request.Name, request.Scope, request.Profiles, request.Expires);
        Log.Created(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Archestra.Edge.Identity"), record.Id, record.Name, record.Scope.ToString());
        await WriteJsonAsync(context, StatusCodes.Status201Created, writer =>
        {
            writer.WriteString("token", secret);
            WriteTokenFields(writer, record);
        }).ConfigureAwait(false);
    }

    private static async Task RevokeTokenAsync(HttpContext context)
    {
        var runtime = Runtime(context);
        if (!await AllowedAsync(context, runtime).ConfigureAwait(false))
        {
            return;
        }

        var id = context.Request.RouteValues["id"] as string ?? string.Empty;
        if (runtime.Identity?.Tokens.Revoke(id) != true)
        {
            await RefuseAsync(context, StatusCodes.Status404NotFound, $"no active token '{id}' (tokens declared in the config are revoked by removing them from it)").ConfigureAwait(false);
            return;
        }

        Log.Revoked(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Archestra.Edge.Identity"), id);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>The built-in authorization server's live grants (<c>?user=</c> narrows to one user).</summary>
    private static async Task ListGrantsAsync(HttpContext context)
    {
        if (await AuthorizationServerAsync(context).ConfigureAwait(false) is not { } server)
        {
            return;
        }

        var user = context.Request.Query["user"].ToString();
        var grants = server.Grants.ListGrants(user.Length == 0 ? null : user);
        await WriteJsonAsync(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartArray("grants");
            foreach (var grant in grants)
            {
                writer.WriteStartObject();
                writer.WriteString("id", grant.Id);
                writer.WriteString("client_id", grant.ClientId);
                writer.WriteString("user", grant.User);
                writer.WriteString("resource", grant.Resource);
                writer.WriteString("expires_at", grant.ExpiresAt);
                if (grant.RevokedAt is { } revoked)
                {
                    writer.WriteString("revoked_at", revoked);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }).ConfigureAwait(false);
    }

    /// <summary>The built-in authorization server, for a caller allowed to manage it; null when the refusal has been written.</summary>
    private static async Task<Identity.OAuth.AuthorizationServer?> AuthorizationServerAsync(HttpContext context)
    {
        var runtime = Runtime(context);
        if (!await AllowedAsync(context, runtime).ConfigureAwait(false))
        {
            return null;
        }

        if (runtime.Identity?.AuthorizationServer is not { } server)
        {
            await RefuseAsync(context, StatusCodes.Status409Conflict, "the built-in authorization server is not on").ConfigureAwait(false);
            return null;
        }

        return server;
    }

    /// <summary>Revokes one grant (by id), or every grant of a user (<c>DELETE /admin/grants/user:alice</c>): refresh and access tokens stop at once.</summary>
    private static async Task RevokeGrantAsync(HttpContext context)
    {
        if (await AuthorizationServerAsync(context).ConfigureAwait(false) is not { } server)
        {
            return;
        }

        var id = context.Request.RouteValues["id"] as string ?? string.Empty;
        var revoked = id.StartsWith("user:", StringComparison.Ordinal)
            ? server.Grants.RevokeGrants(grant: null, user: id["user:".Length..])
            : server.Grants.RevokeGrants(grant: id, user: null);
        if (revoked == 0)
        {
            await RefuseAsync(context, StatusCodes.Status404NotFound, $"no active grant '{id}'").ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, StatusCodes.Status200OK, writer => writer.WriteNumber("revoked", revoked)).ConfigureAwait(false);
    }

    private static async Task RotateKeysAsync(HttpContext context)
    {
        var runtime = Runtime(context);
        if (!await AllowedAsync(context, runtime).ConfigureAwait(false))
        {
            return;
        }

        if (runtime.Identity?.Keys is not { } keys)
        {
            await RefuseAsync(context, StatusCodes.Status409Conflict, "the built-in authorization server is not on").ConfigureAwait(false);
            return;
        }

        var kid = keys.Rotate();
        await WriteJsonAsync(context, StatusCodes.Status200OK, writer => writer.WriteString("kid", kid)).ConfigureAwait(false);
    }

    internal static void WriteToken(Utf8JsonWriter writer, TokenRecord token)
    {
        writer.WriteStartObject();
        WriteTokenFields(writer, token);
        writer.WriteEndObject();
    }

    private static void WriteTokenFields(Utf8JsonWriter writer, TokenRecord token)
    {
        writer.WriteString("id", token.Id);
        writer.WriteString("name", token.Name);
        writer.WriteString("scope", token.Scope.ToString());
        writer.WriteStartArray("profiles");
        foreach (var profile in token.Profiles.IsDefault ? [] : token.Profiles)
        {
            writer.WriteStringValue(profile);
        }

        writer.WriteEndArray();
        writer.WriteString("source", token.Declared ? "config" : "database");
        if (!token.Declared)
        {
            writer.WriteString("created_at", token.CreatedAt);
        }

        if (token.ExpiresAt is { } expires)
        {
            writer.WriteString("expires_at", expires);
        }

        if (token.RevokedAt is { } revoked)
        {
            writer.WriteString("revoked_at", revoked);
        }
    }

    private static Task RefuseAsync(HttpContext context, int status, string message)
        => WriteJsonAsync(context, status, writer => writer.WriteString("error", message));

    private static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.Body.WriteAsync(buffer.WrittenMemory).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.TokenCreated, LogLevel.Information, "Token {Id} ({Name}, {Scope}) created through the admin API")]
        public static partial void Created(ILogger logger, string id, string name, string scope);

        [LoggerMessage(Observability.EventIds.TokenRevoked, LogLevel.Information, "Token {Id} revoked through the admin API")]
        public static partial void Revoked(ILogger logger, string id);
    }
}

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
