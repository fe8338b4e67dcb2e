using System.Text;
using Archestra.Edge.Gateway.Stateless;
using Microsoft.Extensions.Time.Testing;

namespace Archestra.Edge.Tests.Gateway.Stateless;

/// <summary>The sealed <c>requestState</c> of the gateway's InputRequiredResults: checked without a table, used once.</summary>
public sealed class RequestStatesTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-12-06T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private static byte[] Content(byte[] token) => token[1..^1]; // the string token without its quotes

    [Fact]
    public void IntactState_OpensOnce_ForItsCallerAndProfile_WithWhatWasSealed()
    {
        var states = new RequestStates(_clock);
        var token = states.Seal(new RequestState("p", "user:ada", "srv", "upstream-state", 0));
        Assert.Equal((byte)'"', token[0]);

        var (opened, error) = states.Open(Content(token), "p", "user:ada");
        Assert.Null(error);
        Assert.Equal(new RequestState("p", "user:ada", "srv", "upstream-state", 0), opened);

        var (again, replayError) = states.Open(Content(token), "p", "user:ada");
        Assert.Null(again);
        Assert.Contains("used already", replayError);
    }

    [Fact]
    public void AlteredState_IsRefused_WhateverByteChanged()
    {
        var states = new RequestStates(_clock);
        var content = Content(states.Seal(new RequestState("p", "org", "srv", null, 7)));
        for (var i = 0; i < content.Length; i++)
        {
            var altered = (byte[])content.Clone();
            altered[i] = altered[i] == (byte)'A' ? (byte)'B' : (byte)'A';
            var (opened, _) = states.Open(altered, "p", "org");
            Assert.Null(opened);
        }

        Assert.NotNull(states.Open(content, "p", "org").State);
    }

    [Fact]
    public void AnotherCallersOrProfilesState_IsRefused_AndStaysUsable()
    {
        var states = new RequestStates(_clock);
        var content = Content(states.Seal(new RequestState("p", "user:ada", "srv", null, 0)));
        Assert.Contains("another caller or profile", states.Open(content, "q", "user:ada").Error);
        Assert.Contains("another caller or profile", states.Open(content, "p", "user:bob").Error);
        Assert.NotNull(states.Open(content, "p", "user:ada").State);
    }

    [Fact]
    public void StateOfAnotherGatewayProcess_OrGarbage_IsRefused()
    {
        var other = new RequestStates(_clock);
        var content = Content(other.Seal(new RequestState("p", "org", "srv", null, 0)));
        var states = new RequestStates(_clock);
        Assert.Contains("integrity", states.Open(content, "p", "org").Error);
        Assert.NotNull(states.Open("no-dot-here"u8, "p", "org").Error);
        Assert.NotNull(states.Open("!!!.???"u8, "p", "org").Error);
    }

    [Fact]
    public void ExpiredState_IsRefused()
    {
        var states = new RequestStates(_clock);
        var content = Content(states.Seal(new RequestState("p", "org", "srv", null, 0)));
        _clock.Advance(RequestStates.Lifetime + TimeSpan.FromSeconds(2));
        Assert.Contains("expired", states.Open(content, "p", "org").Error);
    }

    [Fact]
    public void UsedNonces_AreBounded_AndForgottenAsTheyExpire()
    {
        var states = new RequestStates(_clock);
        for (var i = 0; i < RequestStates.MaxUsedNonces + 500; i++)
        {
            var content = Content(states.Seal(new RequestState("p", "org", "srv", null, i)));
            Assert.NotNull(states.Open(content, "p", "org").State);
        }

        Assert.True(states.UsedCount <= RequestStates.MaxUsedNonces, $"{states.UsedCount} nonces kept");
        _clock.Advance(RequestStates.Lifetime + TimeSpan.FromMinutes(1));
        Assert.NotNull(states.Open(Content(states.Seal(new RequestState("p", "org", "srv", null, 1))), "p", "org").State);
        Assert.Equal(1, states.UsedCount);
    }

    [Fact]
    public void UpstreamState_WithAnyCharacters_RoundTrips()
    {
        var states = new RequestStates(_clock);
        const string upstream = "naïve \"quoted\" \\ ☕ \u2028";
        var (opened, _) = states.Open(Content(states.Seal(new RequestState("p", "org", "srv", upstream, 0))), "p", "org");
        Assert.Equal(upstream, opened!.UpstreamState);
        Assert.DoesNotContain((byte)'\\', Encoding.UTF8.GetBytes(Encoding.ASCII.GetString(states.Seal(new RequestState("p", "org", "srv", upstream, 0)))));
    }
}
