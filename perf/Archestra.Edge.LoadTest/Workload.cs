using System.Buffers;
using System.Text;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.LoadTest;

/// <summary>What one operation of a scenario does, and how its answer is checked.</summary>
internal sealed class Workload
{
    private readonly LoadOptions _options;
    private readonly byte[] _echoSmallText;
    private readonly byte[] _echo64KText;
    private readonly byte[] _echoPrefix;

    public Workload(LoadOptions options)
    {
        _options = options;
        _echoSmallText = Encoding.UTF8.GetBytes("\"hello from the load generator\"");
        _echo64KText = Encoding.UTF8.GetBytes("\"" + new string('x', 64 * 1024) + "\"");
        _echoPrefix = Encoding.UTF8.GetBytes($"{{\"jsonrpc\":\"2.0\",\"id\":");
    }

    /// <summary>Runs one operation of the scenario on <paramref name="session"/>; throws <see cref="CallFailure"/> on a bad answer.</summary>
    public async Task RunOnceAsync(McpHttpSession session, Scenario scenario, Random random, HttpMessageInvoker http, CancellationToken cancellationToken)
    {
        switch (scenario)
        {
            case Scenario.Echo:
                await EchoAsync(session, _echoSmallText, cancellationToken).ConfigureAwait(false);
                break;
            case Scenario.Echo64K:
                await EchoAsync(session, _echo64KText, cancellationToken).ConfigureAwait(false);
                break;
            case Scenario.List:
                await ListAsync(session, cancellationToken).ConfigureAwait(false);
                break;
            case Scenario.Churn:
                var fresh = new McpHttpSession(http, _options.Url!, _options.Token, !_options.NoVerify, _options.Stateless);
                await fresh.InitializeAsync(cancellationToken).ConfigureAwait(false);
                await EchoAsync(fresh, _echoSmallText, cancellationToken).ConfigureAwait(false);
                await fresh.DeleteAsync(cancellationToken).ConfigureAwait(false);
                break;
            case Scenario.Mix:
                // Roughly an agent's traffic: mostly small calls, some listing, a few large payloads and reconnects.
                var roll = random.Next(100);
                var pick = roll < 80 ? Scenario.Echo : roll < 90 ? Scenario.List : roll < 95 ? Scenario.Echo64K : Scenario.Churn;
                await RunOnceAsync(session, pick, random, http, cancellationToken).ConfigureAwait(false);
                break;
            default:
                throw new InvalidOperationException($"{scenario} is not a per-call scenario");
        }
    }

    private async Task EchoAsync(McpHttpSession session, byte[] text, CancellationToken cancellationToken)
    {
        var id = session.NextId();
        var body = BuildCall(id, text, session.Stateless);
        using var answer = await session.SendAsync(body, id, cancellationToken, "tools/call", _options.Tool).ConfigureAwait(false);
        if (!_options.NoVerify && answer.Result.IndexOf(text) < 0)
        {
            throw new CallFailure("wrong-echo");
        }
    }

    private async Task ListAsync(McpHttpSession session, CancellationToken cancellationToken)
    {
        var id = session.NextId();
        var body = session.Stateless
            ? Encoding.UTF8.GetBytes($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/list\",\"params\":{{{Encoding.UTF8.GetString(McpHttpSession.ModernMeta[1..])}}}}}")
            : Encoding.UTF8.GetBytes($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/list\"}}");
        using var answer = await session.SendAsync(body, id, cancellationToken, "tools/list").ConfigureAwait(false);
        if (_options.ExpectTools > 0 && CountTools(answer.Result) != _options.ExpectTools)
        {
            throw new CallFailure("wrong-tool-count");
        }
    }

    private byte[] BuildCall(long id, byte[] text, bool stateless)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>(text.Length + 160);
        writer.Write(_echoPrefix);
        JsonRpcWriter.WriteLong(writer, id);
        writer.Write(",\"method\":\"tools/call\",\"params\":{\"name\":"u8);
        JsonRpcWriter.WriteString(writer, _options.Tool);
        writer.Write(",\"arguments\":{\"text\":"u8);
        writer.Write(text);
        writer.Write("}"u8);
        if (stateless)
        {
            writer.Write(McpHttpSession.ModernMeta);
        }

        writer.Write("}}"u8);
        return writer.WrittenSpan.ToArray();
    }

    private static int CountTools(ReadOnlySpan<byte> result)
    {
        var reader = new System.Text.Json.Utf8JsonReader(result);
        reader.Read();
        while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
        {
            var isTools = reader.ValueTextEquals("tools"u8);
            reader.Read();
            if (!isTools)
            {
                reader.Skip();
                continue;
            }

            var count = 0;
            while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.StartObject)
            {
                count++;
                reader.Skip();
            }

            return count;
        }

        return -1;
    }
}
