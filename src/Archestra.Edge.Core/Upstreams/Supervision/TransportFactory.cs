using Archestra.Edge.Model;
using Archestra.Edge.Upstreams.Builtin;
using Archestra.Edge.Upstreams.Http;
using Archestra.Edge.Upstreams.Sse;
using Archestra.Edge.Upstreams.Stdio;
using Archestra.Edge.Upstreams.Supervision.Containers;
using Archestra.Edge.Upstreams.Supervision.Processes;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams.Supervision;

/// <summary>Opens the session of one replica over the transport its server's kind asks for.</summary>
internal interface ITransportFactory
{
    /// <summary>
    /// Starts or reaches the server and completes <c>initialize</c>; <paramref name="cancellationToken"/> carries the
    /// start timeout. A failure is a value; nothing the attempt started outlives it.
    /// </summary>
    Task<(UpstreamSession? Session, UpstreamError Error)> OpenAsync(ServerModel model, string name, IUpstreamListener listener, ILogger logger, CancellationToken cancellationToken);
}

/// <summary>The real transports: streamable HTTP, legacy SSE, stdio processes, containers and the built-in server.</summary>
internal sealed class TransportFactory(UpstreamServices services) : ITransportFactory
{
    public async Task<(UpstreamSession? Session, UpstreamError Error)> OpenAsync(
        ServerModel model, string name, IUpstreamListener listener, ILogger logger, CancellationToken cancellationToken)
    {
        switch (model.Kind)
        {
            case ServerKind.Remote when model.Remote!.Transport == RemoteTransport.Sse:
                return await LegacySseUpstreamSession.ConnectAsync(model, services.CreateInvoker(), listener, logger, cancellationToken).ConfigureAwait(false);
            case ServerKind.Remote:
                return await HttpUpstreamSession.ConnectAsync(model.Name, model.Remote!, services.CreateInvoker(), listener, logger, cancellationToken,
                    bearer: model.Remote!.OAuth is null ? null : services.Connections is { } connections ? new OAuth.ConnectionBearer(connections, model.Name, model.Remote) : OAuth.ConnectionBearer.Unavailable).ConfigureAwait(false);
            case ServerKind.Process:
                var process = model.Process!;
                var launch = new ProcessLaunch(process.Command, process.Args, process.Environment, process.InheritEnvironment, process.WorkingDirectory);
                return await StdioUpstreamSession.StartAsync(launch, name, services.Children, listener, logger, services.TimeProvider, cancellationToken).ConfigureAwait(false);
            case ServerKind.Container:
                return await OpenContainerAsync(model, name, listener, logger, cancellationToken).ConfigureAwait(false);
            default:
                return (new ArchestraBuiltinSession(model.Name, services.Introspection, services.TimeProvider), UpstreamError.None);
        }
    }

    private async Task<(UpstreamSession?, UpstreamError)> OpenContainerAsync(
        ServerModel server, string name, IUpstreamListener listener, ILogger logger, CancellationToken cancellationToken)
    {
        var containers = services.Containers;
        var model = server.Container!;
        var check = await ContainerRuntime.CheckImageAsync(model, cancellationToken).ConfigureAwait(false);
        if (check.IsError)
        {
            return (null, check);
        }

        if (model.Transport == ContainerTransport.Stdio)
        {
            var launch = containers.StdioLaunch(server, Directory.GetCurrentDirectory());
            return await StdioUpstreamSession.StartAsync(launch, name, services.Children, listener, logger, services.TimeProvider, cancellationToken).ConfigureAwait(false);
        }

        var (url, container, error) = await containers.StartHttpAsync(server, cancellationToken).ConfigureAwait(false);
        if (url is null)
        {
            return (null, error);
        }

        var remote = new RemoteServerModel(url, []);
        var (session, connectError) = await HttpUpstreamSession.ConnectAsync(server.Name, remote, services.CreateInvoker(), listener, logger, cancellationToken,
            identity: $"container {container}", onDisposed: () => containers.RemoveAsync(model.Runtime, container)).ConfigureAwait(false);
        if (session is null)
        {
            return (null, connectError); // the failed session removed its container
        }

        // HTTP says nothing when the server dies: the runtime does. An exited container ends the session like a crash.
        _ = WatchContainerAsync(session, model.Runtime, container);
        return (session, connectError);
    }

    private static async Task WatchContainerAsync(HttpUpstreamSession session, ContainerRuntimeKind runtime, string name)
    {
        var code = await ContainerRuntime.WaitForExitAsync(runtime, name, CancellationToken.None).ConfigureAwait(false);
        if (session.IsAlive)
        {
            session.End(UpstreamError.Failed(code is { } exit ? $"container {name} exited with code {exit}" : $"container {name} is gone"));
        }
    }
}
