using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Archestra.Edge.Configuration.Yaml;

/// <summary>
/// Walks the YAML node tree against the config shape before deserializing: reports every unknown key and
/// every value of the wrong type, with its position, and resolves secret references in place. Records the
/// position of every value so later (semantic) checks can point at it. Offending entries are cut from the
/// tree, so deserialization and the semantic checks still run and report the rest of the file's errors.
/// </summary>
internal sealed partial class DocumentChecker
{
    private readonly DiagnosticBag _diagnostics;
    private readonly ReferenceResolver _references;

    public DocumentChecker(DiagnosticBag diagnostics, ReferenceResolver references)
    {
        _diagnostics = diagnostics;
        _references = references;
    }

    /// <summary>Checks the document; false when even the root is unusable.</summary>
    public bool Check(YamlNode root, ConfigShape shape) => Visit(root, shape, string.Empty);

    /// <summary>Checks one value; false when it is unusable and must be cut from its parent.</summary>
    private bool Visit(YamlNode node, ConfigShape shape, string path)
    {
        _diagnostics.MarkPath(path, node.Start);
        if (node is YamlScalarNode { Tag.IsEmpty: true, Style: YamlDotNet.Core.ScalarStyle.Plain } plainNull && IsNull(plainNull.Value))
        {
            return true; // `key:` or `key: ~` means "not set".
        }

        switch (shape.Kind)
        {
            case ShapeKind.String:
            case ShapeKind.Integer:
            case ShapeKind.Boolean:
                return VisitScalar(node, shape, path);
            case ShapeKind.Sequence:
                if (node is not YamlSequenceNode sequence)
                {
                    return WrongType(node, shape, path);
                }

                var badItems = new List<YamlNode>();
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    if (!Visit(sequence.Children[i], shape.Item!, $"{path}[{i}]"))
                    {
                        badItems.Add(sequence.Children[i]);
                    }
                }

                foreach (var item in badItems)
                {
                    sequence.Children.Remove(item);
                }

                return true;
            case ShapeKind.Map:
                if (node is not YamlMappingNode map)
                {
                    return WrongType(node, shape, path);
                }

                var badEntries = new List<YamlNode>();
                var converted = new List<(YamlNode Key, YamlNode Json)>();
                foreach (var (key, value) in map.Children)
                {
                    if (!TryKey(key, path, out var name))
                    {
                        badEntries.Add(key);
                    }
                    else if (shape.Item!.Kind == ShapeKind.Any)
                    {
                        // Free-form values become JSON text here, so the DTO holds them as strings.
                        _diagnostics.MarkPath(Join(path, name), value.Start);
                        if (TryConvertToJson(value, Join(path, name), out var json))
                        {
                            converted.Add((key, new YamlScalarNode(json) { Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted }));
                        }
                        else
                        {
                            badEntries.Add(key);
                        }
                    }
                    else if (!Visit(value, shape.Item!, Join(path, name)))
                    {
                        badEntries.Add(key);
                    }
                }

                foreach (var (key, json) in converted)
                {
                    map.Children[key] = json;
                }

                Cut(map, badEntries);
                return true;
            case ShapeKind.Object:
                if (node is not YamlMappingNode mapping)
                {
                    return WrongType(node, shape, path);
                }

                var badKeys = new List<YamlNode>();
                foreach (var (key, value) in mapping.Children)
                {
                    if (!TryKey(key, path, out var name))
                    {
                        badKeys.Add(key);
                        continue;
                    }

                    if (!shape.KeyLookup.TryGetValue(name, out var keyShape))
                    {
                        UnknownKey(key, name, shape, path);
                        badKeys.Add(key);
                        continue;
                    }

                    if (!Visit(value, keyShape, Join(path, name)))
                    {
                        badKeys.Add(key);
                    }
                }

                Cut(mapping, badKeys);
                return true;
            default:
                return true;
        }
    }

    private static void Cut(YamlMappingNode mapping, List<YamlNode> keys)
    {
        foreach (var key in keys)
        {
            mapping.Children.Remove(key);
        }
    }

    private bool VisitScalar(YamlNode node, ConfigShape shape, string path)
    {
        if (node is not YamlScalarNode scalar)
        {
            return WrongType(node, shape, path);
        }

        var value = scalar.Value ?? string.Empty;
        if (ReferenceResolver.MayContainReference(value))
        {
            if (!_references.TryResolve(value, out var resolved, out var error, out var hint))
            {
                _diagnostics.Add(node.Start, path, error!, hint);
                return false;
            }

            // Resolved values are plain data now: quote them so YAML never re-interprets them.
            scalar.Value = resolved;
            scalar.Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted;
            value = resolved;
        }

        switch (shape.Kind)
        {
            case ShapeKind.Integer when !int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _):
                _diagnostics.Add(node.Start, path, $"expected an integer, found '{value}'");
                return false;
            case ShapeKind.Boolean when value is not ("true" or "false"):
                _diagnostics.Add(node.Start, path, $"expected true or false, found '{value}'");
                return false;
            default:
                return true;
        }
    }

    private bool TryKey(YamlNode key, string path, out string name)
    {
        if (key is YamlScalarNode { Value: { } text })
        {
            name = text;
            return true;
        }

        _diagnostics.Add(key.Start, path, "keys must be plain strings");
        name = string.Empty;
        return false;
    }

    private void UnknownKey(YamlNode key, string name, ConfigShape shape, string path)
    {
        var valid = new List<string>(shape.Keys.Count);
        foreach (var pair in shape.Keys)
        {
            valid.Add(pair.Key);
        }

        var suggestion = Spelling.Closest(name, valid);
        var where = path.Length == 0 ? "at the top level" : $"in {path}";
        var hint = suggestion is not null
            ? $"did you mean '{suggestion}'? valid keys here: {string.Join(", ", valid)}"
            : $"valid keys here: {string.Join(", ", valid)}";
        _diagnostics.Add(key.Start, Join(path, name), $"unknown key '{name}' {where}", hint);
    }

    private bool WrongType(YamlNode node, ConfigShape shape, string path)
    {
        var found = node switch
        {
            YamlMappingNode => "a mapping",
            YamlSequenceNode => "a list",
            YamlScalarNode s => $"'{s.Value}'",
            _ => "something else",
        };
        _diagnostics.Add(node.Start, path, $"expected {shape.Describe()}, found {found}");
        return false;
    }

    private static bool IsNull(string? value) => value is null or "" or "~" or "null" or "Null" or "NULL";

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
