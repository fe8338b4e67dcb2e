using System.Text;
using Archestra.Edge.Gateway;
using Archestra.Edge.Gateway.Stateless;
using Archestra.Edge.Protocol.JsonRpc;
using Microsoft.AspNetCore.Http;

namespace Archestra.Edge.Tests.Gateway.Stateless;

/// <summary>Which requests are of the stateless era, and the order of its checks (the revision's codes).</summary>
public sealed class ModernEraCheckTests
{
    private const string Meta = "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}";

    private static (HttpRequest Request, JsonRpcEnvelope Envelope, byte[] Body) Make(string body, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        var bytes = Encoding.UTF8.GetBytes(body);
        return (context.Request, EnvelopeReader.Read(bytes), bytes);
    }

    [Fact]
    public void TheEra_IsChosenByTheHeader_OrBy_Meta_WhenThereIsNoSession()
    {
        var call = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{" + Meta + "}}";
        var (r1, e1, b1) = Make(call, ("MCP-Protocol-Version", "2026-07-28"));
        Assert.True(ModernEra.Claims(r1, e1, b1));
        var (r2, e2, b2) = Make(call);
        Assert.True(ModernEra.Claims(r2, e2, b2));
        var (r3, e3, b3) = Make(call, ("Mcp-Session-Id", "s"), ("MCP-Protocol-Version", "2025-11-25"));
        Assert.False(ModernEra.Claims(r3, e3, b3));
        var (r4, e4, b4) = Make("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", ("Mcp-Session-Id", "s"), ("MCP-Protocol-Version", "2025-11-25"));
        Assert.False(ModernEra.Claims(r4, e4, b4));
    }

    [Theory]
    [InlineData("{\"name\":\"echo\"}", "tools/call", "echo", "2026-07-28", "InvalidMeta")]
    [InlineData("{\"name\":\"echo\",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}", "tools/call", "echo", "2026-07-28", "InvalidMeta")]
    [InlineData("{\"name\":\"echo\",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":[]}}", "tools/call", "echo", "2026-07-28", "InvalidMeta")]
    [InlineData("{\"name\":\"echo\",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"v999\",\"io.modelcontextprotocol/clientCapabilities\":{}}}", "tools/call", "echo", "2026-07-28", "HeaderMismatch")]
    [InlineData("{\"name\":\"echo\"," + Meta + "}", "tools/call", "echo", "2025-11-25", "HeaderMismatch")]
    [InlineData("{\"name\":\"echo\"," + Meta + "}", "tools/list", "echo", "2026-07-28", "HeaderMismatch")]
    [InlineData("{\"name\":\"echo\"," + Meta + "}", "tools/call", "Echo", "2026-07-28", "HeaderMismatch")]
    [InlineData("{\"name\":\"caf\\u00e9\"," + Meta + "}", "tools/call", "=?base64?Y2Fmw6k=?=", "2026-07-28", "None")]
    [InlineData("{\"name\":\"echo\"," + Meta + "}", "tools/call", "echo", "2026-07-28", "None")]
    public void Checks_MetaFirst_ThenHeadersAgainstTheBody(string parameters, string methodHeader, string nameHeader, string versionHeader, string expected)
    {
        var (request, envelope, body) = Make("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":" + parameters + "}",
            ("MCP-Protocol-Version", versionHeader), ("Mcp-Method", methodHeader), ("Mcp-Name", nameHeader));
        Assert.Equal(expected, ModernEra.Check(request, envelope, body).Kind.ToString());
    }

    [Fact]
    public void ErrorsMapToTheRevisionsStatusesAndCodes()
    {
        Assert.Equal((400, -32020), GatewayErrors.Map(GatewayErrorKind.HeaderMismatch));
        Assert.Equal((400, -32602), GatewayErrors.Map(GatewayErrorKind.InvalidMeta));
        Assert.Equal((404, -32601), GatewayErrors.Map(GatewayErrorKind.ModernMethodNotFound));
        Assert.Equal((400, -32022), GatewayErrors.Map(GatewayErrorKind.UnsupportedProtocolVersion));
    }
}
