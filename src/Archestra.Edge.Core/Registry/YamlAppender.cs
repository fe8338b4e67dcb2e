namespace Archestra.Edge.Registry;

/// <summary>
/// Adds an entry under the top-level <c>servers:</c> mapping of a YAML text, leaving every other line as it was:
/// after the last line that belongs to the section (comments that follow it stay where they are), indented like
/// its other entries. Without a <c>servers:</c> section one is appended. A section written in flow style
/// (<c>servers: { … }</c>) is refused: rewriting it would change the operator's formatting.
/// </summary>
internal static class YamlAppender
{
    public static (string? Text, string? Problem) AddServer(string text, string name, string block)
    {
        var newline = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            lines[i] = lines[i].TrimEnd('\r');
        }

        var header = -1;
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("servers:", StringComparison.Ordinal))
            {
                header = i;
                break;
            }
        }

        if (header < 0)
        {
            var appended = text.Length == 0 || text.EndsWith('\n') ? text : text + newline;
            return (appended + "servers:" + newline + Indent(block, "  ", newline), null);
        }

        var rest = lines[header]["servers:".Length..];
        var comment = rest.IndexOf('#', StringComparison.Ordinal);
        if ((comment < 0 ? rest : rest[..comment]).Trim().Length > 0)
        {
            return (null, "the servers: section is written in flow style ({ ... } on one line); add the entry by hand, or write the section as a block mapping");
        }

        // The section's lines: indented ones, blank ones and comments, up to the next top-level key.
        var indent = "  ";
        var last = header;
        for (var i = header + 1; i < lines.Length; i++)
        {
            var line = lines[i];
            var content = line.TrimStart();
            if (content.Length == 0 || (content.StartsWith('#') && line.Length != content.Length))
            {
                continue;
            }

            if (line.Length == content.Length)
            {
                break; // a top-level key (or a top-level comment): the section ended
            }

            if (last == header)
            {
                indent = line[..(line.Length - content.Length)];
            }

            if (line.Length - content.Length == indent.Length && KeyOf(content) == name)
            {
                return (null, $"there already is a server '{name}' (line {i + 1}); choose another name with --as");
            }

            last = i;
        }

        var result = new List<string>(lines.Length + 8);
        result.AddRange(lines[..(last + 1)]);
        result.AddRange(Indent(block, indent, "\n").TrimEnd('\n').Split('\n'));
        result.AddRange(lines[(last + 1)..]);
        return (string.Join(newline, result), null);
    }

    private static string KeyOf(string content)
    {
        var colon = content.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? string.Empty : content[..colon].Trim().Trim('"', '\'');
    }

    private static string Indent(string block, string indent, string newline)
    {
        var lines = block.TrimEnd('\n').Split('\n');
        return string.Join(newline, lines.Select(line => indent + line)) + newline;
    }
}
