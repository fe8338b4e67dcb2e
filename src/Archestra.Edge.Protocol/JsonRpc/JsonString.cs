using System.Text.Json;

namespace Archestra.Edge.Protocol.JsonRpc;

/// <summary>The value of a JSON string token (quotes included, escapes resolved): for the few places that need a name as text.</summary>
public static class JsonString
{
    public static string Decode(ReadOnlySpan<byte> token)
    {
        var reader = new Utf8JsonReader(token);
        reader.Read();
        return reader.GetString() ?? string.Empty;
    }
}
