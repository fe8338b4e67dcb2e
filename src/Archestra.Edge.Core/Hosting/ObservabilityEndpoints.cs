using System.Globalization;
using Archestra.Edge.Contracts;
using Archestra.Edge.Gateway;
using Archestra.Edge.Observability;
using Archestra.Edge.Upstreams;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Archestra.Edge.Hosting;

/// <summary>
/// <c>/healthz</c> (the process answers), <c>/readyz</c> (it takes traffic: 503 once shutting down; the detail
/// names the config and any server that is not ready) and <c>/metrics</c> (or <c>observability.metrics.path</c>: Prometheus text; an organisation token
/// when <c>auth:</c> is on).
/// </summary>
internal sealed class ObservabilityEndpoints(
    GatewayHost host,
    IHostApplicationLifetime lifetime,
    GatewayMetrics metrics,
    ConfigReloader reloader,
    Observability.Audit.AuditTrail audit,
    Observability.Tracing.OtlpExporter? traces = null)
{
    public void Map(IEndpointRouteBuilder app, string metricsPath)
    {
        app.MapGet("/healthz", (RequestDelegate)(context => context.Response.WriteAsync("ok\n")));
        app.MapGet("/readyz", (RequestDelegate)ReadyAsync);
        app.MapGet(metricsPath, (RequestDelegate)MetricsAsync);
    }

    private Task ReadyAsync(HttpContext context)
    {
        var runtime = host.Current;
        var stopping = lifetime.ApplicationStopping.IsCancellationRequested;
        var servers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var server in runtime.AllServers())
        {
            servers[server.Name] = StatusReport.StateName(server.State);
        }

        var report = new ReadinessReport(
            stopping ? "stopping" : "ready",
            runtime.Snapshot.SourcePath,
            runtime.Snapshot.ConfigFingerprint,
            runtime.Sessions.Count,
            reloader.Last is { } reload ? new ReloadOutcome(reload.At, reload.Error is null, reload.Error) : null,
            servers,
            runtime.Fleet.InFleet ? runtime.Fleet.Instance : null,
            runtime.Fleet.Membership?.LiveCount);
        return JsonResponse.WriteAsync(context, stopping ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK, report, EdgeJsonContext.Relaxed.ReadinessReport);
    }

    private async Task MetricsAsync(HttpContext context)
    {
        var runtime = host.Current;
        if (!await Admin.AdminAccess.AllowedAsync(context, runtime, openWithoutAuth: true).ConfigureAwait(false))
        {
            return;
        }

        var writer = new PrometheusWriter();
        writer.Family("archestra_build_info", "gauge", "The running version.");
        writer.Sample("archestra_build_info", 1, ("version", Utilities.BuildInfo.Version));
        writer.Family("archestra_config_info", "gauge", "The config this instance runs: the fingerprint of the file as written (the same on every instance once a fleet converged).");
        writer.Sample("archestra_config_info", 1, ("fingerprint", runtime.Snapshot.ConfigFingerprint), ("config", runtime.Snapshot.SourcePath));
        writer.Family("archestra_start_time_seconds", "gauge", "When the gateway started (Unix time).");
        writer.Sample("archestra_start_time_seconds", runtime.StartedAt.ToUnixTimeSeconds());
        writer.Family("archestra_sessions", "gauge", "Open downstream MCP sessions.");
        writer.Sample("archestra_sessions", runtime.Sessions.Count);
        if (runtime.Fleet is { Membership: { } membership, Forwarder: { } forwarder })
        {
            writer.Family("archestra_fleet_members", "gauge", "Live instances of the fleet, as this instance's last heartbeat saw them.");
            writer.Sample("archestra_fleet_members", membership.LiveCount);
            writer.Family("archestra_fleet_forwarded_total", "counter", "Requests for another instance's sessions: relayed to the owner, or answered 404 because it was gone.");
            writer.Sample("archestra_fleet_forwarded_total", forwarder.Forwarded, ("result", "relayed"));
            writer.Sample("archestra_fleet_forwarded_total", forwarder.OwnerGone, ("result", "owner_gone"));
        }

        WriteUpstreams(writer, runtime);
        metrics.Render(writer);
        if (traces is not null)
        {
            writer.Family("archestra_trace_spans_total", "counter", "Spans sent to the OTLP collector, and dropped (queue full or export failed).");
            writer.Sample("archestra_trace_spans_total", traces.Exported, ("result", "exported"));
            writer.Sample("archestra_trace_spans_total", traces.Dropped, ("result", "dropped"));
        }

        if (audit.Enabled)
        {
            writer.Family("archestra_audit_records_total", "counter", "Audit records written, and dropped (queue full or write failed).");
            writer.Sample("archestra_audit_records_total", audit.Written, ("result", "written"));
            writer.Sample("archestra_audit_records_total", audit.Dropped, ("result", "dropped"));
        }

        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync(writer.ToString()).ConfigureAwait(false);
    }

    private static void WriteUpstreams(PrometheusWriter writer, GatewayRuntime runtime)
    {
        var servers = runtime.AllServers();
        writer.Family("archestra_upstream_up", "gauge", "1 when the server has a ready replica.");
        foreach (var server in servers)
        {
            writer.Sample("archestra_upstream_up", server.State == UpstreamState.Ready ? 1 : 0, ("server", server.Name), ("kind", server.Kind));
        }

        writer.Family("archestra_upstream_replicas", "gauge", "Replicas of each server by state.");
        var restarts = new List<(string Server, int Count)>();
        foreach (var server in servers)
        {
            var byState = new int[5];
            var serverRestarts = 0;
            foreach (var replica in runtime.Servers[server.Name].Replicas)
            {
                var status = replica.Status();
                byState[(int)status.State]++;
                serverRestarts += status.Restarts;
            }

            foreach (var state in Enum.GetValues<UpstreamState>())
            {
                writer.Sample("archestra_upstream_replicas", byState[(int)state], ("server", server.Name), ("state", StatusReport.StateName(state)));
            }

            restarts.Add((server.Name, serverRestarts));
        }

        writer.Family("archestra_upstream_restarts_total", "counter", "Times the gateway restarted a replica after it exited or failed.");
        foreach (var (server, count) in restarts)
        {
            writer.Sample("archestra_upstream_restarts_total", count, ("server", server));
        }
    }
}
