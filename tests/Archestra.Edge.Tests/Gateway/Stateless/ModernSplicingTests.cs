using System.Text;
using System.Text.Json.Nodes;
using Archestra.Edge.Gateway.Stateless;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Tests.Gateway.Stateless;

/// <summary>What the gateway splices into messages between the eras, byte for byte everywhere else.</summary>
public sealed class ModernSplicingTests
{
    [Theory]
    [InlineData("""{"content":[]}""", """{"resultType":"complete","content":[]}""")]
    [InlineData("""{}""", """{"resultType":"complete"}""")]
    [InlineData("""{ }""", """{"resultType":"complete" }""")]
    [InlineData("""{"a":1.50e3,"b":"\u00e9"}""", """{"resultType":"complete","a":1.50e3,"b":"\u00e9"}""")]
    public void Decorate_AddsTheMembers_AndKeepsEveryOtherByte(string result, string expected)
        => Assert.Equal(expected, Encoding.UTF8.GetString(ModernResults.Decorate(Encoding.UTF8.GetBytes(result), ModernResults.CompleteMember)));

    [Fact]
    public void ListMembers_CarryTheCachingHints()
    {
        var decorated = JsonNode.Parse(ModernResults.Decorate("{\"tools\":[]}"u8, ModernResults.ListMembers(5000, authenticated: true)))!;
        Assert.Equal("complete", decorated["resultType"]!.GetValue<string>());
        Assert.Equal(5000, decorated["ttlMs"]!.GetValue<int>());
        Assert.Equal("private", decorated["cacheScope"]!.GetValue<string>());
        Assert.Equal("public", JsonNode.Parse(ModernResults.Decorate("{}"u8, ModernResults.ListMembers(0, authenticated: false)))!["cacheScope"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"c"}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":7}}}""")]
    public void ModernMeta_IsSplicedIntoAnyRequestShape(string request)
    {
        var bytes = Encoding.UTF8.GetBytes(request);
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        var members = ModernMeta.For(sampling: true, elicitationForm: true, elicitationUrl: false, roots: false, "client", "1.0", "info");
        ModernMeta.Splice(bytes, EnvelopeReader.Read(bytes), members, output);

        var node = JsonNode.Parse(output.WrittenSpan)!;
        var meta = node["params"]!["_meta"]!;
        Assert.Equal("2026-07-28", meta["io.modelcontextprotocol/protocolVersion"]!.GetValue<string>());
        Assert.NotNull(meta["io.modelcontextprotocol/clientCapabilities"]!["sampling"]);
        Assert.NotNull(meta["io.modelcontextprotocol/clientCapabilities"]!["elicitation"]!["form"]);
        Assert.Equal("info", meta["io.modelcontextprotocol/logLevel"]!.GetValue<string>());
        Assert.Equal("client", meta["io.modelcontextprotocol/clientInfo"]!["name"]!.GetValue<string>());
        var envelope = EnvelopeReader.Read(output.WrittenSpan);
        Assert.True(envelope.IsValid);
        Assert.False(envelope.MetaProtocolVersion.IsEmpty);
        if (request.Contains("progressToken", StringComparison.Ordinal))
        {
            Assert.Equal(7, meta["progressToken"]!.GetValue<int>());
        }
    }

    [Theory]
    [InlineData("""{"a":1,"requestState":"s","b":2}""", """{"a":1,"b":2}""")]
    [InlineData("""{"a":1,"requestState":"s"}""", """{"a":1}""")]
    [InlineData("""{"requestState":"s"}""", """{}""")]
    [InlineData("""{ "a" : 1 , "requestState" : "s" }""", """{ "a" : 1  }""")]
    public void JsonMember_Removal_TakesTheMemberAndOneComma(string json, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var at = json.IndexOf("\"s\"", StringComparison.Ordinal);
        var rewriter = new MessageRewriter();
        rewriter.Replace(JsonMember.Removal(bytes, new JsonRange(at, 3)), default);
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        rewriter.WriteTo(bytes, output);
        Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData("""{"a":1,"requestState":"s","inputResponses":{"k":"v"}}""", """{"a":1}""")]
    [InlineData("""{"a":1,"inputResponses":{"k":"v"},"requestState":"s"}""", """{"a":1}""")]
    [InlineData("""{"requestState":"s","inputResponses":{"k":"v"},"a":1}""", """{"a":1}""")]
    [InlineData("""{"requestState":"s","a":1,"inputResponses":{"k":"v"}}""", """{"a":1}""")]
    [InlineData("""{"inputResponses":{"k":"v"},"a":1,"requestState":"s"}""", """{"a":1}""")]
    [InlineData("""{ "requestState" : "s" , "inputResponses" : {"k":"v"} }""", """{  }""")]
    public void JsonMember_Removal_OfTwoMembers_NeverLeavesAStrayComma(string json, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var state = json.IndexOf("\"s\"", StringComparison.Ordinal);
        var responses = json.IndexOf("{\"k\"", StringComparison.Ordinal);
        var (first, second) = JsonMember.Removal(bytes, new JsonRange(state, 3), new JsonRange(responses, 9));
        var rewriter = new MessageRewriter();
        rewriter.Replace(first, default);
        rewriter.Replace(second, default);
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        rewriter.WriteTo(bytes, output);
        Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void ResultScan_FindsInputRequired_AndTheStateToken()
    {
        var message = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"result":{"inputRequests":{"k":{"method":"roots/list"}},"resultType":"input_required","requestState":"abc"}}""");
        var envelope = EnvelopeReader.Read(message);
        var scan = ResultScan.Read(message, envelope.Result);
        Assert.True(scan.InputRequired);
        Assert.Equal("\"abc\"", Encoding.UTF8.GetString(scan.RequestState.Slice(message)));

        var complete = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"requestState"}],"resultType":"complete"}}""");
        var completeScan = ResultScan.Read(complete, EnvelopeReader.Read(complete).Result);
        Assert.True(completeScan.HasResultType);
        Assert.False(completeScan.InputRequired);
        Assert.True(completeScan.RequestState.IsEmpty);
    }

    [Fact]
    public void EnvelopeReader_FindsThe2026MetaFields_AndTheRetryMembers()
    {
        var message = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"t","inputResponses":{"k":{"action":"accept"}},"requestState":"st","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/logLevel":"debug","progressToken":1}}}""");
        var envelope = EnvelopeReader.Read(message);
        Assert.Equal("2026-07-28", Encoding.UTF8.GetString(envelope.MetaProtocolVersion.StringContent(message)));
        Assert.Equal("""{"sampling":{}}""", Encoding.UTF8.GetString(envelope.MetaClientCapabilities.Slice(message)));
        Assert.Equal("\"debug\"", Encoding.UTF8.GetString(envelope.MetaLogLevel.Slice(message)));
        Assert.Equal("\"st\"", Encoding.UTF8.GetString(envelope.RequestState.Slice(message)));
        Assert.Equal("""{"k":{"action":"accept"}}""", Encoding.UTF8.GetString(envelope.InputResponses.Slice(message)));
        Assert.StartsWith("{\"io.modelcontextprotocol/protocolVersion\"", Encoding.UTF8.GetString(envelope.Meta.Slice(message)), StringComparison.Ordinal);

        var twice = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","requestState":"a","requestState":"b"}}""");
        Assert.True(EnvelopeReader.Read(twice).DuplicateKey);
    }
}
