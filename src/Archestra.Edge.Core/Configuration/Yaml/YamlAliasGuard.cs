using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Archestra.Edge.Configuration.Yaml;

/// <summary>
/// A pass over the YAML events before YamlDotNet builds its node tree, refusing what the tree cannot survive (both
/// found by fuzzing): an alias used as a mapping key (YamlDotNet's alias resolution then recurses until the stack
/// overflows, which no catch can stop), and aliases that expand to more than <see cref="MaxExpandedNodes"/> nodes
/// (a "billion laughs" document that every later walk of the tree would expand).
/// </summary>
internal static class YamlAliasGuard
{
    internal const long MaxExpandedNodes = 1_000_000;

    public static (Mark Mark, string Message)? Check(string text)
    {
        try
        {
            return CheckEvents(text);
        }
        catch (Exception ex) when (ex is YamlException or InvalidOperationException or ArgumentException)
        {
            return null; // a syntax error: the load that follows reports it, with its position
        }
    }

    private static (Mark Mark, string Message)? CheckEvents(string text)
    {
        var parser = new Parser(new StringReader(text));
        var anchors = new Dictionary<string, long>(StringComparer.Ordinal);
        var stack = new Stack<Frame>();
        long total = 0;
        while (parser.MoveNext())
        {
            var current = parser.Current!;
            if (current is Scalar or AnchorAlias or MappingStart or SequenceStart)
            {
                var atKey = stack.Count > 0 && stack.Peek().Mapping && stack.Peek().ExpectKey;
                if (stack.Count > 0 && stack.Peek().Mapping)
                {
                    stack.Peek().ExpectKey = !stack.Peek().ExpectKey;
                }

                long size = 1;
                if (current is AnchorAlias alias)
                {
                    if (atKey)
                    {
                        return (alias.Start, "an alias (*) cannot be a mapping key");
                    }

                    size = anchors.GetValueOrDefault(alias.Value.Value, 1);
                }

                switch (current)
                {
                    case MappingStart mapping:
                        stack.Push(new Frame(true, mapping.Anchor.IsEmpty ? null : mapping.Anchor.Value));
                        continue;
                    case SequenceStart sequence:
                        stack.Push(new Frame(false, sequence.Anchor.IsEmpty ? null : sequence.Anchor.Value));
                        continue;
                    case Scalar scalar when !scalar.Anchor.IsEmpty:
                        anchors[scalar.Anchor.Value] = 1;
                        break;
                }

                if (Add(stack, size, ref total))
                {
                    return (current.Start, $"the document's aliases expand to more than {MaxExpandedNodes} nodes");
                }
            }
            else if (current is MappingEnd or SequenceEnd)
            {
                var frame = stack.Pop();
                if (frame.Anchor is { } anchor)
                {
                    anchors[anchor] = frame.Size;
                }

                if (Add(stack, frame.Size, ref total))
                {
                    return (current.Start, $"the document's aliases expand to more than {MaxExpandedNodes} nodes");
                }
            }
        }

        return null;
    }

    // Counts a finished node into its parent (or the document); true past the bound.
    private static bool Add(Stack<Frame> stack, long size, ref long total)
    {
        if (stack.Count > 0)
        {
            var parent = stack.Peek();
            parent.Size = Math.Min(parent.Size + size, MaxExpandedNodes + 1);
            return parent.Size > MaxExpandedNodes;
        }

        total = Math.Min(total + size, MaxExpandedNodes + 1);
        return total > MaxExpandedNodes;
    }

    private sealed class Frame(bool mapping, string? anchor)
    {
        public bool Mapping { get; } = mapping;

        public string? Anchor { get; } = anchor;

        public bool ExpectKey { get; set; } = true;

        public long Size { get; set; } = 1;
    }
}
