using System.Buffers;
using System.Text;
using Archestra.Edge.Configuration;
using Archestra.Edge.Identity.Jwt;
using Archestra.Edge.Protocol.Framing;
using Archestra.Edge.Protocol.JsonRpc;
using CsCheck;

namespace Archestra.Edge.Tests.Fuzzing;

/// <summary>
/// Property-based fuzzing (CsCheck) of every parser that sees untrusted bytes: the JSON-RPC envelope reader, the SSE
/// parser, stdio line framing, JWT/JWK reading and YAML loading. Each property holds for random and mutated inputs:
/// no exception escapes but the documented one, and splitting the input differently never changes the result.
/// CI runs a short pass; <c>CsCheck_Iter=200000 ./build.sh unit --filter Fuzzing</c> (perf/FUZZING.md) is the long one.
/// </summary>
public sealed class ParserFuzzTests
{
    private static readonly string[] s_fragments =
    [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u0000", "\\ud800", "null", "true", "1e999", "-0", "12345678901234567890",
        "\"jsonrpc\"", "\"2.0\"", "\"id\"", "\"method\"", "\"params\"", "\"name\"", "\"uri\"", "\"arguments\"", "\"_meta\"",
        "\"progressToken\"", "\"tools/call\"", "\"result\"", "\"error\"", "\"ref\"", "\"cursor\"", " ", "\n", "\r", "\u00e9", "\uffff",
    ];

