namespace Archestra.Edge.Contracts;

/// <summary>RFC 9728 protected resource metadata, one per profile.</summary>
internal sealed record ProtectedResourceMetadata(
    string Resource,
    IReadOnlyList<string> AuthorizationServers,
    IReadOnlyList<string> BearerMethodsSupported,
    IReadOnlyList<string> ScopesSupported,
    string ResourceName);

/// <summary>RFC 8414 authorization server metadata of the built-in server (also served as OIDC discovery).</summary>
internal sealed record AuthorizationServerMetadata(
    string Issuer,
    string AuthorizationEndpoint,
    string TokenEndpoint,
    string JwksUri,
    string RevocationEndpoint,
    string? RegistrationEndpoint,
    IReadOnlyList<string> ResponseTypesSupported,
    IReadOnlyList<string> GrantTypesSupported,
    IReadOnlyList<string> CodeChallengeMethodsSupported,
    IReadOnlyList<string> TokenEndpointAuthMethodsSupported,
    IReadOnlyList<string> RevocationEndpointAuthMethodsSupported,
    IReadOnlyList<string> ScopesSupported,
    IReadOnlyList<string> IdTokenSigningAlgValuesSupported,
    IReadOnlyList<string> SubjectTypesSupported,
    bool ClientIdMetadataDocumentSupported,
    bool AuthorizationResponseIssParameterSupported);

/// <summary>RFC 7591 client information response: a public client (no secret).</summary>
internal sealed record ClientRegistrationResponse(
    string ClientId,
    long ClientIdIssuedAt,
    string? ClientName,
    IReadOnlyList<string> RedirectUris,
    string TokenEndpointAuthMethod,
    IReadOnlyList<string> GrantTypes,
    IReadOnlyList<string> ResponseTypes);

/// <summary>An OAuth error response (RFC 6749 §5.2, RFC 7591 §3.2.2).</summary>
internal sealed record OAuthErrorResponse(string Error, string ErrorDescription);

/// <summary>A successful token response (RFC 6749 §5.1).</summary>
internal sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, string RefreshToken, string Scope);

/// <summary>The gateway's own client ID metadata document: what it is as an OAuth client of upstream servers.</summary>
internal sealed record ClientMetadataDocument(
    string ClientId,
    string ClientName,
    string ClientUri,
    IReadOnlyList<string> RedirectUris,
    IReadOnlyList<string> GrantTypes,
    IReadOnlyList<string> ResponseTypes,
    string TokenEndpointAuthMethod);
