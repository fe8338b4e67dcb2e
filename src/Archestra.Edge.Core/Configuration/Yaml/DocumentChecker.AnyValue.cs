using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Archestra.Edge.Protocol.JsonRpc;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Archestra.Edge.Configuration.Yaml;

internal sealed partial class DocumentChecker
{
    /// <summary>
    /// Turns a free-form YAML value into JSON text with the YAML 1.2 core schema: plain <c>null</c>/<c>~</c>,
    /// <c>true</c>/<c>false</c> and numbers keep their type, everything quoted stays a string. Secret
    /// references inside strings are resolved like everywhere else.
    /// </summary>
    private bool TryConvertToJson(YamlNode node, string path, out string json)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JsonRpcWriter.RelaxedOptions.Encoder }))
        {
            if (!Write(writer, node, path))
            {
                json = string.Empty;
                return false;
            }
        }

        json = System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        return true;
    }

    private bool Write(Utf8JsonWriter writer, YamlNode node, string path)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                writer.WriteStartObject();
                foreach (var (key, value) in mapping.Children)
                {
                    if (!TryKey(key, path, out var name))
                    {
                        return false;
                    }

                    writer.WritePropertyName(name);
                    if (!Write(writer, value, Join(path, name)))
                    {
                        return false;
                    }
                }

                writer.WriteEndObject();
                return true;

            case YamlSequenceNode sequence:
                writer.WriteStartArray();
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    if (!Write(writer, sequence.Children[i], $"{path}[{i}]"))
                    {
                        return false;
                    }
                }

                writer.WriteEndArray();
                return true;

            case YamlScalarNode scalar:
                return WriteScalar(writer, scalar, path);

            default:
                _diagnostics.Add(node.Start, path, "unsupported YAML value");
                return false;
        }
    }

    private bool WriteScalar(Utf8JsonWriter writer, YamlScalarNode scalar, string path)
    {
        var value = scalar.Value ?? string.Empty;
        if (scalar.Style == ScalarStyle.Plain && scalar.Tag.IsEmpty)
        {
            if (IsNull(value))
            {
                writer.WriteNullValue();
                return true;
            }

            if (value is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
            {
                writer.WriteBooleanValue(value[0] is 't' or 'T');
                return true;
            }

            if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            {
                writer.WriteNumberValue(integer);
                return true;
            }

            if (LooksLikeFloat(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
            {
                writer.WriteNumberValue(number);
                return true;
            }
        }

        if (ReferenceResolver.MayContainReference(value))
        {
            if (!_references.TryResolve(value, out var resolved, out var error, out var hint))
            {
                _diagnostics.Add(scalar.Start, path, error!, hint);
                return false;
            }

            value = resolved!;
        }

        writer.WriteStringValue(value);
        return true;
    }

    private static bool LooksLikeFloat(string value)
    {
        // YAML 1.2 core floats: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
        var digits = false;
        foreach (var c in value)
        {
            if (char.IsAsciiDigit(c))
            {
                digits = true;
            }
            else if (c is not ('.' or 'e' or 'E' or '+' or '-'))
            {
                return false;
            }
        }

        return digits;
    }
}
