using System.Text;

namespace Archestra.Edge.Configuration;

/// <summary>One problem found in a config file, with where it is and how to fix it.</summary>
public sealed record ConfigDiagnostic(string File, int Line, int Column, string Path, string Message, string? Hint)
{
    /// <summary>Something that loads but most likely does not do what was meant: reported, never refused.</summary>
    public bool IsWarning { get; init; }

    /// <summary><c>file:line:col: error: message</c> (or <c>warning:</c>), then the hint on its own line.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(File).Append(':').Append(Line).Append(':').Append(Column).Append(IsWarning ? ": warning: " : ": error: ");
        if (Path.Length > 0)
        {
            text.Append(Path).Append(": ");
        }

        text.Append(Message);
        if (Hint is not null)
        {
            text.Append("\n    hint: ").Append(Hint);
        }

        return text.ToString();
    }
}
