namespace Archestra.Edge.Gateway;

/// <summary>
/// Holds the running <see cref="GatewayRuntime"/>. Request handlers read <see cref="Current"/> once per request
/// (one volatile read, no lock); a reload swaps it whole.
/// </summary>
internal sealed class GatewayHost : IAsyncDisposable
{
    private volatile GatewayRuntime _current;

    public GatewayHost(GatewayRuntime initial)
    {
        _current = initial;
    }

    public GatewayRuntime Current => _current;

    /// <summary>Installs a new runtime and returns the previous one (the caller retires it).</summary>
    public GatewayRuntime Swap(GatewayRuntime next) => Interlocked.Exchange(ref _current, next);

    /// <summary>Stops the current runtime (retired ones were cleaned up by their reload).</summary>
    public ValueTask DisposeAsync() => _current.DisposeAsync();
}
