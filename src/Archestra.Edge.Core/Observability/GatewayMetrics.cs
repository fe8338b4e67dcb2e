using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Archestra.Edge.Observability;

/// <summary>How a relayed call ended, as counted and labelled in metrics.</summary>
internal enum CallOutcome : byte
{
    /// <summary>The upstream answered (a result, or a tool result with <c>isError</c>: the call itself worked).</summary>
    Ok,

    /// <summary>The upstream answered with a JSON-RPC error.</summary>
    Error,

    /// <summary>The gateway refused or could not route it (unknown tool, bad arguments, missing credential).</summary>
    Rejected,

    /// <summary>The server was down, crashed or could not be started.</summary>
    Unavailable,

    Timeout,

    Cancelled,

    /// <summary>2026-07-28: answered with an <c>InputRequiredResult</c>; the call goes on when the client retries with the answers.</summary>
    InputRequired,
}

/// <summary>
/// The gateway's counters and histograms, rendered as Prometheus text at <c>/metrics</c>. Recording is lock-free
/// and allocation-free once a label set has been seen (one dictionary lookup and a few interlocked adds); the
/// state that already lives elsewhere (sessions, upstream states, restarts) is read at scrape time instead.
/// </summary>
internal sealed class GatewayMetrics
{
    /// <summary>Upper bounds of the latency buckets, in seconds.</summary>
    internal static readonly double[] Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private static readonly string[] s_outcomes = ["ok", "error", "rejected", "unavailable", "timeout", "cancelled", "input_required"];

    private readonly ConcurrentDictionary<CallKey, CallSeries> _calls = new();
    private readonly ConcurrentDictionary<(string Method, int Status), Counter> _requests = new();
    private readonly ConcurrentDictionary<string, Counter> _authFailures = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Counter> _reloads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Profile, string Rule, string Decision), Counter> _policyDecisions = new();

    /// <summary>The label (and audit) name of an outcome.</summary>
    public static string OutcomeName(CallOutcome outcome) => s_outcomes[(int)outcome];

    public void RecordCall(string profile, string server, string method, string item, CallOutcome outcome, TimeSpan duration)
    {
        var key = new CallKey(profile, server, method, item);
        if (!_calls.TryGetValue(key, out var series))
        {
            series = _calls.GetOrAdd(key, static _ => new CallSeries());
        }

        series.Record(outcome, duration.TotalSeconds);
    }

    public void RecordRequest(string method, int status)
    {
        if (!_requests.TryGetValue((method, status), out var counter))
        {
            counter = _requests.GetOrAdd((method, status), static _ => new Counter());
        }

        counter.Increment();
    }

    public void RecordAuthFailure(string reason) => _authFailures.GetOrAdd(reason, static _ => new Counter()).Increment();

    /// <summary>A rule decided a call (rule names come from the config, so the series are bounded by it).</summary>
    public void RecordPolicyDecision(string profile, string rule, string decision)
        => _policyDecisions.GetOrAdd((profile, rule, decision), static _ => new Counter()).Increment();

    public void RecordReload(bool succeeded) => _reloads.GetOrAdd(succeeded ? "success" : "failure", static _ => new Counter()).Increment();

    /// <summary>Appends this registry's series to a Prometheus text exposition.</summary>
    public void Render(PrometheusWriter writer)
    {
        writer.Family("archestra_http_requests_total", "counter", "HTTP requests to the MCP endpoints, by method and status.");
        foreach (var (key, counter) in Sorted(_requests, static k => $"{k.Method} {k.Status:D3}"))
        {
            writer.Sample("archestra_http_requests_total", counter.Value, ("method", key.Method), ("status", key.Status.ToString(CultureInfo.InvariantCulture)));
        }

        writer.Family("archestra_calls_total", "counter", "Relayed requests (tools/call, prompts/get, resources/read, completion) by profile, server, method, item and outcome.");
        var calls = Sorted(_calls, static k => $"{k.Profile} {k.Server} {k.Method} {k.Item}");
        foreach (var (key, series) in calls)
        {
            for (var outcome = 0; outcome < s_outcomes.Length; outcome++)
            {
                var count = series.Outcome(outcome);
                if (count > 0)
                {
                    writer.Sample("archestra_calls_total", count, ("profile", key.Profile), ("server", key.Server), ("method", key.Method), ("item", key.Item), ("outcome", s_outcomes[outcome]));
                }
            }
        }

        writer.Family("archestra_call_duration_seconds", "histogram", "Time from a relayed request to its answer, by profile, server and method.");
        foreach (var group in Merge(calls))
        {
            writer.Histogram("archestra_call_duration_seconds", Buckets, group.Buckets, group.Sum, group.Count, ("profile", group.Profile), ("server", group.Server), ("method", group.Method));
        }

        writer.Family("archestra_auth_failures_total", "counter", "Requests refused for their credential: missing, invalid or forbidden.");
        foreach (var (reason, counter) in Sorted(_authFailures, static k => k))
        {
            writer.Sample("archestra_auth_failures_total", counter.Value, ("reason", reason));
        }

        writer.Family("archestra_policy_decisions_total", "counter", "Tool calls a policy rule decided, by profile, rule and decision (deny, allow, approved, declined, unapprovable).");
        foreach (var (key, counter) in Sorted(_policyDecisions, static k => $"{k.Profile} {k.Rule} {k.Decision}"))
        {
            writer.Sample("archestra_policy_decisions_total", counter.Value, ("profile", key.Profile), ("rule", key.Rule), ("decision", key.Decision));
        }

        writer.Family("archestra_config_reloads_total", "counter", "Configuration reloads by result.");
        foreach (var (result, counter) in Sorted(_reloads, static k => k))
        {
            writer.Sample("archestra_config_reloads_total", counter.Value, ("result", result));
        }
    }

    private static List<(TKey Key, TValue Value)> Sorted<TKey, TValue>(ConcurrentDictionary<TKey, TValue> source, Func<TKey, string> order)
        where TKey : notnull
    {
        var list = new List<(TKey, TValue)>();
        foreach (var pair in source)
        {
            list.Add((pair.Key, pair.Value));
        }

        list.Sort((a, b) => string.CompareOrdinal(order(a.Item1), order(b.Item1)));
        return list;
    }

    /// <summary>Histograms are kept per item but exposed per profile, server and method (bounded cardinality).</summary>
    private static List<HistogramGroup> Merge(List<(CallKey Key, CallSeries Series)> calls)
    {
        var groups = new Dictionary<(string, string, string), HistogramGroup>();
        var ordered = new List<HistogramGroup>();
        foreach (var (key, series) in calls)
        {
            if (!groups.TryGetValue((key.Profile, key.Server, key.Method), out var group))
            {
                group = new HistogramGroup(key.Profile, key.Server, key.Method);
                groups[(key.Profile, key.Server, key.Method)] = group;
                ordered.Add(group);
            }

            series.AddTo(group);
        }

        return ordered;
    }

    private readonly record struct CallKey(string Profile, string Server, string Method, string Item);

    internal sealed class Counter
    {
        private long _value;

        public long Value => Volatile.Read(ref _value);

        public void Increment() => Interlocked.Increment(ref _value);
    }

    private sealed class CallSeries
    {
        private readonly long[] _outcomes = new long[s_outcomes.Length];
        private readonly long[] _buckets = new long[Buckets.Length + 1];
        private long _sumMicroseconds;

        public long Outcome(int index) => Volatile.Read(ref _outcomes[index]);

        public void Record(CallOutcome outcome, double seconds)
        {
            Interlocked.Increment(ref _outcomes[(int)outcome]);
            var bucket = 0;
            while (bucket < Buckets.Length && seconds > Buckets[bucket])
            {
                bucket++;
            }

            Interlocked.Increment(ref _buckets[bucket]);
            Interlocked.Add(ref _sumMicroseconds, (long)(seconds * 1_000_000));
        }

        public void AddTo(HistogramGroup group)
        {
            for (var i = 0; i < _buckets.Length; i++)
            {
                var count = Volatile.Read(ref _buckets[i]);
                group.Buckets[i] += count;
                group.Count += count;
            }

            group.Sum += Volatile.Read(ref _sumMicroseconds) / 1_000_000.0;
        }
    }

    private sealed class HistogramGroup(string profile, string server, string method)
    {
        public string Profile { get; } = profile;

        public string Server { get; } = server;

        public string Method { get; } = method;

        public long[] Buckets { get; } = new long[GatewayMetrics.Buckets.Length + 1];

        public long Count { get; set; }

        public double Sum { get; set; }
    }
}

