using Archestra.Edge.Utilities;

namespace Archestra.Edge.Tests.Utilities;

public sealed class UnitsTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("1.5s", 1500)]
    [InlineData("10m", 600_000)]
    [InlineData("2h", 7_200_000)]
    [InlineData("7d", 604_800_000)]
    public void Durations(string text, double milliseconds)
    {
        Assert.True(Units.TryParseDuration(text, out var value));
        Assert.Equal(milliseconds, value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("4MiB", 4L << 20)]
    [InlineData("512KiB", 512L << 10)]
    [InlineData("1GB", 1_000_000_000L)]
    [InlineData("2048", 2048L)]
    public void Sizes(string text, long bytes)
    {
        Assert.True(Units.TryParseSize(text, out var value));
        Assert.Equal(bytes, value);
    }

    [Theory]
    [InlineData("forever")]
    [InlineData("30")]
    [InlineData("s")]
    [InlineData("-5s")]
    public void BadDurations(string text) => Assert.False(Units.TryParseDuration(text, out _));
}
