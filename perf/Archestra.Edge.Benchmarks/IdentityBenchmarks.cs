using System.Collections.Immutable;
using Archestra.Edge.Configuration;
using Archestra.Edge.Identity;
using Archestra.Edge.Identity.Jwt;
using Archestra.Edge.Model;
using Archestra.Edge.Storage.Sqlite;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Archestra.Edge.Benchmarks;

/// <summary>
/// The token check on every request when <c>auth:</c> is on: an <c>archestra_</c> token (hash and index lookup),
/// a built-in JWT already seen (cache hit), and the signature check a JWT costs the first time it is seen.
/// <c>NoAuth</c> (auth off) is the baseline.
/// </summary>
[MemoryDiagnoser]
public class IdentityBenchmarks
{
    private readonly string _directory = Directory.CreateTempSubdirectory("archestra-bench-").FullName;
    private IdentityServices _services = null!;
    private Authenticator _authenticator = null!;
    private Authenticator _open = null!;
    private ProfileModel _profile = null!;
    private HttpContext _tokenRequest = null!;
    private HttpContext _jwtRequest = null!;
    private string _jwt = "";

    [GlobalSetup]
    public void Setup()
    {
        var snapshot = ConfigLoader.Load("""
            server: { public_url: "http://localhost" }
            users: { alice: {} }
            servers:
              edge: { builtin: archestra }
            profiles:
              p: { tools: [{ server: edge }], access: { users: [alice] } }
            auth:
              oauth: { authorization_server: builtin }
            """, "bench.yaml", _ => null).Snapshot!;
        _services = new IdentityServices(snapshot, Archestra.Edge.Storage.StateStores.Sqlite(_directory), TimeProvider.System, NullLoggerFactory.Instance);
        _authenticator = new Authenticator(snapshot, _services, NullLogger.Instance);
        _open = new Authenticator(ConfigLoader.Load("servers: { edge: { builtin: archestra } }\nprofiles: { p: { tools: [{ server: edge }] } }\n", "open.yaml", _ => null).Snapshot!, null, NullLogger.Instance);
        _profile = snapshot.Profiles["p"];

        var (_, secret) = _services.Tokens.Create("bench", new TokenScope(PrincipalKind.User, "alice"), ImmutableArray<string>.Empty, null);
        _tokenRequest = Request(secret);

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        _jwt = JsonWebToken.Sign(_services.Keys!.Active, writer =>
        {
            writer.WriteString("iss", "http://localhost");
            writer.WriteString("sub", "alice");
            writer.WriteString("aud", "http://localhost/v1/mcp/p");
            writer.WriteNumber("iat", now);
            writer.WriteNumber("exp", now + 3600);
        });
        _jwtRequest = Request(_jwt);
        if (!ArchestraToken() || !JwtCached() || !JwtSignatureCheck() || !NoAuth())
        {
            throw new InvalidOperationException("the benchmark's credentials are not accepted");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public bool NoAuth() => Completed(_open.AuthenticateAsync(_tokenRequest, _profile));

    [Benchmark]
    public bool ArchestraToken() => Completed(_authenticator.AuthenticateAsync(_tokenRequest, _profile));

    [Benchmark]
    public bool JwtCached() => Completed(_authenticator.AuthenticateAsync(_jwtRequest, _profile));

    [Benchmark]
    public bool JwtSignatureCheck()
        => JsonWebToken.Validate(_jwt, _services.Keys!.Active, ["ES256"], "http://localhost", static audience => audience == "http://localhost/v1/mcp/p", DateTimeOffset.UtcNow, out _) == JwtError.None;

    /// <summary>Every case measured here completes synchronously; one that did not would be a finding.</summary>
    private static bool Completed(ValueTask<AuthResult> check)
        => check.IsCompletedSuccessfully ? check.Result.Outcome == AuthOutcome.Ok : throw new InvalidOperationException("the check went asynchronous");

    private static DefaultHttpContext Request(string bearer)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost");
        context.Request.Path = "/v1/mcp/p";
        context.Request.Headers.Authorization = $"Bearer {bearer}";
        return context;
    }
}
