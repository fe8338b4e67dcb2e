using Archestra.Edge.Gateway;
using Microsoft.Extensions.Hosting;

namespace Archestra.Edge.Hosting;

/// <summary>At start-up: reap what a previous run left behind, then start the eager servers.</summary>
internal sealed class SupervisionStarter : IHostedService
{
    private readonly GatewayHost _host;

    public SupervisionStarter(GatewayHost host)
    {
        _host = host;
    }

    public Task StartAsync(CancellationToken cancellationToken) => _host.Current.StartSupervisionAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