    // Byte strings built from JSON-RPC fragments reach far deeper into the reader than uniform random bytes.
    private static readonly Gen<byte[]> s_jsonish = Gen.OneOf(
        Gen.Byte.Array[0, 512],
        Gen.Int[0, s_fragments.Length - 1].Array[0, 80].Select(ix => Encoding.UTF8.GetBytes(string.Concat(ix.Select(i => s_fragments[i])))),
        Gen.Const(Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"a__b","arguments":{"x":[1,{"y":"z"}]},"_meta":{"progressToken":"p"}}}"""))
            .SelectMany(seed => Gen.Int[0, seed.Length].Array[1, 6].Select(cuts => Mutate(seed, cuts))));

    [Fact]
    public void EnvelopeReader_NeverThrows_AndAgreesOnSplitInput() =>
        Gen.Select(s_jsonish, Gen.Int[0, 600]).Sample((bytes, cut) =>
        {
            var whole = EnvelopeReader.Read(bytes);
            var split = EnvelopeReader.Read(Split(bytes, Math.Min(cut, bytes.Length)));
            return whole.Kind == split.Kind && whole.Error == split.Error && whole.Method == split.Method
                && whole.Name.Equals(split.Name) && whole.Id.Equals(split.Id) && whole.DuplicateKey == split.DuplicateKey;
        }, iter: 4000);

    [Fact]
    public void EnvelopeReader_RangesStayInsideTheMessage() =>
        s_jsonish.Sample(bytes =>
        {
            var envelope = EnvelopeReader.Read(bytes);
            foreach (var range in new[] { envelope.Id, envelope.Name, envelope.Uri, envelope.Params, envelope.Arguments, envelope.ProgressToken, envelope.Result, envelope.ErrorObject })
            {
                if (!range.IsEmpty && (range.Start < 0 || range.Start + range.Length > bytes.Length))
                {
                    return false;
                }
            }

            return true;
        }, iter: 4000);

    [Fact]
    public void SseParser_OnlyThrowsItsBound_AndReadsTheSameEventsHoweverSplit() =>
        Gen.Select(Gen.OneOf(Gen.Byte.Array[0, 400], Gen.Int[0, 6].Array[0, 200].Select(ToSse)), Gen.Int[1, 64]).Sample((bytes, chunk) =>
        {
            var whole = Events(bytes, bytes.Length == 0 ? 1 : bytes.Length);
            var pieces = Events(bytes, chunk);
            return whole.SequenceEqual(pieces);
        }, iter: 3000);

    [Fact]
    public void LineFraming_FindsTheSameLinesHoweverSplit() =>
        Gen.Select(Gen.Byte[0, 20].Select(b => b < 3 ? (byte)'\n' : b).Array[0, 300], Gen.Int[1, 40]).Sample((bytes, chunk) =>
        {
            var expected = new List<string>();
            var start = 0;
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == '\n')
                {
                    var line = bytes.AsSpan(start, i - start);
                    expected.Add(Convert.ToHexString(line.EndsWith("\r"u8) ? line[..^1] : line));
                    start = i + 1;
                }
            }

            var found = new List<string>();
            var pending = Array.Empty<byte>();
            long scanned = 0;
            for (var offset = 0; offset < bytes.Length; offset += chunk)
            {
                pending = [.. pending, .. bytes.AsSpan(offset, Math.Min(chunk, bytes.Length - offset))];
                var buffer = new ReadOnlySequence<byte>(pending);
                while (LineFraming.TryReadLine(ref buffer, ref scanned, out var line))
                {
                    found.Add(Convert.ToHexString(line.ToArray()));
                }

                pending = buffer.ToArray();
            }

            return expected.SequenceEqual(found);
        }, iter: 3000);

    [Fact]
    public void JwtReading_NeverThrows() =>
        Gen.OneOf(
            Gen.String[Gen.Char["ABCabc0129-_.=+/{}\":"], 0, 200],
            Gen.Select(Gen.Byte.Array[0, 120], Gen.Byte.Array[0, 200], Gen.Byte.Array[0, 80])
                .Select((h, p, s) => $"{System.Buffers.Text.Base64Url.EncodeToString(h)}.{System.Buffers.Text.Base64Url.EncodeToString(p)}.{System.Buffers.Text.Base64Url.EncodeToString(s)}"),
            Gen.Int[0, s_fragments.Length - 1].Array[0, 40].Select(ix => string.Concat(ix.Select(i => s_fragments[i])))
                .Select(json => $"eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.{System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json))}.AAAA"))
        .Sample(token =>
        {
            using var key = JsonWebKey.ForEc("k1", System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256));
            JsonWebToken.TryReadHeader(token, out _, out _);
            JsonWebToken.Validate(token, key, ["ES256"], "https://gw", _ => true, DateTimeOffset.UtcNow, out _);
        }, iter: 1500);

    [Fact]
    public void JwksReading_NeverThrows() =>
        Gen.Int[0, s_fragments.Length - 1].Array[0, 60].Select(ix => string.Concat(ix.Select(i => s_fragments[i])))
            .Select(json => "{\"keys\":[" + json + "]}").Sample(json =>
            {
                try
                {
                    JsonWebKey.ReadSet(Encoding.UTF8.GetBytes(json));
                }
                catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException)
                {
                    // Documented: an unreadable document is refused as a whole.
                }
            }, iter: 1500);

    private static readonly string[] s_yamlFragments =
    [
        "servers:", "profiles:", "auth:", "limits:", "\n", "  ", "    ", "- ", ": ", "{", "}", "[", "]", "\"", "'", "&a ", "*a", "!!str ",
        "${env:X}", "${file:/nonexistent}", "${credential:c}", "remote:", "url: http://x", "process:", "command: x", "tools:",
        "server: s", "include: [\"*\"]", "max_request_bytes: 1TiB", "call_timeout: 99999999d", "replicas: -1", "#", "|", ">", "\t", "~",
    ];

    [Fact]
    public void YamlLoading_NeverThrows_AndAlwaysExplains() =>
        Gen.OneOf(
            Gen.Int[0, s_yamlFragments.Length - 1].Array[0, 60].Select(ix => string.Concat(ix.Select(i => s_yamlFragments[i]))),
            Gen.String[0, 200])
        .Sample(text =>
        {
            var result = ConfigLoader.Load(text, "/tmp/fuzz/archestra.yaml", _ => null);
            return result.Succeeded || result.Diagnostics.Count > 0;
        }, iter: 1500);

    private static byte[] Mutate(byte[] seed, int[] cuts)
    {
        var bytes = (byte[])seed.Clone();
        foreach (var cut in cuts)
        {
            if (cut < bytes.Length)
            {
                bytes[cut] = (byte)(bytes[cut] ^ (cut * 31));
            }
        }

        return bytes;
    }

    private static ReadOnlySequence<byte> Split(byte[] bytes, int cut)
    {
        if (cut <= 0 || cut >= bytes.Length)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        var first = new Segment(bytes.AsMemory(0, cut));
        var last = first.Append(bytes.AsMemory(cut));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private static readonly string[] s_sseParts = ["data: x", "data:", "id: 1", "event: message", ": c", "retry: 10", "\n", "\r\n"];

    private static byte[] ToSse(int[] parts) => Encoding.UTF8.GetBytes(string.Concat(parts.Select(p => s_sseParts[p])));

    private static List<string> Events(byte[] bytes, int chunk)
    {
        using var parser = new SseParser { MaxEventBytes = 256 };
        var events = new List<string>();
        try
        {
            var pending = Array.Empty<byte>();
            for (var offset = 0; offset < bytes.Length; offset += chunk)
            {
                var buffer = new ReadOnlySequence<byte>(bytes.AsMemory(offset, Math.Min(chunk, bytes.Length - offset)));
                while (parser.TryReadEvent(ref buffer, out var e))
                {
                    events.Add($"{Encoding.UTF8.GetString(e.EventType.Span)}|{Encoding.UTF8.GetString(e.Id.Span)}|{Convert.ToHexString(e.Data.Span)}|{e.RetryMilliseconds}");
                }
            }
        }
        catch (InvalidDataException)
        {
            events.Add("bound");
        }

        return events;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
