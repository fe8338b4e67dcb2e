namespace Archestra.Edge.Utilities;

/// <summary>
/// A shell-style glob over names: <c>*</c> (any run, including none), <c>?</c> (one character),
/// <c>[abc]</c>, <c>[a-z]</c> and <c>[!x]</c> (one character in / not in a set). Case-sensitive, as MCP names are.
/// </summary>
internal sealed class Glob
{
    private readonly string _pattern;
    private readonly bool _isLiteral;

    private Glob(string pattern, bool isLiteral)
    {
        _pattern = pattern;
        _isLiteral = isLiteral;
    }

    public string Pattern => _pattern;

    /// <summary>True when the pattern has no wildcards, so it names exactly one thing.</summary>
    public bool IsLiteral => _isLiteral;

    public override string ToString() => _pattern;

    /// <summary>Parses a pattern, or says what is wrong with it.</summary>
    public static bool TryParse(string pattern, out Glob? glob, out string? error)
    {
        glob = null;
        if (string.IsNullOrEmpty(pattern))
        {
            error = "a glob pattern must not be empty";
            return false;
        }

        var literal = true;
        for (var i = 0; i < pattern.Length; i++)
        {
            switch (pattern[i])
            {
                case '*' or '?':
                    literal = false;
                    break;
                case '[':
                    literal = false;
                    var close = FindClassEnd(pattern, i);
                    if (close < 0)
                    {
                        error = $"unclosed '[' at position {i + 1}";
                        return false;
                    }

                    i = close;
                    break;
                case ']':
                    error = $"unmatched ']' at position {i + 1}";
                    return false;
            }
        }

        glob = new Glob(pattern, literal);
        error = null;
        return true;
    }

    public bool IsMatch(ReadOnlySpan<char> name)
        => _isLiteral ? name.SequenceEqual(_pattern) : Match(_pattern, name);

    private static int FindClassEnd(ReadOnlySpan<char> pattern, int open)
    {
        var i = open + 1;
        if (i < pattern.Length && pattern[i] == '!')
        {
            i++;
        }

        // A ']' right after '[' or '[!' is a literal member of the set.
        if (i < pattern.Length && pattern[i] == ']')
        {
            i++;
        }

        for (; i < pattern.Length; i++)
        {
            if (pattern[i] == ']')
            {
                return i - open > 1 ? i : -1;
            }
        }

        return -1;
    }

    // Iterative matcher with single-star backtracking: linear for patterns with one '*', never exponential.
    private static bool Match(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, starP = -1, starT = -1;
        while (t < text.Length)
        {
            if (p < pattern.Length)
            {
                var c = pattern[p];
                if (c == '*')
                {
                    starP = p++;
                    starT = t;
                    continue;
                }

                if (c == '?')
                {
                    p++;
                    t++;
                    continue;
                }

                if (c == '[')
                {
                    var end = FindClassEnd(pattern, p);
                    if (ClassMatches(pattern[(p + 1)..end], text[t]))
                    {
                        p = end + 1;
                        t++;
                        continue;
                    }
                }
                else if (c == text[t])
                {
                    p++;
                    t++;
                    continue;
                }
            }

            if (starP < 0)
            {
                return false;
            }

            p = starP + 1;
            t = ++starT;
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    private static bool ClassMatches(ReadOnlySpan<char> set, char c)
    {
        var negate = set.Length > 0 && set[0] == '!';
        if (negate)
        {
            set = set[1..];
        }

        var found = false;
        for (var i = 0; i < set.Length; i++)
        {
            if (i + 2 < set.Length && set[i + 1] == '-')
            {
                if (c >= set[i] && c <= set[i + 2])
                {
                    found = true;
                }

                i += 2;
            }
            else if (set[i] == c)
            {
                found = true;
            }
        }

        return found != negate;
    }
}
