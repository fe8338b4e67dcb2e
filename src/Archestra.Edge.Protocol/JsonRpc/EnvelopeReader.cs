using System.Buffers;
using System.Text.Json;
using Archestra.Edge.Protocol.Mcp;

namespace Archestra.Edge.Protocol.JsonRpc;

/// <summary>
/// Reads a JSON-RPC envelope with <see cref="Utf8JsonReader"/>: validates the whole message as JSON, and
/// records the byte ranges of the fields that routing needs. Params and results are skipped, never built.
/// </summary>
public static class EnvelopeReader
{
    private static readonly JsonReaderOptions s_options = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = 128,
    };

    /// <summary>Reads one message held in contiguous memory.</summary>
    public static JsonRpcEnvelope Read(ReadOnlySpan<byte> message)
    {
        var reader = new Utf8JsonReader(message, s_options);
        return ReadCore(ref reader);
    }

    /// <summary>Reads one message that may be split across buffer segments. Ranges are offsets from its start.</summary>
    public static JsonRpcEnvelope Read(in ReadOnlySequence<byte> message)
    {
        var reader = new Utf8JsonReader(message, s_options);
        return ReadCore(ref reader);
    }

    private static JsonRpcEnvelope ReadCore(ref Utf8JsonReader reader)
    {
        var envelope = default(JsonRpcEnvelope);
        try
        {
            if (!reader.Read())
            {
                return Fail(ref envelope, EnvelopeError.ParseError);
            }

            if (reader.TokenType == JsonTokenType.StartArray)
            {
                reader.Skip();
                EnsureEnd(ref reader);
                envelope.Kind = JsonRpcMessageKind.Batch;
                return envelope;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                EnsureEnd(ref reader);
                return Fail(ref envelope, EnvelopeError.NotAnObject);
            }

            var hasVersion = false;
            var hasMethod = false;
            var hasResult = false;
            var hasError = false;
            var badVersion = false;
            var badMethod = false;
            var seen = 0;

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("jsonrpc"u8))
                {
                    Mark(ref seen, 1 << 0, ref envelope);
                    reader.Read();
                    hasVersion = true;
                    badVersion = reader.TokenType != JsonTokenType.String || !reader.ValueTextEquals("2.0"u8);
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    Mark(ref seen, 1 << 1, ref envelope);
                    reader.Read();
                    ReadId(ref reader, ref envelope);
                }
                else if (reader.ValueTextEquals("method"u8))
                {
                    Mark(ref seen, 1 << 2, ref envelope);
                    reader.Read();
                    hasMethod = true;
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        envelope.MethodName = TokenRange(ref reader);
                        envelope.Method = ParseMethod(ref reader);
                    }
                    else
                    {
                        badMethod = true;
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("params"u8))
                {
                    Mark(ref seen, 1 << 3, ref envelope);
                    reader.Read();
                    ReadParams(ref reader, ref envelope);
                }
                else if (reader.ValueTextEquals("result"u8))
                {
                    Mark(ref seen, 1 << 4, ref envelope);
                    reader.Read();
                    hasResult = true;
                    envelope.Result = SkipValue(ref reader);
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    Mark(ref seen, 1 << 5, ref envelope);
                    reader.Read();
                    hasError = true;
                    envelope.ErrorObject = SkipValue(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            EnsureEnd(ref reader);

            if (envelope.DuplicateKey)
            {
                return Fail(ref envelope, EnvelopeError.DuplicateKey);
            }

            if (!hasVersion || badVersion)
            {
                return Fail(ref envelope, EnvelopeError.MissingVersion);
            }

            if (envelope.Error == EnvelopeError.InvalidId)
            {
                return Fail(ref envelope, EnvelopeError.InvalidId);
            }

            if (hasMethod)
            {
                if (badMethod)
                {
                    return Fail(ref envelope, EnvelopeError.InvalidMethod);
                }

                if (envelope.IdKind == JsonRpcIdKind.Null)
                {
                    return Fail(ref envelope, EnvelopeError.InvalidId);
                }

                envelope.Kind = envelope.IdKind == JsonRpcIdKind.None ? JsonRpcMessageKind.Notification : JsonRpcMessageKind.Request;
                return envelope;
            }

            if (hasError)
            {
                envelope.Kind = JsonRpcMessageKind.ErrorResponse;
                return envelope;
            }

            if (hasResult && envelope.IdKind is JsonRpcIdKind.Number or JsonRpcIdKind.String)
            {
                envelope.Kind = JsonRpcMessageKind.Response;
                return envelope;
            }

            return Fail(ref envelope, hasResult ? EnvelopeError.InvalidId : EnvelopeError.NoMethodOrResult);
        }
        catch (JsonException)
        {
            return Fail(ref envelope, EnvelopeError.ParseError);
        }
    }

    private static void EnsureEnd(ref Utf8JsonReader reader)
    {
        // Reading past the end validates that nothing but whitespace follows the top-level value.
        if (reader.Read())
        {
            throw new JsonException("Trailing data after the JSON-RPC message.");
        }
    }

    private static JsonRpcEnvelope Fail(ref JsonRpcEnvelope envelope, EnvelopeError error)
    {
        envelope.Kind = JsonRpcMessageKind.Invalid;
        envelope.Error = error;
        return envelope;
    }

    private static void ReadId(ref Utf8JsonReader reader, ref JsonRpcEnvelope envelope)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                envelope.IdKind = JsonRpcIdKind.Number;
                envelope.Id = TokenRange(ref reader);
                break;
            case JsonTokenType.String:
                envelope.IdKind = JsonRpcIdKind.String;
                envelope.Id = TokenRange(ref reader);
                break;
            case JsonTokenType.Null:
                envelope.IdKind = JsonRpcIdKind.Null;
                envelope.Id = TokenRange(ref reader);
                break;
            default:
                reader.Skip();
                envelope.Error = EnvelopeError.InvalidId;
                break;
        }
    }

    private static void ReadParams(ref Utf8JsonReader reader, ref JsonRpcEnvelope envelope)
    {
        var start = checked((int)reader.TokenStartIndex);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            envelope.Params = new JsonRange(start, checked((int)reader.BytesConsumed) - start);
            return;
        }

        var seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                Mark(ref seen, 1 << 0, ref envelope);
                reader.Read();
                envelope.Name = StringField(ref reader, ref envelope);
            }
            else if (reader.ValueTextEquals("uri"u8))
            {
                Mark(ref seen, 1 << 1, ref envelope);
                reader.Read();
                envelope.Uri = StringField(ref reader, ref envelope);
            }
            else if (reader.ValueTextEquals("arguments"u8))
            {
                Mark(ref seen, 1 << 2, ref envelope);
                reader.Read();
                envelope.Arguments = SkipValue(ref reader);
            }
            else if (reader.ValueTextEquals("cursor"u8))
            {
                Mark(ref seen, 1 << 3, ref envelope);
                reader.Read();
                envelope.Cursor = StringField(ref reader, ref envelope);
            }
            else if (reader.ValueTextEquals("level"u8))
            {
                Mark(ref seen, 1 << 4, ref envelope);
                reader.Read();
                envelope.Level = StringField(ref reader, ref envelope);
            }
            else if (reader.ValueTextEquals("protocolVersion"u8))
            {
                Mark(ref seen, 1 << 5, ref envelope);
                reader.Read();
                envelope.ProtocolVersion = StringField(ref reader, ref envelope);
            }
            else if (reader.ValueTextEquals("requestId"u8))
            {
                Mark(ref seen, 1 << 6, ref envelope);
                reader.Read();
                envelope.RequestId = IdLikeField(ref reader, ref envelope);
            }
            else if (reader.ValueTextEquals("progressToken"u8))
            {
                Mark(ref seen, 1 << 7, ref envelope);
                // notifications/progress carries the token at the top of params.
                reader.Read();
                envelope.ProgressToken = IdLikeField(ref reader, ref envelope);
            }
            else if (reader.ValueTextEquals("_meta"u8))
            {
                Mark(ref seen, 1 << 8, ref envelope);
                reader.Read();
                ReadMeta(ref reader, ref envelope);
            }
            else if (reader.ValueTextEquals("requestState"u8))
            {
                Mark(ref seen, 1 << 10, ref envelope);
                reader.Read();
                envelope.RequestState = StringField(ref reader, ref envelope);
            }
            else if (reader.ValueTextEquals("inputResponses"u8))
            {
                Mark(ref seen, 1 << 11, ref envelope);
                reader.Read();
                envelope.InputResponses = SkipValue(ref reader);
            }
            else if (reader.ValueTextEquals("ref"u8))
            {
                Mark(ref seen, 1 << 9, ref envelope);
                reader.Read();
                ReadRef(ref reader, ref envelope);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        envelope.Params = new JsonRange(start, checked((int)reader.BytesConsumed) - start);
    }

    private static void ReadMeta(ref Utf8JsonReader reader, ref JsonRpcEnvelope envelope)
    {
        var start = checked((int)reader.TokenStartIndex);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        var seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("progressToken"u8))
            {
                Mark(ref seen, 1, ref envelope);
                reader.Read();
                envelope.ProgressToken = IdLikeField(ref reader, ref envelope);
            }
            else if (reader.ValueTextEquals("io.modelcontextprotocol/protocolVersion"u8))
            {
                Mark(ref seen, 1 << 1, ref envelope);
                reader.Read();
                envelope.MetaProtocolVersion = StringField(ref reader, ref envelope);
            }
            else if (reader.ValueTextEquals("io.modelcontextprotocol/clientCapabilities"u8))
            {
                Mark(ref seen, 1 << 2, ref envelope);
                reader.Read();
                envelope.MetaClientCapabilities = SkipValue(ref reader);
            }
            else if (reader.ValueTextEquals("io.modelcontextprotocol/clientInfo"u8))
            {
                Mark(ref seen, 1 << 3, ref envelope);
                reader.Read();
                envelope.MetaClientInfo = SkipValue(ref reader);
            }
            else if (reader.ValueTextEquals("io.modelcontextprotocol/logLevel"u8))
            {
                Mark(ref seen, 1 << 4, ref envelope);
                reader.Read();
                envelope.MetaLogLevel = StringField(ref reader, ref envelope);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        envelope.Meta = new JsonRange(start, checked((int)reader.BytesConsumed) - start);
    }

    private static void ReadRef(ref Utf8JsonReader reader, ref JsonRpcEnvelope envelope)
    {
        var start = checked((int)reader.TokenStartIndex);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            envelope.ParamsTypeMismatch = true;
            return;
        }

        var seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                Mark(ref seen, 1, ref envelope);
                reader.Read();
                envelope.RefName = StringField(ref reader, ref envelope);
            }
            else if (reader.ValueTextEquals("uri"u8))
            {
                Mark(ref seen, 2, ref envelope);
                reader.Read();
                envelope.RefUri = StringField(ref reader, ref envelope);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        envelope.Ref = new JsonRange(start, checked((int)reader.BytesConsumed) - start);
    }

    private static void Mark(ref int seen, int bit, ref JsonRpcEnvelope envelope)
    {
        if ((seen & bit) != 0)
        {
            envelope.DuplicateKey = true;
        }

        seen |= bit;
    }

    private static JsonRange StringField(ref Utf8JsonReader reader, ref JsonRpcEnvelope envelope)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return TokenRange(ref reader);
        }

        envelope.ParamsTypeMismatch = true;
        reader.Skip();
        return default;
    }

    private static JsonRange IdLikeField(ref Utf8JsonReader reader, ref JsonRpcEnvelope envelope)
    {
        if (reader.TokenType is JsonTokenType.String or JsonTokenType.Number)
        {
            return TokenRange(ref reader);
        }

        envelope.ParamsTypeMismatch = true;
        reader.Skip();
        return default;
    }

    private static JsonRange TokenRange(ref Utf8JsonReader reader)
    {
        // For a primitive token, BytesConsumed is the position right after it (closing quote included).
        var start = checked((int)reader.TokenStartIndex);
        return new JsonRange(start, checked((int)reader.BytesConsumed) - start);
    }

    private static JsonRange SkipValue(ref Utf8JsonReader reader)
    {
        var start = checked((int)reader.TokenStartIndex);
        reader.Skip();
        return new JsonRange(start, checked((int)reader.BytesConsumed) - start);
    }

    private static McpMethod ParseMethod(ref Utf8JsonReader reader)
    {
        if (!reader.HasValueSequence && !reader.ValueIsEscaped)
        {
            return McpMethods.Parse(reader.ValueSpan);
        }

        // Rare: an escaped or segment-split method name. Unescape into a stack buffer.
        Span<byte> buffer = stackalloc byte[128];
        var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length > buffer.Length)
        {
            return McpMethod.Unknown;
        }

        try
        {
            var written = reader.CopyString(buffer);
            return McpMethods.Parse(buffer[..written]);
        }
        catch (InvalidOperationException)
        {
            return McpMethod.Unknown; // invalid UTF-8 or a lone surrogate escape: no method of ours (found by fuzzing)
        }
    }
}