/// <summary>Writes the Prometheus text exposition format (version 0.0.4).</summary>
internal sealed class PrometheusWriter
{
    private readonly StringBuilder _text = new(4096);

    public void Family(string name, string type, string help)
        => _text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    public void Sample(string name, double value, params ReadOnlySpan<(string Name, string Value)> labels)
    {
        _text.Append(name);
        Labels(labels, default);
        _text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }

    public void Histogram(string name, double[] bounds, long[] buckets, double sum, long count, params ReadOnlySpan<(string Name, string Value)> labels)
    {
        long cumulative = 0;
        for (var i = 0; i <= bounds.Length; i++)
        {
            cumulative += buckets[i];
            _text.Append(name).Append("_bucket");
            Labels(labels, ("le", i < bounds.Length ? bounds[i].ToString("R", CultureInfo.InvariantCulture) : "+Inf"));
            _text.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        Sample(name + "_sum", sum, labels);
        Sample(name + "_count", count, labels);
    }

    public override string ToString() => _text.ToString();

    private void Labels(ReadOnlySpan<(string Name, string Value)> labels, (string Name, string Value) extra)
    {
        if (labels.IsEmpty && extra.Name is null)
        {
            return;
        }

        _text.Append('{');
        var first = true;
        foreach (var (label, value) in labels)
        {
            Label(label, value, ref first);
        }

        if (extra.Name is not null)
        {
            Label(extra.Name, extra.Value, ref first);
        }

        _text.Append('}');
    }

    private void Label(string name, string value, ref bool first)
    {
        if (!first)
        {
            _text.Append(',');
        }

        first = false;
        _text.Append(name).Append("=\"");
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => _text.Append("\\\\"),
                '"' => _text.Append("\\\""),
                '\n' => _text.Append("\\n"),
                _ => _text.Append(c),
            };
        }

        _text.Append('"');
    }
}
