using System.Globalization;
using System.Text;
using Archestra.Edge.Observability.Audit;

namespace Archestra.Edge.Hosting.Console;

/// <summary>
/// Small inline SVG charts (no script, no library): per server, calls per minute over the last hour as bars, and the
/// 95th-percentile latency of each minute as a line, from the audit trail's records.
/// </summary>
internal static class ConsoleCharts
{
    private const int Minutes = 60;
    private const int Width = 240;
    private const int Height = 48;

    public static string PerServer(IReadOnlyList<AuditRecord> records, DateTimeOffset now)
    {
        var html = new StringBuilder("<div class=\"charts\">");
        foreach (var group in records.Where(static r => r.Server.Length > 0).GroupBy(static r => r.Server, StringComparer.Ordinal).OrderBy(static g => g.Key, StringComparer.Ordinal))
        {
            var counts = new int[Minutes];
            var latencies = new List<double>[Minutes];
            foreach (var record in group)
            {
                var minute = Minutes - 1 - (int)Math.Floor((now - record.At).TotalMinutes);
                if (minute is >= 0 and < Minutes)
                {
                    counts[minute]++;
                    (latencies[minute] ??= []).Add(record.DurationMilliseconds);
                }
            }

            var p95 = latencies.Select(static l => l is null ? (double?)null : Percentile(l, 0.95)).ToArray();
            var total = counts.Sum();
            var worst = p95.Max() ?? 0;
            html.Append("<div class=\"chart\" data-chart-server=\"").Append(ConsoleHtml.E(group.Key)).Append("\"><strong>").Append(ConsoleHtml.E(group.Key))
                .Append("</strong> <span class=\"muted\">").Append(total).Append(" calls in the last hour, p95 up to ")
                .Append(worst.ToString("0.#", CultureInfo.InvariantCulture)).Append(" ms</span>")
                .Append(Svg(counts, p95)).Append("</div>");
        }

        return html.Append("</div>").ToString();
    }

    private static string Svg(int[] counts, double?[] p95)
    {
        var most = Math.Max(1, counts.Max());
        var slowest = Math.Max(1, p95.Max() ?? 1);
        const double Step = (double)Width / Minutes;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg viewBox=\"0 0 {Width} {Height}\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"calls per minute and p95 latency\">");
        for (var i = 0; i < Minutes; i++)
        {
            if (counts[i] > 0)
            {
                var height = Math.Max(1, counts[i] * (Height - 2) / (double)most);
                svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar\" x=\"{i * Step:0.##}\" y=\"{Height - height:0.##}\" width=\"{Step - 1:0.##}\" height=\"{height:0.##}\"><title>{counts[i]} calls</title></rect>");
            }
        }

        var points = string.Join(' ', p95.Select((v, i) => v is null ? null : string.Create(CultureInfo.InvariantCulture, $"{i * Step + Step / 2:0.##},{Height - 1 - v.Value * (Height - 4) / slowest:0.##}")).Where(static p => p is not null));
        if (points.Length > 0)
        {
            svg.Append("<polyline class=\"line\" points=\"").Append(points).Append("\"/>");
        }

        return svg.Append("</svg>").ToString();
    }

    private static double Percentile(List<double> values, double q)
    {
        values.Sort();
        return values[Math.Clamp((int)Math.Ceiling(q * values.Count) - 1, 0, values.Count - 1)];
    }
}
