namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>
/// One gateway for a test class, started from <paramref name="config"/> before its first test and stopped after its
/// last: the class's tests run one after another against it, as clients of one running service do.
/// </summary>
public abstract class GatewayFixture(Func<string> config) : IAsyncLifetime
{
    internal GatewayProcess Gateway { get; private set; } = null!;

    public async Task InitializeAsync() => Gateway = await GatewayProcess.StartAsync(config());

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}
