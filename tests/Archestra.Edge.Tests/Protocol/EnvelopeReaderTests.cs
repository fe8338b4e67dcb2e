using System.Text;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;

namespace Archestra.Edge.Tests.Protocol;

public sealed class EnvelopeReaderTests
{
    private const string ToolCall =
        """{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"github__search","arguments":{"q":"x","name":"inner"},"_meta":{"progressToken":"p-1"}}}""";

    [Fact]
    public void Request_RecordsIdMethodNameAndProgressToken()
    {
        var bytes = Encoding.UTF8.GetBytes(ToolCall);
        var envelope = EnvelopeReader.Read(bytes);

        Assert.Equal(JsonRpcMessageKind.Request, envelope.Kind);
        Assert.Equal(McpMethod.ToolsCall, envelope.Method);
        Assert.Equal(JsonRpcIdKind.Number, envelope.IdKind);
        Assert.Equal("42", Text(bytes, envelope.Id));
        Assert.Equal("\"github__search\"", Text(bytes, envelope.Name));
        Assert.Equal("\"p-1\"", Text(bytes, envelope.ProgressToken));
        Assert.StartsWith("{\"name\"", Text(bytes, envelope.Params), StringComparison.Ordinal);
        Assert.EndsWith("}}", Text(bytes, envelope.Params), StringComparison.Ordinal);
    }

    [Fact]
    public void NestedNameInArguments_IsNotMistakenForToolName()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"name":"inner"},"name":"outer"}}""");
        var envelope = EnvelopeReader.Read(bytes);
        Assert.Equal("\"outer\"", Text(bytes, envelope.Name));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(20)]
    [InlineData(45)]
    [InlineData(80)]
    [InlineData(120)]
    public void SplitBuffers_GiveTheSameRangesAsContiguous(int splitAt)
    {
        var bytes = Encoding.UTF8.GetBytes(ToolCall);
        var expected = EnvelopeReader.Read(bytes);

        var split = EnvelopeReader.Read(SegmentedSequence.SplitAt(bytes, splitAt));

        Assert.Equal(expected.Kind, split.Kind);
        Assert.Equal(expected.Method, split.Method);
        Assert.Equal(expected.Id, split.Id);
        Assert.Equal(expected.Name, split.Name);
        Assert.Equal(expected.ProgressToken, split.ProgressToken);
        Assert.Equal(expected.Params, split.Params);
    }

    [Fact]
    public void OneBytePerSegment_IsReadCompletely()
    {
        var bytes = Encoding.UTF8.GetBytes(ToolCall);
        var envelope = EnvelopeReader.Read(SegmentedSequence.PerByte(bytes));

        Assert.Equal(McpMethod.ToolsCall, envelope.Method);
        Assert.Equal("\"github__search\"", Text(bytes, envelope.Name));
        Assert.Equal("42", Text(bytes, envelope.Id));
    }

    [Fact]
    public void EscapedMethodName_IsRecognised()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":"a","method":"tools\/list"}""");
        var envelope = EnvelopeReader.Read(bytes);
        Assert.Equal(McpMethod.ToolsList, envelope.Method);
        Assert.Equal(JsonRpcIdKind.String, envelope.IdKind);
        Assert.Equal("\"a\"", Text(bytes, envelope.Id));
    }

    [Fact]
    public void ParamsBeforeMethod_StillRouted()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"params":{"name":"x"},"id":3,"method":"prompts/get","jsonrpc":"2.0"}""");
        var envelope = EnvelopeReader.Read(bytes);
        Assert.Equal(McpMethod.PromptsGet, envelope.Method);
        Assert.Equal("\"x\"", Text(bytes, envelope.Name));
    }

    [Fact]
    public void Notification_HasNoId()
    {
        var envelope = Read("""{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"user"}}""", out var bytes);
        Assert.Equal(JsonRpcMessageKind.Notification, envelope.Kind);
        Assert.Equal(McpMethod.NotificationsCancelled, envelope.Method);
        Assert.Equal("7", Text(bytes, envelope.RequestId));
    }

    [Fact]
    public void Response_AndErrorResponse_AreClassified()
    {
        var ok = Read("""{"jsonrpc":"2.0","id":"g-1","result":{"content":[]}}""", out var okBytes);
        Assert.Equal(JsonRpcMessageKind.Response, ok.Kind);
        Assert.Equal("{\"content\":[]}", Text(okBytes, ok.Result));

        var error = Read("""{"jsonrpc":"2.0","id":5,"error":{"code":-32601,"message":"nope"}}""", out _);
        Assert.Equal(JsonRpcMessageKind.ErrorResponse, error.Kind);
    }

    [Fact]
    public void UnknownMethod_IsKeptAsUnknown()
    {
        var envelope = Read("""{"jsonrpc":"2.0","id":1,"method":"vendor/thing"}""", out var bytes);
        Assert.Equal(JsonRpcMessageKind.Request, envelope.Kind);
        Assert.Equal(McpMethod.Unknown, envelope.Method);
        Assert.Equal("\"vendor/thing\"", Text(bytes, envelope.MethodName));
    }

    [Theory]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"", EnvelopeError.ParseError)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} trailing", EnvelopeError.ParseError)]
    [InlineData("not json", EnvelopeError.ParseError)]
    [InlineData("", EnvelopeError.ParseError)]
    [InlineData("\"a string\"", EnvelopeError.NotAnObject)]
    [InlineData("{\"id\":1,\"method\":\"ping\"}", EnvelopeError.MissingVersion)]
    [InlineData("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", EnvelopeError.MissingVersion)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", EnvelopeError.InvalidId)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", EnvelopeError.InvalidId)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", EnvelopeError.InvalidMethod)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1}", EnvelopeError.NoMethodOrResult)]
    public void Malformed_IsInvalidWithReason(string json, EnvelopeError expected)
    {
        var envelope = Read(json, out _);
        Assert.Equal(JsonRpcMessageKind.Invalid, envelope.Kind);
        Assert.Equal(expected, envelope.Error);
    }

    [Fact]
    public void Array_IsBatch()
    {
        var envelope = Read("""[{"jsonrpc":"2.0","id":1,"method":"ping"}]""", out _);
        Assert.Equal(JsonRpcMessageKind.Batch, envelope.Kind);
    }

    [Fact]
    public void NonStringName_IsFlagged()
    {
        var envelope = Read("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}""", out _);
        Assert.True(envelope.ParamsTypeMismatch);
        Assert.True(envelope.Name.IsEmpty);
    }

    [Fact]
    public void CompletionRef_IsRecorded()
    {
        var envelope = Read("""{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"a","value":"b"}}}""", out var bytes);
        Assert.Equal("\"p\"", Text(bytes, envelope.RefName));
        Assert.True(envelope.Name.IsEmpty, "argument.name must not be read as params.name");
    }

    [Fact]
    public void ProgressNotification_TokenAtTopOfParams()
    {
        var envelope = Read("""{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":12,"progress":1}}""", out var bytes);
        Assert.Equal("12", Text(bytes, envelope.ProgressToken));
    }

    private static JsonRpcEnvelope Read(string json, out byte[] bytes)
    {
        bytes = Encoding.UTF8.GetBytes(json);
        return EnvelopeReader.Read(bytes);
    }

    private static string Text(byte[] bytes, JsonRange range) => Encoding.UTF8.GetString(bytes, range.Start, range.Length);
}
