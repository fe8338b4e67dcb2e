namespace Archestra.Edge.Configuration;

/// <summary>Thrown when a configuration cannot be loaded; carries every diagnostic found.</summary>
public sealed class ConfigLoadException : Exception
{
    public ConfigLoadException(IReadOnlyList<ConfigDiagnostic> diagnostics)
        : base(string.Join(Environment.NewLine, diagnostics))
    {
        Diagnostics = diagnostics;
    }

    public ConfigLoadException()
        : this([])
    {
    }

    public ConfigLoadException(string message)
        : base(message)
    {
        Diagnostics = [];
    }

    public ConfigLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
        Diagnostics = [];
    }

    public IReadOnlyList<ConfigDiagnostic> Diagnostics { get; }
}
