namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>Waits for a condition instead of a fixed time: polled every 100 ms, failing the test past the deadline.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, int seconds = 15, Func<string>? because = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, because?.Invoke() ?? "the condition did not become true in time");
            await Task.Delay(100);
        }
    }

    /// <summary>The same, for a condition that needs no awaiting.</summary>
    public static Task TrueAsync(Func<bool> condition, int seconds = 15, Func<string>? because = null)
        => TrueAsync(() => Task.FromResult(condition()), seconds, because);

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for <paramref name="condition"/> and says whether it held, for a wait
    /// whose outcome the test then asserts in its own terms.
    /// </summary>
    public static async Task<bool> WithinAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(100);
        }

        return true;
    }
}
