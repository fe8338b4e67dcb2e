using System.Text.Json;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.Configuration.Yaml;

/// <summary>
/// Writes a JSON Schema (draft 2020-12) of <c>archestra.yaml</c> from the same <see cref="ConfigShape"/> the loader
/// checks against, so editors flag exactly what <c>validate</c> would. Unknown keys are refused, as in the loader.
/// </summary>
internal static class SchemaWriter
{
    public static string Write()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JsonRpcWriter.RelaxedOptions.Encoder }))
        {
            writer.WriteStartObject();
            writer.WriteString("$schema", "https://json-schema.org/draft/2020-12/schema");
            writer.WriteString("$id", "https://archestra.ai/schemas/archestra-edge/archestra.schema.json");
            writer.WriteString("title", "archestra.yaml — Archestra Edge configuration");
            writer.WriteString("description", "Generated from the configuration records by `archestra-edge schema`; do not edit by hand.");
            WriteShape(writer, ConfigShape.Of(typeof(Documents.EdgeConfig)));
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    private static void WriteShape(Utf8JsonWriter writer, ConfigShape shape)
    {
        switch (shape.Kind)
        {
            case ShapeKind.String:
                writer.WriteString("type", "string");
                break;
            case ShapeKind.Integer:
                writer.WriteString("type", "integer");
                break;
            case ShapeKind.Boolean:
                writer.WriteString("type", "boolean");
                break;
            case ShapeKind.Any:
                writer.WriteString("description", "any value");
                break;
            case ShapeKind.Sequence:
                writer.WriteString("type", "array");
                writer.WriteStartObject("items");
                WriteShape(writer, shape.Item!);
                writer.WriteEndObject();
                break;
            case ShapeKind.Map:
                writer.WriteString("type", "object");
                writer.WriteStartObject("additionalProperties");
                WriteShape(writer, shape.Item!);
                writer.WriteEndObject();
                break;
            case ShapeKind.Object:
                writer.WriteString("type", "object");
                writer.WriteStartObject("properties");
                foreach (var (key, keyShape) in shape.Keys)
                {
                    writer.WriteStartObject(key);
                    WriteShape(writer, keyShape);
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
                writer.WriteBoolean("additionalProperties", false);
                break;
        }
    }
}
