using System.Security.Cryptography;
using System.Text;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>
/// A second Edge as an OAuth-protected upstream: its built-in authorization server (access tokens of 32 s, so a
/// gateway refreshes them 30 s before) in front of the test server's <c>echo</c> and the built-in <c>whoami</c>,
/// which says whose token a call came with, at the profile <c>tools</c>; user alice signs in there with her token.
/// </summary>
internal static class UpstreamEdge
{
    public static Task<GatewayProcess> StartAsync(string aliceToken) => GatewayProcess.StartAsync($$"""
        users:
          alice: {}
        servers:
          local:
            {{TestServerProcess.StdioYaml("local")}}
          edge: { builtin: archestra }
        profiles:
          tools:
            access: { users: [alice] }
            naming: bare
            tools: [{ server: local, include: [echo] }, { server: edge, include: [whoami] }]
        auth:
          bearer:
            tokens:
              - { name: alice, sha256: {{Sha256(aliceToken)}}, scope: "user:alice" }
          oauth:
            authorization_server: builtin
            builtin: { access_token_ttl: 32s }
        """);

    public static string Sha256(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
