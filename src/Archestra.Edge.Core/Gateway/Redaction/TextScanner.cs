using System.Buffers;
using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Archestra.Edge.Model;

namespace Archestra.Edge.Gateway.Redaction;

/// <summary>Something found in a text: where (the part to replace), and what.</summary>
internal readonly record struct Finding(int Start, int Length, Detector Detector);

/// <summary>
/// Finds secrets and personal data in text. One combined pattern of the chosen detectors is run over the text with
/// the linear-time engine (no allocation while nothing matches, which is nearly always); a match is then told apart
/// by the detectors' own anchored patterns and checked by their confirmations. One scanner per combination of
/// categories, made once and shared.
/// </summary>
internal sealed class TextScanner
{
    private const RegexOptions Options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;

    /// <summary>No pattern matches less than this many characters; shorter strings are not scanned.</summary>
    public const int MinimumLength = 6;

    private static readonly ConcurrentDictionary<(bool Secrets, PersonalDataKinds Personal), TextScanner> s_scanners = new();

    /// <summary>
    /// Literals one of which every secret detector's match contains (compared ignoring case, so a superset): a string
    /// without any of them holds no secret, and most results are told so by one vectorized search.
    /// </summary>
    private static readonly SearchValues<string> s_secretAnchors = SearchValues.Create(
        [
            "-----BEGIN", "AKIA", "ASIA", "ABIA", "ACCA", "AIza", "AccountKey=", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
            "glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "gloas-", "glsoat-", "glffct-", "glimt-", "glagent-", "xox", "hooks.slack.com",
            "sk_live_", "sk_test_", "rk_live_", "rk_test_", "sk-", "eyJ", "archestra_",
            "secret", "token", "password", "passwd", "pwd", "apikey", "api_key", "accesskey", "access_key", "privatekey", "private_key", "credential",
        ],
        StringComparison.OrdinalIgnoreCase);

    private readonly Regex _any;
    private readonly (Detector Detector, Regex Exact)[] _detectors;
    private readonly bool _secrets;
    private readonly bool _email;
    private readonly int _digits;

    private TextScanner(Detector[] detectors)
    {
        _detectors = [.. detectors.Select(static d => (d, new Regex($@"\A(?:{d.Pattern})\z", Options)))];
        _any = new Regex(string.Join('|', detectors.Select(static d => $"(?:{d.Pattern})")), Options);
        _secrets = detectors.Any(static d => d.Category == DetectorCategory.Secret);
        _email = detectors.Any(static d => d.Personal == PersonalDataKinds.Email);
        // A phone number has at least 9 digits, a card 13: fewer digits, neither can be there.
        _digits = detectors.Any(static d => d.Personal == PersonalDataKinds.Phone) ? 9 : detectors.Any(static d => d.Personal == PersonalDataKinds.Card) ? 13 : 0;
    }

    /// <summary>Whether any detector could match: false for nearly every string, at the cost of a few vectorized searches.</summary>
    internal bool MayHold(ReadOnlySpan<char> text)
    {
        if (_secrets && text.IndexOfAny(s_secretAnchors) >= 0)
        {
            return true;
        }

        if (_email && text.Contains('@'))
        {
            return true;
        }

        if (_digits > 0)
        {
            var count = 0;
            int at;
            while ((at = text.IndexOfAnyInRange('0', '9')) >= 0)
            {
                if (++count >= _digits)
                {
                    return true;
                }

                text = text[(at + 1)..];
            }
        }

        return false;
    }

    public bool IsEmpty => _detectors.Length == 0;

    public static TextScanner For(bool secrets, PersonalDataKinds personal)
        => s_scanners.GetOrAdd((secrets, personal), static key => new TextScanner(
            [.. Detectors.All.Where(d => d.Category == DetectorCategory.Secret ? key.Secrets : (key.Personal & d.Personal) != 0)]));

    /// <summary>Adds what <paramref name="text"/> holds to <paramref name="findings"/>, in order; false if nothing.</summary>
    public bool Scan(ReadOnlySpan<char> text, List<Finding> findings)
    {
        if (IsEmpty || text.Length < MinimumLength || !MayHold(text))
        {
            return false;
        }

        var found = false;
        foreach (var match in _any.EnumerateMatches(text))
        {
            var matched = text.Slice(match.Index, match.Length).ToString();
            foreach (var (detector, exact) in _detectors)
            {
                var whole = exact.Match(matched);
                if (!whole.Success || (detector.Confirm is { } confirm && !confirm(whole.Groups["v"] is { Success: true } v ? v.Value : matched)))
                {
                    continue;
                }

                var value = whole.Groups["v"];
                findings.Add(value.Success
                    ? new Finding(match.Index + value.Index, value.Length, Narrowest(detector, value.Value))
                    : new Finding(match.Index, match.Length, detector));
                found = true;
                break;
            }
        }

        return found;
    }

    /// <summary>The value of an assignment (<c>token = …</c>) named by its own format when it has one (a GitHub token, say).</summary>
    private Detector Narrowest(Detector assignment, string value)
    {
        foreach (var (detector, exact) in _detectors)
        {
            if (!ReferenceEquals(detector, assignment) && exact.IsMatch(value) && (detector.Confirm is null || detector.Confirm(value)))
            {
                return detector;
            }
        }

        return assignment;
    }
}
