using System.Text;

namespace Archestra.Edge.Configuration.Yaml;

/// <summary>
/// Resolves secret references inside scalar values: <c>${env:NAME}</c>, <c>${env:NAME:-default}</c> and
/// <c>${file:/path}</c> (relative paths are from the config file's directory; one trailing newline is
/// dropped). <c>$${</c> writes a literal <c>${</c>. Secrets are never inlined in git, only referenced.
/// </summary>
internal sealed class ReferenceResolver
{
    private readonly Func<string, string?> _environment;
    private readonly string _baseDirectory;

    public ReferenceResolver(Func<string, string?> environment, string baseDirectory)
    {
        _environment = environment;
        _baseDirectory = baseDirectory;
    }

    /// <summary>Brackets a <c>${credential:name}</c> in resolved text (a character no config value can hold).</summary>
    public const char CredentialMarker = '\u0000';

    /// <summary>True if <paramref name="value"/> may contain a reference (cheap pre-check).</summary>
    public static bool MayContainReference(string value) => value.Contains("${", StringComparison.Ordinal);

    /// <summary>Resolves every reference in <paramref name="value"/>, or returns an error and a hint.</summary>
    public bool TryResolve(string value, out string resolved, out string? error, out string? hint)
    {
        error = null;
        hint = null;
        var output = new StringBuilder(value.Length);
        var i = 0;
        while (i < value.Length)
        {
            var start = value.IndexOf("${", i, StringComparison.Ordinal);
            if (start < 0)
            {
                output.Append(value, i, value.Length - i);
                break;
            }

            if (start > 0 && value[start - 1] == '$')
            {
                // "$${" is an escaped literal "${".
                output.Append(value, i, start - 1 - i).Append("${");
                i = start + 2;
                continue;
            }

            output.Append(value, i, start - i);
            var end = value.IndexOf('}', start + 2);
            if (end < 0)
            {
                resolved = value;
                error = $"unterminated reference starting at '{Excerpt(value, start)}'";
                hint = "references look like ${env:NAME}, ${env:NAME:-default} or ${file:/path}; write $${ for a literal ${";
                return false;
            }

            var body = value.AsSpan(start + 2, end - start - 2);
            if (!TryResolveOne(body, output, out error, out hint))
            {
                resolved = value;
                return false;
            }

            i = end + 1;
        }

        resolved = output.ToString();
        return true;
    }

    private bool TryResolveOne(ReadOnlySpan<char> body, StringBuilder output, out string? error, out string? hint)
    {
        error = null;
        hint = null;
        var colon = body.IndexOf(':');
        var kind = colon < 0 ? body : body[..colon];
        var argument = colon < 0 ? [] : body[(colon + 1)..];

        if (kind.SequenceEqual("env"))
        {
            var defaultAt = argument.IndexOf(":-", StringComparison.Ordinal);
            var name = (defaultAt < 0 ? argument : argument[..defaultAt]).ToString();
            if (!IsEnvironmentName(name))
            {
                error = $"'{name}' is not a valid environment variable name";
                hint = "names are letters, digits and '_', not starting with a digit";
                return false;
            }

            var value = _environment(name);
            if (value is null)
            {
                if (defaultAt < 0)
                {
                    error = $"environment variable '{name}' is not set";
                    hint = $"set {name}, or give a default: ${{env:{name}:-value}}";
                    return false;
                }

                value = argument[(defaultAt + 2)..].ToString();
            }

            output.Append(value);
            return true;
        }

        if (kind.SequenceEqual("file"))
        {
            var path = argument.ToString();
            if (path.Length == 0)
            {
                error = "a ${file:…} reference needs a path";
                return false;
            }

            var full = Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(_baseDirectory, path));
            try
            {
                var text = File.ReadAllText(full);
                if (text.EndsWith("\r\n", StringComparison.Ordinal))
                {
                    text = text[..^2];
                }
                else if (text.EndsWith('\n'))
                {
                    text = text[..^1];
                }

                output.Append(text);
                return true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                var reason = ex switch
                {
                    FileNotFoundException or DirectoryNotFoundException => "no such file",
                    UnauthorizedAccessException => "permission denied",
                    _ => ex.Message,
                };
                error = $"cannot read '{path}': {reason}";
                hint = "the file must exist and be readable by the gateway";
                return false;
            }
        }

        if (kind.SequenceEqual("credential"))
        {
            // Chosen per caller at call time: kept as a marker the config compiler turns into a template.
            var name = argument.ToString();
            if (name.Length == 0 || name.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '.')))
            {
                error = $"'{name}' is not a valid credential name";
                hint = "credentials are named in the credentials: section; use ${credential:name}";
                return false;
            }

            output.Append(CredentialMarker).Append(name).Append(CredentialMarker);
            return true;
        }

        error = $"unknown reference kind '{kind}'";
        hint = "supported references: ${env:NAME}, ${env:NAME:-default}, ${file:/path}, ${credential:name}";
        return false;
    }

    private static bool IsEnvironmentName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    private static string Excerpt(string value, int start)
        => value.Length - start > 24 ? string.Concat(value.AsSpan(start, 24), "…") : value[start..];
}
