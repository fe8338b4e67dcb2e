using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Archestra.Edge.Model;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.Gateway.Catalog;

/// <summary>
/// Re-renders an item the profile curates: its name, its description, and (tools with fixed arguments) an input
/// schema without the fixed properties, so callers neither see nor send them. Cold path: runs when a catalog is
/// built, never per call.
/// </summary>
internal static class CuratedItem
{
    public static void Write(PooledBufferWriter output, ServerListItem item, string exposedName, string? description, FixedArguments? fixedArguments)
    {
        if (JsonNode.Parse(item.Raw) is not JsonObject node)
        {
            output.Write(item.Raw);
            return;
        }

        node["name"] = exposedName;
        if (description is not null)
        {
            node["description"] = description;
        }

        if (fixedArguments is not null && node["inputSchema"] is JsonObject schema)
        {
            if (schema["properties"] is JsonObject properties)
            {
                foreach (var name in fixedArguments.Names)
                {
                    properties.Remove(name);
                }
            }

            if (schema["required"] is JsonArray required)
            {
                for (var i = required.Count - 1; i >= 0; i--)
                {
                    if (required[i] is JsonValue value && value.TryGetValue<string>(out var name) && fixedArguments.Names.Contains(name))
                    {
                        required.RemoveAt(i);
                    }
                }
            }
        }

        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JsonRpcWriter.RelaxedOptions.Encoder });
        node.WriteTo(writer);
    }
}
