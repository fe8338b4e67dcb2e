namespace Archestra.Edge.Contracts;

/// <summary>
/// <c>GET /v1/profiles/{profile}/connect?format=json</c> and <c>archestra-edge connect --json</c>: how each known
/// client connects to one profile.
/// </summary>
internal sealed record ConnectDocument(string Profile, string Url, IReadOnlyList<string> Auth, string TokenVariable, IReadOnlyList<ConnectClient> Clients);

/// <param name="Snippet">The text to paste (a config file fragment or a command).</param>
internal sealed record ConnectClient(string Client, string Title, string Auth, string Where, string Language, string Snippet);
