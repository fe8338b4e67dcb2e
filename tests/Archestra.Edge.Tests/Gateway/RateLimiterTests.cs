using Archestra.Edge.Gateway.Limits;
using Archestra.Edge.Model;

namespace Archestra.Edge.Tests.Gateway;

public sealed class RateLimiterTests
{
    [Fact]
    public void ABurstOfCount_IsTaken_ThenOnePerInterval_PerKey()
    {
        var time = new ManualTime();
        var limiter = new RateLimiter(new RateLimit(3, TimeSpan.FromMinutes(1)), time);

        Assert.True(limiter.TryAcquire("alice", out _));
        Assert.True(limiter.TryAcquire("alice", out _));
        Assert.True(limiter.TryAcquire("alice", out _));
        Assert.False(limiter.TryAcquire("alice", out var wait));
        Assert.Equal(20, wait.TotalSeconds, precision: 3); // one slot every 20 s
        Assert.True(limiter.TryAcquire("bob", out _));   // keys are independent

        time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(limiter.TryAcquire("alice", out wait));
        Assert.Equal(1, wait.TotalSeconds, precision: 3);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(limiter.TryAcquire("alice", out _));
        Assert.False(limiter.TryAcquire("alice", out _));

        time.Advance(TimeSpan.FromMinutes(5)); // a quiet period refills the whole burst, no more
        for (var i = 0; i < 3; i++)
        {
            Assert.True(limiter.TryAcquire("alice", out _));
        }

        Assert.False(limiter.TryAcquire("alice", out _));
    }

    [Fact]
    public void InAFleet_EachInstanceTakesItsShare_AndFollowsTheLiveCount()
    {
        var time = new ManualTime();
        var members = 3;
        var limiter = new RateLimiter(new RateLimit(10, TimeSpan.FromMinutes(1)), time, () => members);

        Assert.Equal(4, limiter.LocalCount); // 10 / 3, rounded up: the fleet may take 12, never fewer than 10
        for (var i = 0; i < 4; i++)
        {
            Assert.True(limiter.TryAcquire("alice", out _));
        }

        Assert.False(limiter.TryAcquire("alice", out var wait));
        Assert.Equal(15, wait.TotalSeconds, precision: 3); // one slot every 60 / 4 s

        members = 1; // the others went: this instance holds the whole limit again
        Assert.Equal(10, limiter.LocalCount);
        time.Advance(TimeSpan.FromMinutes(5));
        for (var i = 0; i < 10; i++)
        {
            Assert.True(limiter.TryAcquire("alice", out _));
        }

        Assert.False(limiter.TryAcquire("alice", out _));
    }

    [Theory]
    [InlineData("20/s", 20, 1)]
    [InlineData("600/m", 600, 60)]
    [InlineData("5/h", 5, 3600)]
    [InlineData("0/s", 0, 0)]
    [InlineData("ten/s", 0, 0)]
    [InlineData("5/d", 0, 0)]
    [InlineData("5", 0, 0)]
    public void Rates_Parse(string text, int count, int seconds)
    {
        var parsed = RateLimit.TryParse(text, out var limit);
        Assert.Equal(count > 0, parsed);
        if (parsed)
        {
            Assert.Equal(count, limit!.Count);
            Assert.Equal(seconds, limit.Period.TotalSeconds);
        }
    }

    [Fact]
    public void AReload_KeepsTheCountsOfALimitThatReadsTheSame_AndStartsAChangedOneAfresh()
    {
        var time = new ManualTime();
        var settings = new LimitSettings(1 << 20, TimeSpan.FromMinutes(1), 100, TimeSpan.FromMinutes(30))
        {
            RatePerPrincipal = new RateLimit(2, TimeSpan.FromMinutes(1)),
            RatePerTool = new RateLimit(5, TimeSpan.FromMinutes(1)),
        };
        var before = new RateLimits(settings, time);
        Assert.True(before.PerPrincipal!.TryAcquire("alice", out _));
        Assert.True(before.PerPrincipal.TryAcquire("alice", out _));

        var after = new RateLimits(settings with { RatePerTool = new RateLimit(10, TimeSpan.FromMinutes(1)) }, time, before);

        Assert.Same(before.PerPrincipal, after.PerPrincipal);
        Assert.False(after.PerPrincipal!.TryAcquire("alice", out _)); // the reload is no way around the limit
        Assert.NotSame(before.PerTool, after.PerTool);
        Assert.Equal(new RateLimit(10, TimeSpan.FromMinutes(1)), after.PerTool!.Limit);
        Assert.Null(after.PerProfile);
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
