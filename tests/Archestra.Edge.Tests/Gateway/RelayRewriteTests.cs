using System.Buffers;
using System.Text;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Gateway.Relay;
using Archestra.Edge.Model;

namespace Archestra.Edge.Tests.Gateway;

/// <summary>What the relay changes in messages: fixed arguments in, prefixed URIs out.</summary>
public sealed class RelayRewriteTests
{
    private static readonly FixedArguments s_fixed = new(["owner", "dry_run"], "\"owner\":\"acme\",\"dry_run\":true"u8.ToArray());

    [Theory]
    [InlineData("""{"title":"x"}""", """{"owner":"acme","dry_run":true,"title":"x"}""")]
    [InlineData("""{"owner":"evil","title":"x","dry_run":false}""", """{"owner":"acme","dry_run":true,"title":"x"}""")]
    [InlineData("""{ "a" : [1,{"owner":2}] , "b":null }""", """{"owner":"acme","dry_run":true,"a" : [1,{"owner":2}],"b":null}""")]
    [InlineData("""{}""", """{"owner":"acme","dry_run":true}""")]
    [InlineData("null", """{"owner":"acme","dry_run":true}""")]
    [InlineData("", """{"owner":"acme","dry_run":true}""")]
    public void FixedArguments_AreInjected_AndCallerValuesForThemDropped(string caller, string expected)
    {
        var output = new ArrayBufferWriter<byte>();
        FixedArgumentWriter.Write(output, s_fixed, Encoding.UTF8.GetBytes(caller));
        Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void FixedArguments_EscapedCallerNames_AreRecognised()
    {
        var output = new ArrayBufferWriter<byte>();
        FixedArgumentWriter.Write(output, s_fixed, """{"\u006fwner":"evil"}"""u8);
        Assert.Equal("""{"owner":"acme","dry_run":true}""", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData("[1]", false)]
    [InlineData("\"s\"", false)]
    [InlineData("{}", true)]
    [InlineData("null", true)]
    public void FixedArguments_NeedAnObject(string arguments, bool accepted)
        => Assert.Equal(accepted, FixedArgumentWriter.Accepts(Encoding.UTF8.GetBytes(arguments)));

    [Fact]
    public void ReadResult_UrisOfEveryContent_GetThePrefix()
    {
        var output = new ArrayBufferWriter<byte>();
        ResourceUris.WriteResultWithPrefixedUris(
            """{"contents":[{"uri":"file:///a","text":"uri: \"x\""},{"blob":"AA==","uri":"file:///b"}],"_meta":{"uri":"keep"}}"""u8, "fs", output);
        Assert.Equal("""{"contents":[{"uri":"fs+file:///a","text":"uri: \"x\""},{"blob":"AA==","uri":"fs+file:///b"}],"_meta":{"uri":"keep"}}""",
            Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData("fs+file:///a", true, "fs", "file:///a")]
    [InlineData("everything+test://static/resource/1", true, "everything", "test://static/resource/1")]
    [InlineData("file:///a+b", false, "", "file:///a+b")]
    [InlineData("+x", false, "", "+x")]
    public void PrefixedUris_SplitAtTheFirstPlusBeforeAnyColon(string exposed, bool split, string server, string uri)
    {
        Assert.Equal(split, ResourceUris.TrySplit(exposed, out var s, out var u));
        Assert.Equal(server, s);
        Assert.Equal(uri, u);
    }
}
