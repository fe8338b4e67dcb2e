using System.Security.Cryptography;
using Archestra.Edge.Configuration;
using Archestra.Edge.Identity.Jwt;
using Archestra.Edge.Identity.OAuth;
using Microsoft.Extensions.Time.Testing;

namespace Archestra.Edge.Tests.Hardening;

public sealed class IdentityBoundsTests
{
    [Fact]
    public void Jwt_ExpiringInYear9999_IsValidatedWithoutOverflow()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var key = JsonWebKey.ForEc("k1", ECDsa.Create(ec.ExportParameters(true)));
        var now = DateTimeOffset.UtcNow;
        var token = JsonWebToken.Sign(key, w =>
        {
            w.WriteString("iss", "https://gw");
            w.WriteString("aud", "https://gw/v1/mcp/p");
            w.WriteNumber("exp", 253402300799L);
            w.WriteNumber("nbf", -62135596800L);
        });

        Assert.Equal(JwtError.None, JsonWebToken.Validate(token, key, ["ES256"], "https://gw", _ => true, now, out var claims, canonicalSignature: true));
        Assert.Equal(9999, claims!.ExpiresAt.Year);
    }

    [Fact]
    public void Es256_SignsOnlyLowS_AndTheCanonicalCheckRefusesHighS()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var key = JsonWebKey.ForEc("k1", ECDsa.Create(ec.ExportParameters(true)));
        var now = DateTimeOffset.UtcNow;
        var order = System.Numerics.BigInteger.Parse("0FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        for (var i = 0; i < 64; i++)
        {
            var token = JsonWebToken.Sign(key, w =>
            {
                w.WriteString("iss", "https://gw");
                w.WriteString("aud", "a");
                w.WriteNumber("exp", now.AddMinutes(5).ToUnixTimeSeconds());
                w.WriteNumber("n", i);
            });
            var parts = token.Split('.');
            var signature = System.Buffers.Text.Base64Url.DecodeFromChars(parts[2]);
            Assert.True(JsonWebKey.IsLowS(signature));
            Assert.Equal(JwtError.None, JsonWebToken.Validate(token, key, ["ES256"], "https://gw", _ => true, now, out _, canonicalSignature: true));

            // The same signature with s' = n - s is mathematically valid: accepted only where high-S is tolerated.
            var s = new System.Numerics.BigInteger(signature.AsSpan(32), isUnsigned: true, isBigEndian: true);
            var high = order - s;
            var flipped = (byte[])signature.Clone();
            flipped.AsSpan(32).Clear();
            high.TryWriteBytes(flipped.AsSpan(64 - high.GetByteCount(isUnsigned: true)), out _, isUnsigned: true, isBigEndian: true);
            var malleated = $"{parts[0]}.{parts[1]}.{System.Buffers.Text.Base64Url.EncodeToString(flipped)}";
            Assert.Equal(JwtError.BadSignature, JsonWebToken.Validate(malleated, key, ["ES256"], "https://gw", _ => true, now, out _, canonicalSignature: true));
            Assert.Equal(JwtError.None, JsonWebToken.Validate(malleated, key, ["ES256"], "https://gw", _ => true, now, out _));
        }
    }

    [Fact]
    public void PendingAuthorizations_KeepNothingPerRequest_AndRefuseTamperingExpiryAndReplay()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var pending = new PendingAuthorizations(time);
        for (var i = 0; i < 10_000; i++)
        {
            pending.Begin("client_1", "App", "http://127.0.0.1/cb", new string('c', 43), new string('s', 7000), "http://gw/v1/mcp/p", "p", null);
        }

        Assert.Equal(0, pending.UsedCount);

        var request = pending.Begin("client_1", "App", "http://127.0.0.1/cb", new string('c', 43), "st", "http://gw/v1/mcp/p", "p", "mcp");
        var opened = pending.Open(request.Id, request.Csrf, request.Csrf);
        Assert.NotNull(opened);
        Assert.Equal(("client_1", "st", "mcp", "p"), (opened!.ClientId, opened.State, opened.Scope, opened.Profile));

        // Tampered payload, foreign CSRF, missing cookie, a seal from another process.
        var tampered = "x" + request.Id[1..];
        Assert.Null(pending.Open(tampered, request.Csrf, request.Csrf));
        Assert.Null(pending.Open(request.Id, "other", request.Csrf));
        Assert.Null(pending.Open(request.Id, request.Csrf, null));
        Assert.Null(new PendingAuthorizations(time).Open(request.Id, request.Csrf, request.Csrf));
        Assert.Null(pending.Open("garbage", "a", "a"));

        // Approved once: the same form cannot approve again.
        Assert.True(pending.MarkUsed(opened));
        Assert.Null(pending.Open(request.Id, request.Csrf, request.Csrf));

        // Expired after its lifetime.
        var late = pending.Begin("client_1", null, "http://127.0.0.1/cb", new string('c', 43), null, "http://gw/v1/mcp/p", "p", null);
        time.Advance(PendingAuthorizations.Lifetime + TimeSpan.FromSeconds(1));
        Assert.Null(pending.Open(late.Id, late.Csrf, late.Csrf));
    }

    [Fact]
    public void PendingAuthorizations_UsedNonces_AreBounded()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var pending = new PendingAuthorizations(time);
        for (var i = 0; i < PendingAuthorizations.MaxUsedNonces + 500; i++)
        {
            pending.MarkUsed(pending.Begin("c", null, "http://127.0.0.1/cb", "x", null, "r", "p", null));
        }

        Assert.Equal(PendingAuthorizations.MaxUsedNonces, pending.UsedCount);
        time.Advance(PendingAuthorizations.Lifetime + TimeSpan.FromSeconds(1));
        pending.MarkUsed(pending.Begin("c", null, "http://127.0.0.1/cb", "x", null, "r", "p", null));
        Assert.Equal(1, pending.UsedCount);
    }

    [Theory]
    [InlineData("v\r\nX-Injected: 1")]
    [InlineData("v\n")]
    [InlineData("v\0")]
    public void CredentialValues_WithLineBreaks_AreRefusedForHeaders_AtLoad(string value)
    {
        var result = ConfigLoader.Load("""
            servers:
              gh:
                remote:
                  url: https://example.com/mcp
                  headers: { Authorization: "Bearer ${credential:gh}" }
            users: { alice: {} }
            credentials:
              gh:
                users: { alice: "${env:ALICE_GH}" }
            auth:
              bearer:
                tokens: []
            profiles:
              p: { tools: [{ server: gh }], access: { org: true } }
            """, "/tmp/archestra.yaml", name => name == "ALICE_GH" ? value : null);

        Assert.False(result.Succeeded);
        var diagnostic = Assert.Single(result.Diagnostics, d => d.ToString().Contains("credentials.gh.users.alice", StringComparison.Ordinal) && d.ToString().Contains("header", StringComparison.Ordinal));
        Assert.Contains("line break", diagnostic.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("X-Injected", diagnostic.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void HeaderSafety_IsVisibleTextSpacesAndTabs()
    {
        Assert.True(Archestra.Edge.Upstreams.Credentials.IsHeaderSafe("Bearer abc\tdef ~!"));
        Assert.False(Archestra.Edge.Upstreams.Credentials.IsHeaderSafe("a\rb"));
        Assert.False(Archestra.Edge.Upstreams.Credentials.IsHeaderSafe("a\nb"));
        Assert.False(Archestra.Edge.Upstreams.Credentials.IsHeaderSafe("a\u007fb"));
    }
}
