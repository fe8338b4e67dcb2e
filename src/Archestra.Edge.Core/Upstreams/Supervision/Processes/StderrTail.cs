namespace Archestra.Edge.Upstreams.Supervision.Processes;

/// <summary>The last lines a process wrote to stderr, shown in start-up failures and status.</summary>
internal sealed class StderrTail
{
    private readonly string[] _lines;
    private readonly Lock _lock = new();
    private int _next;
    private int _count;

    public StderrTail(int capacity = 20)
    {
        _lines = new string[capacity];
    }

    public void Add(string line)
    {
        lock (_lock)
        {
            _lines[_next] = line.Length > 500 ? line[..500] + "…" : line;
            _next = (_next + 1) % _lines.Length;
            _count = Math.Min(_count + 1, _lines.Length);
        }
    }

    public IReadOnlyList<string> Lines()
    {
        lock (_lock)
        {
            var result = new string[_count];
            for (var i = 0; i < _count; i++)
            {
                result[i] = _lines[(_next - _count + i + _lines.Length) % _lines.Length];
            }

            return result;
        }
    }

    /// <summary>" (stderr: …last lines…)" or an empty string.</summary>
    public string Describe(int lines = 5)
    {
        var all = Lines();
        if (all.Count == 0)
        {
            return string.Empty;
        }

        var take = all.Skip(Math.Max(0, all.Count - lines));
        return $"; stderr: {string.Join(" | ", take)}";
    }
}
