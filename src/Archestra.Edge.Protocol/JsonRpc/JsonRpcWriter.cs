using System.Buffers;
using System.Text.Json;

namespace Archestra.Edge.Protocol.JsonRpc;

/// <summary>Writes the JSON-RPC frames the gateway originates: results it computed and errors it raises.</summary>
public static class JsonRpcWriter
{
    /// <summary>
    /// Writer options for JSON the gateway produces: minimal escaping (quotes and control characters only), so
    /// text content stays readable. Safe for JSON; the output is never embedded in HTML.
    /// </summary>
    public static readonly JsonWriterOptions RelaxedOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    private static readonly JsonWriterOptions s_stringOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private static ReadOnlySpan<byte> ResultPrefix => "{\"jsonrpc\":\"2.0\",\"id\":"u8;
    private static ReadOnlySpan<byte> ResultInfix => ",\"result\":"u8;
    private static ReadOnlySpan<byte> NullId => "null"u8;

    /// <summary>Writes <c>{"jsonrpc":"2.0","id":ID,"result":RESULT}</c> with both parts given as raw JSON.</summary>
    public static void WriteResult(IBufferWriter<byte> output, ReadOnlySpan<byte> rawId, ReadOnlySpan<byte> rawResult)
    {
        output.Write(ResultPrefix);
        output.Write(rawId.IsEmpty ? NullId : rawId);
        output.Write(ResultInfix);
        output.Write(rawResult);
        output.Write("}"u8);
    }

    /// <summary>The exact length <see cref="WriteResult"/> writes (for Content-Length).</summary>
    public static int ResultLength(int rawIdLength, int rawResultLength)
        => ResultPrefix.Length + (rawIdLength == 0 ? NullId.Length : rawIdLength) + ResultInfix.Length + rawResultLength + 1;

    /// <summary>Writes an error response. <paramref name="rawId"/> empty means <c>null</c> (the id could not be read).</summary>
    public static void WriteError(IBufferWriter<byte> output, ReadOnlySpan<byte> rawId, int code, string message, ReadOnlySpan<byte> rawData = default)
    {
        output.Write(ResultPrefix);
        output.Write(rawId.IsEmpty ? NullId : rawId);
        output.Write(",\"error\":{\"code\":"u8);
        WriteInt(output, code);
        output.Write(",\"message\":"u8);
        WriteString(output, message);
        if (!rawData.IsEmpty)
        {
            output.Write(",\"data\":"u8);
            output.Write(rawData);
        }

        output.Write("}}"u8);
    }

    /// <summary>Writes a notification whose params are raw JSON (or absent).</summary>
    public static void WriteNotification(IBufferWriter<byte> output, ReadOnlySpan<byte> method, ReadOnlySpan<byte> rawParams)
    {
        output.Write("{\"jsonrpc\":\"2.0\",\"method\":\""u8);
        output.Write(method);
        output.Write("\""u8);
        if (!rawParams.IsEmpty)
        {
            output.Write(",\"params\":"u8);
            output.Write(rawParams);
        }

        output.Write("}"u8);
    }

    /// <summary>A notification whose params are raw JSON (or absent), as a new array (for messages queued to many sessions).</summary>
    public static byte[] Notification(ReadOnlySpan<byte> method, ReadOnlySpan<byte> rawParams = default)
    {
        var output = new ArrayBufferWriter<byte>(32 + method.Length + rawParams.Length);
        WriteNotification(output, method, rawParams);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Writes <c>notifications/cancelled</c> for the request <paramref name="requestId"/> (the gateway's own id
    /// towards an upstream), with a reason.
    /// </summary>
    public static void WriteCancelled(IBufferWriter<byte> output, long requestId, ReadOnlySpan<char> reason)
    {
        output.Write("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":"u8);
        WriteLong(output, requestId);
        output.Write(",\"reason\":"u8);
        WriteString(output, reason);
        output.Write("}}"u8);
    }

    /// <summary>Writes a request with a numeric id and raw params.</summary>
    public static void WriteRequest(IBufferWriter<byte> output, long id, ReadOnlySpan<byte> method, ReadOnlySpan<byte> rawParams)
    {
        output.Write("{\"jsonrpc\":\"2.0\",\"id\":"u8);
        WriteLong(output, id);
        output.Write(",\"method\":\""u8);
        output.Write(method);
        output.Write("\""u8);
        if (!rawParams.IsEmpty)
        {
            output.Write(",\"params\":"u8);
            output.Write(rawParams);
        }

        output.Write("}"u8);
    }

    /// <summary>Writes a JSON string token (quoted and escaped).</summary>
    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<char> value)
    {
        using var writer = new Utf8JsonWriter(output, s_stringOptions);
        writer.WriteStringValue(value);
    }

    /// <summary>A JSON string token (quoted and escaped) as a new array.</summary>
    public static byte[] StringToken(ReadOnlySpan<char> value)
    {
        var buffer = new ArrayBufferWriter<byte>(value.Length + 8);
        WriteString(buffer, value);
        return buffer.WrittenSpan.ToArray();
    }

    public static void WriteInt(IBufferWriter<byte> output, int value) => WriteLong(output, value);

    public static void WriteLong(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(20);
        value.TryFormat(span, out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
        output.Advance(written);
    }
}
