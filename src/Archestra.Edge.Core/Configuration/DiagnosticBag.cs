using YamlDotNet.Core;

namespace Archestra.Edge.Configuration;

/// <summary>
/// Collects diagnostics during loading. Checks never stop at the first problem: every error in the file is
/// reported in one run. Positions come from the YAML source map, found by config path.
/// </summary>
internal sealed class DiagnosticBag
{
    private readonly List<ConfigDiagnostic> _items = [];
    private readonly string _file;
    private readonly Dictionary<string, Mark> _marks = new(StringComparer.Ordinal);

    public DiagnosticBag(string file)
    {
        _file = file;
    }

    public bool HasErrors => _items.Count > 0;

    public IReadOnlyList<ConfigDiagnostic> Items => _items;

    /// <summary>Remembers where the value at <paramref name="path"/> starts in the file.</summary>
    public void MarkPath(string path, Mark mark) => _marks.TryAdd(path, mark);

    /// <summary>Reports an error at an exact position.</summary>
    public void Add(Mark mark, string path, string message, string? hint = null)
        => _items.Add(new ConfigDiagnostic(_file, (int)mark.Line, (int)mark.Column, path, message, hint));

    /// <summary>Reports an error at the value found at <paramref name="path"/> (or its nearest ancestor).</summary>
    public void Add(string path, string message, string? hint = null)
    {
        var mark = Find(path);
        _items.Add(new ConfigDiagnostic(_file, (int)mark.Line, (int)mark.Column, path, message, hint));
    }

    /// <summary>Errors ordered by position in the file, so they read top to bottom.</summary>
    public IReadOnlyList<ConfigDiagnostic> Sorted()
    {
        var sorted = new List<ConfigDiagnostic>(_items);
        sorted.Sort(static (a, b) => a.Line != b.Line ? a.Line.CompareTo(b.Line) : a.Column.CompareTo(b.Column));
        return sorted;
    }

    private Mark Find(string path)
    {
        var current = path;
        while (true)
        {
            if (_marks.TryGetValue(current, out var mark))
            {
                return mark;
            }

            var cut = Math.Max(current.LastIndexOf('.'), current.LastIndexOf('['));
            if (cut <= 0)
            {
                return _marks.TryGetValue(string.Empty, out var root) ? root : new Mark(0, 1, 1);
            }

            current = current[..cut];
        }
    }
}
