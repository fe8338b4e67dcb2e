using System.Text.Json;

namespace Archestra.Edge.Upstreams.OAuth;

/// <summary>
/// What a connection holds: where its tokens come from (the discovered authorization server), who the gateway is
/// there (its client), and the tokens. Kept sealed in the state store; never logged, never sent downstream.
/// </summary>
internal sealed record UpstreamConnection(UpstreamAuthorization Authorization, OAuthClientIdentity Client, UpstreamTokens Tokens)
{
    /// <summary>Expired, or expiring within <paramref name="margin"/>.</summary>
    public bool ExpiresWithin(DateTimeOffset now, TimeSpan margin) => Tokens.ExpiresAt is { } at && at - margin <= now;

    public byte[] Serialize()
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            var a = Authorization;
            writer.WriteStartObject();
            writer.WriteString("resource", a.Resource.ToString());
            writer.WriteString("issuer", a.Issuer.ToString());
            writer.WriteString("authorization_endpoint", a.AuthorizationEndpoint.ToString());
            writer.WriteString("token_endpoint", a.TokenEndpoint.ToString());
            if (a.RegistrationEndpoint is { } registration)
            {
                writer.WriteString("registration_endpoint", registration.ToString());
            }

            if (a.RevocationEndpoint is { } revocation)
            {
                writer.WriteString("revocation_endpoint", revocation.ToString());
            }

            writer.WriteStartArray("token_endpoint_auth_methods");
            foreach (var method in a.TokenEndpointAuthMethods)
            {
                writer.WriteStringValue(method);
            }

            writer.WriteEndArray();
            if (a.Scope is { } scope)
            {
                writer.WriteString("scope", scope);
            }

            writer.WriteString("client_id", Client.ClientId);
            if (Client.ClientSecret is { } secret)
            {
                writer.WriteString("client_secret", secret);
            }

            writer.WriteString("client_auth", Client.AuthMethod);
            writer.WriteString("access_token", Tokens.AccessToken);
            if (Tokens.ExpiresAt is { } expires)
            {
                writer.WriteNumber("expires_at", expires.ToUnixTimeSeconds());
            }

            if (Tokens.RefreshToken is { } refresh)
            {
                writer.WriteString("refresh_token", refresh);
            }

            if (Tokens.Scope is { } granted)
            {
                writer.WriteString("granted_scope", granted);
            }

            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public static UpstreamConnection? Deserialize(byte[] json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var value) ? value.GetString() : null;
            Uri Url(string name) => new(Text(name)!);
            var authorization = new UpstreamAuthorization(Url("resource"), Url("issuer"), Url("authorization_endpoint"), Url("token_endpoint"),
                Text("registration_endpoint") is { } registration ? new Uri(registration) : null,
                root.TryGetProperty("token_endpoint_auth_methods", out var methods) ? [.. methods.EnumerateArray().Select(static m => m.GetString() ?? string.Empty)] : [],
                Text("scope"), false)
            {
                RevocationEndpoint = Text("revocation_endpoint") is { } revocation ? new Uri(revocation) : null,
            };
            var client = new OAuthClientIdentity(Text("client_id")!, Text("client_secret"), Text("client_auth") ?? "none");
            var tokens = new UpstreamTokens(Text("access_token")!,
                root.TryGetProperty("expires_at", out var expires) ? DateTimeOffset.FromUnixTimeSeconds(expires.GetInt64()) : null,
                Text("refresh_token"), Text("granted_scope"));
            return new UpstreamConnection(authorization, client, tokens);
        }
        catch (Exception ex) when (ex is JsonException or UriFormatException or ArgumentNullException or InvalidOperationException)
        {
            return null;
        }
    }
}
