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
    private readonly List<string> _cutPaths = [];
    private readonly List<ConfigDiagnostic> _warnings = [];

    public DiagnosticBag(string file)
    {
        _file = file;
    }

    public bool HasErrors => _items.Count > 0;

    public IReadOnlyList<ConfigDiagnostic> Items => _items;

    /// <summary>Remembers where the value at <paramref name="path"/> starts in the file.</summary>
    public void MarkPath(string path, Mark mark) => _marks.TryAdd(path, mark);

    /// <summary>Reports a structural error at an exact position; the value at <paramref name="path"/> is dropped.</summary>
    public void Add(Mark mark, string path, string message, string? hint = null)
    {
        _items.Add(new ConfigDiagnostic(_file, (int)mark.Line, (int)mark.Column, path, message, hint));
        _cutPaths.Add(path);
    }

    /// <summary>
    /// Reports a semantic error at the value found at <paramref name="path"/> (or its nearest ancestor) — unless
    /// a structural error inside that value already explains it (it would only be a consequence of the cut).
    /// </summary>
    public void Add(string path, string message, string? hint = null)
    {
        if (path.Length > 0 && ExplainedByCut(path))
        {
            return;
        }

        var mark = Find(path);
        _items.Add(new ConfigDiagnostic(_file, (int)mark.Line, (int)mark.Column, path, message, hint));
    }

    /// <summary>Reports what loads but most likely does not do what was meant, at the value found at <paramref name="path"/>.</summary>
    public void Warn(string path, string message, string? hint = null)
    {
        var mark = Find(path);
        _warnings.Add(new ConfigDiagnostic(_file, (int)mark.Line, (int)mark.Column, path, message, hint) { IsWarning = true });
    }

    /// <summary>The warnings, in file order.</summary>
    public IReadOnlyList<ConfigDiagnostic> Warnings()
    {
        var sorted = new List<ConfigDiagnostic>(_warnings);
        sorted.Sort(static (a, b) => a.Line != b.Line ? a.Line.CompareTo(b.Line) : a.Column.CompareTo(b.Column));
        return sorted;
    }

    /// <summary>Errors ordered by position in the file, so they read top to bottom.</summary>
    public IReadOnlyList<ConfigDiagnostic> Sorted()
    {
        var sorted = new List<ConfigDiagnostic>(_items);
        sorted.Sort(static (a, b) => a.Line != b.Line ? a.Line.CompareTo(b.Line) : a.Column.CompareTo(b.Column));
        return sorted;
    }

    private bool ExplainedByCut(string path)
    {
        foreach (var cut in _cutPaths)
        {
            if (cut.StartsWith(path, StringComparison.Ordinal)
                && (cut.Length == path.Length || cut[path.Length] is '.' or '['))
            {
                return true;
            }
        }

        return false;
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
