using System.Buffers.Text;
using System.Text;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.Gateway.Sessions;

/// <summary>A JSON-RPC request id as a dictionary key: numbers without allocating, strings decoded.</summary>
internal readonly record struct RequestKey(long Number, string? Text)
{
    public static RequestKey From(ReadOnlySpan<byte> token, JsonRpcIdKind kind)
    {
        if (kind == JsonRpcIdKind.Number && Utf8Parser.TryParse(token, out long number, out var consumed) && consumed == token.Length)
        {
            return new RequestKey(number, null);
        }

        // Strings (and numbers that are not integers) keep their exact token text.
        return new RequestKey(0, Encoding.UTF8.GetString(token));
    }
}
