using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Archestra.Edge.Identity.OAuth;

namespace Archestra.Edge.Contracts;

/// <summary>
/// Every JSON document the gateway serves outside the MCP relay — the admin API, status, OAuth metadata, registration
/// and token responses, connect output — and the CLI's readers of them: one source-generated context (no reflection,
/// trim-safe), snake_case members, absent values left out. The relay keeps its span-level reader and writer.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(AdminError))]
[JsonSerializable(typeof(TokenList))]
[JsonSerializable(typeof(CreatedToken))]
[JsonSerializable(typeof(CreateTokenRequest))]
[JsonSerializable(typeof(GrantList))]
[JsonSerializable(typeof(RevokedCount))]
[JsonSerializable(typeof(RotatedKey))]
[JsonSerializable(typeof(GatewayStatus))]
[JsonSerializable(typeof(ReadinessReport))]
[JsonSerializable(typeof(ProtectedResourceMetadata))]
[JsonSerializable(typeof(AuthorizationServerMetadata))]
[JsonSerializable(typeof(ClientRegistrationResponse))]
[JsonSerializable(typeof(OAuthErrorResponse))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(ConnectDocument))]
[JsonSerializable(typeof(ConnectionList))]
[JsonSerializable(typeof(RemovedConnection))]
[JsonSerializable(typeof(ClientMetadataDocument))]
internal sealed partial class EdgeJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The same contracts with non-ASCII text written as is (a profile title, a server's stderr, a shell snippet)
    /// rather than <c>\uXXXX</c>-escaped. Every document is served as <c>application/json</c>, never into HTML.
    /// </summary>
    public static EdgeJsonContext Relaxed => RelaxedInstance.Value;

    /// <summary>Built on first use, after <see cref="Default"/> (static initializers of the two partials do not order).</summary>
    private static class RelaxedInstance
    {
        public static readonly EdgeJsonContext Value = new(new JsonSerializerOptions(Default.Options)
        {
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
    }
}
