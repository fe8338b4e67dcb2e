using System.Buffers;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Model;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.Gateway.Redaction;

/// <summary>
/// What scanning a result found and did: the strongest action taken, and each kind found (sorted, distinct) with the
/// action its category takes.
/// </summary>
internal readonly record struct RedactionOutcome(RedactionAction Action, (string Kind, RedactionAction Action)[] Found)
{
    public static readonly RedactionOutcome Clean = new(RedactionAction.Off, []);

    public bool Any => Found.Length > 0;

    public string[] Kinds => [.. Found.Select(static f => f.Kind)];

    /// <summary><c>redacted</c>, <c>blocked</c> or <c>flagged</c>: the audit trail's and the metric's word.</summary>
    public string Decision => Word(Action);

    public static string Word(RedactionAction action) => action switch
    {
        RedactionAction.Block => "blocked",
        RedactionAction.Redact => "redacted",
        _ => "flagged",
    };
}

/// <summary>
/// Scans a result (a tool's, a prompt's, a resource's contents) for what a profile's <c>redaction:</c> asks: every
/// string value of the JSON, decoded, except base64 payloads (<c>blob</c>, <c>data</c>: images, audio, binary
/// contents, where a match would be chance). Under <c>redact</c> each finding is replaced in its string by
/// <c>[REDACTED:kind]</c> and the string re-encoded, so the JSON keeps its structure and every other byte; under
/// <c>block</c> the caller withholds the result; under <c>flag</c> it passes. A result too deep to read is treated
/// as a finding of the secrets' action (it cannot be shown to be clean). Works on one message at a time: a streamed
/// answer's progress and log messages pass as they come, its final result is scanned when it arrives.
/// </summary>
internal static class ResultRedactor
{
    private const int MaxDepth = 64;

    /// <summary>Scans <paramref name="result"/> (a range of <paramref name="message"/>); the rewritten message goes to <paramref name="rewritten"/> under <c>redact</c>.</summary>
    public static RedactionOutcome Scan(ReadOnlySpan<byte> message, JsonRange result, RedactionSettings settings, PooledBufferWriter rewritten)
    {
        if (result.IsEmpty || settings.Scanner.IsEmpty)
        {
            return RedactionOutcome.Clean;
        }

        List<Finding>? findings = null;
        SortedDictionary<string, RedactionAction>? kinds = null;
        var action = RedactionAction.Off;
        var copied = 0;
        char[]? rented = null;
        try
        {
            var reader = new Utf8JsonReader(result.Slice(message), new JsonReaderOptions { MaxDepth = MaxDepth });
            var skipNext = false;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    skipNext = reader.ValueTextEquals("blob"u8) || reader.ValueTextEquals("data"u8);
                    continue;
                }

                if (reader.TokenType != JsonTokenType.String || skipNext || reader.ValueSpan.Length < TextScanner.MinimumLength)
                {
                    skipNext = false;
                    continue;
                }

                string? escaped = null;
                ReadOnlySpan<char> text;
                if (reader.ValueIsEscaped)
                {
                    escaped = reader.GetString()!;
                    text = escaped;
                }
                else
                {
                    if (rented is null || rented.Length < reader.ValueSpan.Length)
                    {
                        if (rented is not null)
                        {
                            ArrayPool<char>.Shared.Return(rented);
                        }

                        rented = ArrayPool<char>.Shared.Rent(reader.ValueSpan.Length);
                    }

                    text = rented.AsSpan(0, Encoding.UTF8.GetChars(reader.ValueSpan, rented));
                }

                if (!settings.Scanner.MayHold(text))
                {
                    continue;
                }

                findings ??= [];
                findings.Clear();
                if (!settings.Scanner.Scan(text, findings))
                {
                    continue;
                }

                kinds ??= new SortedDictionary<string, RedactionAction>(StringComparer.Ordinal);

                var redact = false;
                foreach (var finding in findings)
                {
                    var taken = settings.ActionFor(finding.Detector.Category);
                    kinds[finding.Detector.Kind] = taken;
                    action = taken > action ? taken : action;
                    redact |= taken == RedactionAction.Redact;
                }

                if (redact && action != RedactionAction.Block)
                {
                    var start = result.Start + (int)reader.TokenStartIndex;
                    rewritten.Write(message[copied..start]);
                    JsonRpcWriter.WriteString(rewritten, Replace(text, findings, settings));
                    copied = result.Start + (int)reader.BytesConsumed;
                }
            }
        }
        catch (JsonException)
        {
            kinds ??= new SortedDictionary<string, RedactionAction>(StringComparer.Ordinal);
            kinds["unreadable"] = settings.Secrets;
            action = settings.Secrets > action ? settings.Secrets : action;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }

        if (action == RedactionAction.Redact && copied > 0)
        {
            rewritten.Write(message[copied..]);
        }
        else
        {
            rewritten.Reset();
        }

        return kinds is null ? RedactionOutcome.Clean : new RedactionOutcome(action, [.. kinds.Select(static k => (k.Key, k.Value))]);
    }

    /// <summary>The text with each finding whose action is <c>redact</c> replaced by its marker.</summary>
    private static string Replace(ReadOnlySpan<char> text, List<Finding> findings, RedactionSettings settings)
    {
        var result = new StringBuilder(text.Length);
        var at = 0;
        foreach (var finding in findings)
        {
            if (settings.ActionFor(finding.Detector.Category) != RedactionAction.Redact || finding.Start < at)
            {
                continue;
            }

            result.Append(text[at..finding.Start]).Append("[REDACTED:").Append(finding.Detector.Kind).Append(']');
            at = finding.Start + finding.Length;
        }

        return result.Append(text[at..]).ToString();
    }
}
