namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>One SSE event as a client sees it: its id (if any) and its data.</summary>
internal sealed record SseTestEvent(string? Id, string Data, int? Retry);

/// <summary>Reads SSE events one at a time from a live response, so a test can stop (and drop the connection) mid-stream.</summary>
internal sealed class SseReader : IDisposable
{
    private readonly StreamReader _reader;

    public SseReader(Stream stream)
    {
        _reader = new StreamReader(stream);
    }

    /// <summary>The next event, or null when the stream ended.</summary>
    public async Task<SseTestEvent?> ReadAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        string? id = null;
        int? retry = null;
        var data = new List<string>();
        var any = false;
        while (await _reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (any)
                {
                    return new SseTestEvent(id, string.Join("\n", data), retry);
                }

                continue;
            }

            if (line.StartsWith(':'))
            {
                continue;
            }

            any = true;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? string.Empty : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id":
                    id = value;
                    break;
                case "data":
                    data.Add(value);
                    break;
                case "retry":
                    retry = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                    break;
            }
        }

        return any ? new SseTestEvent(id, string.Join("\n", data), retry) : null;
    }

    public void Dispose() => _reader.Dispose();
}
