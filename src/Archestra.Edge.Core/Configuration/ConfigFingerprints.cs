using System.Collections.Frozen;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace Archestra.Edge.Configuration;

/// <summary>
/// Canonical texts of the parts of a loaded file (mappings sorted by key, references already resolved), so a reload
/// can tell which servers and profiles changed. Formatting, comments and key order do not count as changes.
/// </summary>
internal static class ConfigFingerprints
{
    /// <summary>The top-level sections compared whole.</summary>
    private static readonly string[] s_sections = ["server", "storage", "limits", "teams", "users", "credentials", "auth", "observability"];

    public static FrozenDictionary<string, string> Of(YamlNode root)
    {
        var parts = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root is not YamlMappingNode top)
        {
            return parts.ToFrozenDictionary(StringComparer.Ordinal);
        }

        foreach (var section in s_sections)
        {
            if (top.Children.TryGetValue(new YamlScalarNode(section), out var node))
            {
                parts[section] = Canonical(node);
            }
        }

        foreach (var group in (string[])["servers", "profiles"])
        {
            if (top.Children.TryGetValue(new YamlScalarNode(group), out var node) && node is YamlMappingNode members)
            {
                foreach (var (key, value) in members.Children)
                {
                    var name = $"{group}/{((YamlScalarNode)key).Value}";
                    parts[name] = Canonical(value);
                    if (group == "profiles" && value is YamlMappingNode profile)
                    {
                        // Each list a profile assigns, and the rest of it: a reload tells clients only of the lists that changed.
                        var rest = new YamlMappingNode();
                        foreach (var (member, setting) in profile.Children)
                        {
                            if (member is YamlScalarNode { Value: "tools" or "prompts" or "resources" } list)
                            {
                                parts[$"{name}/{list.Value}"] = Canonical(setting);
                            }
                            else
                            {
                                rest.Children.Add(member, setting);
                            }
                        }

                        parts[$"{name}/rest"] = Canonical(rest);
                    }
                }
            }
        }

        return parts.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>
    /// The fingerprint of a whole file as written, for an operator to see a fleet converge after a change: FNV-1a 64 of
    /// its canonical text (formatting, comments and key order do not count) taken before references are resolved, so
    /// no secret's value feeds a value anyone can read. 16 hex digits.
    /// </summary>
    public static string Whole(YamlNode root) => Utilities.Fnv1a.Hash(Canonical(root).AsSpan()).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    internal static string Canonical(YamlNode node)
    {
        var text = new StringBuilder();
        Write(node, text);
        return text.ToString();
    }

    private static void Write(YamlNode node, StringBuilder text)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                var entries = new List<(string Key, YamlNode Value)>();
                foreach (var (key, value) in mapping.Children)
                {
                    entries.Add((key is YamlScalarNode scalarKey ? scalarKey.Value ?? string.Empty : Canonical(key), value));
                }

                entries.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
                text.Append('{');
                foreach (var (key, value) in entries)
                {
                    Quote(key, text);
                    text.Append(':');
                    Write(value, text);
                    text.Append(',');
                }

                text.Append('}');
                break;
            case YamlSequenceNode sequence:
                text.Append('[');
                foreach (var item in sequence.Children)
                {
                    Write(item, text);
                    text.Append(',');
                }

                text.Append(']');
                break;
            case YamlScalarNode scalar:
                Quote(scalar.Value ?? string.Empty, text);
                break;
        }
    }

    private static void Quote(string value, StringBuilder text)
        => text.Append('"').Append(value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
}
