using System.Globalization;
using HdrHistogram;
using System.Text;
using System.Text.Json;

namespace Archestra.Edge.LoadTest;

internal sealed record ProcessReport(int Pid, double CpuSeconds, long RssBytes);

/// <summary>The outcome of one run, written as JSON (for the summary) and Markdown (for people).</summary>
internal sealed class RunReport
{
    public string Label { get; init; } = "";

    public string Scenario { get; init; } = "";

    public string Url { get; init; } = "";

    public int Clients { get; init; }

    public double Rate { get; init; }

    public double Seconds { get; init; }

    public long Ok { get; init; }

    public long Failed { get; init; }

    public Dictionary<string, long> Errors { get; init; } = [];

    public Dictionary<string, double> LatencyMs { get; init; } = [];

    public Dictionary<string, ProcessReport> Processes { get; } = [];

    public Dictionary<string, double> Extra { get; } = [];

    public double Throughput => Seconds > 0 ? Ok / Seconds : 0;

    public static RunReport From(LoadOptions options, Stats stats, TimeSpan elapsed)
    {
        var histogram = stats.Merge();
        double Ms(double percentile) => histogram.TotalCount == 0 ? 0 : histogram.GetValueAtPercentile(percentile) / 1000.0;
        return new RunReport
        {
            Label = options.Label,
            Scenario = options.Scenario.ToString().ToLowerInvariant(),
            Url = options.Url?.ToString() ?? "",
            Clients = options.Rate > 0 ? options.Sessions : options.Clients,
            Rate = options.Rate,
            Seconds = elapsed.TotalSeconds,
            Ok = stats.Ok,
            Failed = stats.Failed,
            Errors = new Dictionary<string, long>(stats.Errors),
            LatencyMs = new Dictionary<string, double>
            {
                ["p50"] = Ms(50),
                ["p90"] = Ms(90),
                ["p99"] = Ms(99),
                ["p99.9"] = Ms(99.9),
                ["max"] = histogram.TotalCount == 0 ? 0 : histogram.GetMaxValue() / 1000.0,
                ["mean"] = histogram.TotalCount == 0 ? 0 : histogram.GetMean() / 1000.0,
            },
        };
    }

    public string ToJson()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("label", Label);
            writer.WriteString("scenario", Scenario);
            writer.WriteString("url", Url);
            writer.WriteNumber("clients", Clients);
            writer.WriteNumber("rate", Rate);
            writer.WriteNumber("seconds", Math.Round(Seconds, 3));
            writer.WriteNumber("ok", Ok);
            writer.WriteNumber("failed", Failed);
            writer.WriteNumber("throughput", Math.Round(Throughput, 1));
            writer.WriteStartObject("errors");
            foreach (var (kind, count) in Errors)
            {
                writer.WriteNumber(kind, count);
            }

            writer.WriteEndObject();
            writer.WriteStartObject("latencyMs");
            foreach (var (name, value) in LatencyMs)
            {
                writer.WriteNumber(name, Math.Round(value, 3));
            }

            writer.WriteEndObject();
            writer.WriteStartObject("processes");
            foreach (var (name, process) in Processes)
            {
                writer.WriteStartObject(name);
                writer.WriteNumber("pid", process.Pid);
                writer.WriteNumber("cpuSeconds", Math.Round(process.CpuSeconds, 3));
                writer.WriteNumber("cpuMicrosecondsPerCall", Ok > 0 ? Math.Round(process.CpuSeconds * 1e6 / Ok, 2) : 0);
                writer.WriteNumber("rssBytes", process.RssBytes);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.WriteStartObject("extra");
            foreach (var (name, value) in Extra)
            {
                writer.WriteNumber(name, Math.Round(value, 3));
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"### {Label} ({Scenario})");
        text.AppendLine();
        text.AppendLine("| calls/s | ok | failed | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| {Throughput:0} | {Ok} | {Failed} | {LatencyMs["p50"]:0.00} | {LatencyMs["p90"]:0.00} | {LatencyMs["p99"]:0.00} | {LatencyMs["p99.9"]:0.00} | {LatencyMs["max"]:0.00} |");
        foreach (var (kind, count) in Errors)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"\n- error `{kind}`: {count}");
        }

        foreach (var (name, process) in Processes)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"\n- `{name}`: {process.CpuSeconds:0.00} CPU s, {(Ok > 0 ? process.CpuSeconds * 1e6 / Ok : 0):0.0} µs CPU/call, RSS {process.RssBytes / 1048576.0:0.0} MiB");
        }

        return text.ToString();
    }
}
