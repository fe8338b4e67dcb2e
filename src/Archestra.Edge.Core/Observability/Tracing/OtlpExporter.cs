using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;
using Archestra.Edge.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Observability.Tracing;

/// <summary>
/// Sends the gateway's spans to an OpenTelemetry collector over OTLP/HTTP with the JSON encoding: finished spans go
/// to a bounded queue (full: dropped and counted, never waited for), one background task posts them in batches of
/// up to 256 or every second, and disposal flushes what is left.
/// </summary>
internal sealed partial class OtlpExporter : IHostedService, IAsyncDisposable
{
    private const int BatchSize = 256;

    private readonly TracingSettings _settings;
    private readonly ILogger _logger;
    private readonly Channel<Activity> _queue = Channel.CreateBounded<Activity>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly HttpClient _http;
    private ActivityListener? _listener;
    private Task _loop = Task.CompletedTask;
    private long _exported;
    private long _dropped;

    public OtlpExporter(TracingSettings settings, ILogger logger)
    {
        _settings = settings;
        _logger = logger;
        _http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
    }

    public long Exported => Volatile.Read(ref _exported);

    public long Dropped => Volatile.Read(ref _dropped);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == GatewayTracing.SourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (!_queue.Writer.TryWrite(activity))
                {
                    Interlocked.Increment(ref _dropped);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
        _loop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        _listener?.Dispose();
        _queue.Writer.TryComplete();
        await _loop.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _http.Dispose();
    }

    private async Task RunAsync()
    {
        var batch = new List<Activity>(BatchSize);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // Give a burst a moment to gather into one request.
            await Task.Delay(TimeSpan.FromMilliseconds(200)).ConfigureAwait(false);
            while (reader.TryRead(out var activity))
            {
                batch.Add(activity);
                if (batch.Count == BatchSize)
                {
                    await SendAsync(batch).ConfigureAwait(false);
                }
            }

            if (batch.Count > 0)
            {
                await SendAsync(batch).ConfigureAwait(false);
            }
        }
    }

    private async Task SendAsync(List<Activity> batch)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _settings.TracesEndpoint)
            {
                Content = new ByteArrayContent(Encode(batch, _settings.ServiceName)),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            foreach (var (name, value) in _settings.Headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            using var response = await _http.SendAsync(request).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                Interlocked.Add(ref _exported, batch.Count);
            }
            else
            {
                Interlocked.Add(ref _dropped, batch.Count);
                Log.ExportFailed(_logger, batch.Count, $"HTTP {(int)response.StatusCode}");
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            Interlocked.Add(ref _dropped, batch.Count);
            Log.ExportFailed(_logger, batch.Count, ex.Message);
        }

        batch.Clear();
    }

    /// <summary>An OTLP <c>ExportTraceServiceRequest</c> in the protobuf JSON mapping (ids as hex, times as decimal strings).</summary>
    internal static byte[] Encode(IReadOnlyList<Activity> spans, string serviceName)
    {
        var buffer = new ArrayBufferWriter<byte>(1024 * (spans.Count + 1));
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("resourceSpans");
            json.WriteStartObject();
            json.WriteStartObject("resource");
            json.WriteStartArray("attributes");
            WriteAttribute(json, "service.name", serviceName);
            WriteAttribute(json, "service.version", Utilities.BuildInfo.Version);
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteStartArray("scopeSpans");
            json.WriteStartObject();
            json.WriteStartObject("scope");
            json.WriteString("name", GatewayTracing.SourceName);
            json.WriteString("version", Utilities.BuildInfo.Version);
            json.WriteEndObject();
            json.WriteStartArray("spans");
            foreach (var span in spans)
            {
                json.WriteStartObject();
                json.WriteString("traceId", span.TraceId.ToHexString());
                json.WriteString("spanId", span.SpanId.ToHexString());
                if (span.ParentSpanId != default)
                {
                    json.WriteString("parentSpanId", span.ParentSpanId.ToHexString());
                }

                json.WriteString("name", span.DisplayName);
                json.WriteNumber("kind", span.Kind switch { ActivityKind.Server => 2, ActivityKind.Client => 3, _ => 1 });
                var start = span.StartTimeUtc;
                json.WriteString("startTimeUnixNano", UnixNanoseconds(start));
                json.WriteString("endTimeUnixNano", UnixNanoseconds(start + span.Duration));
                json.WriteStartArray("attributes");
                foreach (var (key, value) in span.TagObjects)
                {
                    if (value is not null)
                    {
                        WriteAttribute(json, key, value);
                    }
                }

                json.WriteEndArray();
                json.WriteStartObject("status");
                json.WriteNumber("code", span.Status switch { ActivityStatusCode.Ok => 1, ActivityStatusCode.Error => 2, _ => 0 });
                if (span.StatusDescription is { } description)
                {
                    json.WriteString("message", description);
                }

                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string UnixNanoseconds(DateTime utc)
        => ((utc.Ticks - DateTime.UnixEpoch.Ticks) * 100).ToString(CultureInfo.InvariantCulture);

    private static void WriteAttribute(Utf8JsonWriter json, string key, object value)
    {
        json.WriteStartObject();
        json.WriteString("key", key);
        json.WriteStartObject("value");
        switch (value)
        {
            case bool flag:
                json.WriteBoolean("boolValue", flag);
                break;
            case int or long:
                json.WriteString("intValue", Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture));
                break;
            case double number:
                json.WriteNumber("doubleValue", number);
                break;
            default:
                json.WriteString("stringValue", Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.TraceExportFailed, LogLevel.Warning, "Sending {Count} spans to the OTLP collector failed: {Reason}")]
        public static partial void ExportFailed(ILogger logger, int count, string reason);
    }
}
