using System.Text.Json;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.Gateway.Stateless;

/// <summary>
/// The top-level members of a 2026-07-28 result that the gateway acts on: <c>resultType</c> (is it an
/// <c>InputRequiredResult</c>?) and its <c>requestState</c>. One reader pass over the result of a 2026-07-28 server;
/// results of 2025 servers are never scanned.
/// </summary>
internal readonly record struct ResultScan(bool HasResultType, bool InputRequired, JsonRange RequestState, int AfterResultType)
{
    public static ResultScan Read(ReadOnlySpan<byte> message, JsonRange result)
    {
        if (result.IsEmpty || message[result.Start] != (byte)'{')
        {
            return default;
        }

        var reader = new Utf8JsonReader(result.Slice(message));
        reader.Read();
        bool hasType = false, inputRequired = false;
        JsonRange state = default;
        var afterType = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("resultType"u8))
            {
                reader.Read();
                hasType = true;
                inputRequired = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("input_required"u8);
                afterType = result.Start + checked((int)reader.BytesConsumed);
            }
            else if (reader.ValueTextEquals("requestState"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    state = new JsonRange(result.Start + checked((int)reader.TokenStartIndex), checked((int)(reader.BytesConsumed - reader.TokenStartIndex)));
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new ResultScan(hasType, inputRequired, state, afterType);
    }
}
