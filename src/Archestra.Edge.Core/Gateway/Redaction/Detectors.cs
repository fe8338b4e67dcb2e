using Archestra.Edge.Model;

namespace Archestra.Edge.Gateway.Redaction;

internal enum DetectorCategory : byte
{
    Secret,
    Personal,
}

/// <summary>
/// One kind of finding: its name (in the marker, the audit trail and the metric), its pattern, and a check of the
/// matched text where a pattern alone is too loose (entropy of an assigned value, the Luhn digit of a card, the number
/// of digits of a phone number). When the pattern has a group named <c>v</c>, only that part is the secret (the value
/// of <c>password = …</c>, not its name).
/// </summary>
internal sealed record Detector(string Kind, DetectorCategory Category, PersonalDataKinds Personal, string Pattern, Func<string, bool>? Confirm = null);

/// <summary>
/// What results are scanned for. Patterns are written for the linear-time engine (no lookaround, no backreference),
/// so a hostile string costs time in proportion to its length, never more; most start with a literal prefix (the
/// token formats vendors publish so that scanners like this one can find them).
/// </summary>
internal static class Detectors
{
    public static readonly Detector[] All =
    [
        // A PEM private key, through its END line (or to the end of the base64 body when it is cut off).
        new("private_key", DetectorCategory.Secret, PersonalDataKinds.None,
            @"-----BEGIN[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END[A-Z ]{0,40}PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s]*)"),
        new("aws_access_key_id", DetectorCategory.Secret, PersonalDataKinds.None, @"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"),
        new("aws_secret_access_key", DetectorCategory.Secret, PersonalDataKinds.None,
            @"(?i:aws_?secret_?access_?key)[""']?\s{0,5}[:=]\s{0,5}[""']?(?<v>[A-Za-z0-9/+=]{40})"),
        new("google_api_key", DetectorCategory.Secret, PersonalDataKinds.None, @"\bAIza[0-9A-Za-z_\-]{35}"),
        new("azure_storage_key", DetectorCategory.Secret, PersonalDataKinds.None, @"AccountKey=(?<v>[A-Za-z0-9+/=]{40,})"),
        new("github_token", DetectorCategory.Secret, PersonalDataKinds.None, @"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b"),
        new("gitlab_token", DetectorCategory.Secret, PersonalDataKinds.None, @"\bgl(?:pat|dt|rt|ptt|cbt|oas|soat|ffct|imt|agent)-[A-Za-z0-9_\-]{20,}"),
        new("slack_token", DetectorCategory.Secret, PersonalDataKinds.None, @"\bxox[abposre]-[A-Za-z0-9\-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9_/]{20,}"),
        new("stripe_key", DetectorCategory.Secret, PersonalDataKinds.None, @"\b[rs]k_(?:live|test)_[A-Za-z0-9]{20,}"),
        new("ai_api_key", DetectorCategory.Secret, PersonalDataKinds.None, @"\bsk-(?:ant-[a-z]{3,5}[0-9]{2}-|proj-)?[A-Za-z0-9_\-]{32,}"),
        new("jwt", DetectorCategory.Secret, PersonalDataKinds.None, @"\beyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*"),
        new("archestra_token", DetectorCategory.Secret, PersonalDataKinds.None, @"\barchestra_[A-Za-z0-9_\-]{20,}"),

        // name = value, where the name says secret and the value looks random (not a word, not a placeholder).
        new("secret_assignment", DetectorCategory.Secret, PersonalDataKinds.None,
            @"(?i:[a-z0-9_.\-]{0,40}(?:secret|token|password|passwd|pwd|api_?key|apikey|access_?key|private_?key|credential)[a-z0-9_.\-]{0,40})[""']?\s{0,5}[:=]\s{0,5}[""']?(?<v>[^\s""'`,;&<>${}\[\]*\\]{12,200})",
            LooksRandom),

        new("email", DetectorCategory.Personal, PersonalDataKinds.Email,
            @"\b[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63})*\.[A-Za-z]{2,24}\b"),
        // International (+ and a country code), or the North American shapes (555) 867-5309 and 555-867-5309: digit
        // groups separated by spaces alone are too often something else (a card, an order number) to be called phones.
        new("phone", DetectorCategory.Personal, PersonalDataKinds.Phone,
            @"\+[1-9][0-9]{0,2}(?:[ .\-]?\(?[0-9]{1,4}\)?){2,5}|\([0-9]{3}\)[ .\-]?[0-9]{3}[ .\-][0-9]{4}\b|\b[0-9]{3}[.\-][0-9]{3}[.\-][0-9]{4}\b",
            static text => DigitCount(text) is >= 9 and <= 15),
        new("payment_card", DetectorCategory.Personal, PersonalDataKinds.Card, @"\b(?:[0-9][ \-]?){12,18}[0-9]\b", IsCardNumber),
    ];

    /// <summary>
    /// A value that looks generated rather than written: at least 3.2 bits of entropy per character with letters and
    /// digits mixed, or 4 bits whatever it holds.
    /// </summary>
    internal static bool LooksRandom(string value)
    {
        Span<int> counts = stackalloc int[128];
        counts.Clear(); // locals are not zeroed in this assembly
        var other = 0;
        bool letter = false, digit = false;
        foreach (var c in value)
        {
            if (c < 128)
            {
                counts[c]++;
            }
            else
            {
                other++;
            }

            letter |= char.IsAsciiLetter(c);
            digit |= char.IsAsciiDigit(c);
        }

        var entropy = 0.0;
        foreach (var count in counts)
        {
            if (count > 0)
            {
                var p = (double)count / value.Length;
                entropy -= p * Math.Log2(p);
            }
        }

        if (other > 0)
        {
            var p = (double)other / value.Length;
            entropy -= p * Math.Log2(p);
        }

        return entropy >= 4.0 || (entropy >= 3.2 && letter && digit);
    }

    /// <summary>13 to 19 digits, a card network's first digit, not one digit repeated, and a valid Luhn check digit.</summary>
    internal static bool IsCardNumber(string text)
    {
        Span<int> digits = stackalloc int[19];
        var count = 0;
        foreach (var c in text)
        {
            if (char.IsAsciiDigit(c))
            {
                if (count == digits.Length)
                {
                    return false;
                }

                digits[count++] = c - '0';
            }
        }

        if (count < 13 || digits[0] is not (2 or 3 or 4 or 5 or 6) || digits[..count].IndexOfAnyExcept(digits[0]) < 0)
        {
            return false;
        }

        var sum = 0;
        for (var i = 0; i < count; i++)
        {
            var d = digits[count - 1 - i];
            if (i % 2 == 1)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
        }

        return sum % 10 == 0;
    }

    private static int DigitCount(string text)
    {
        var count = 0;
        foreach (var c in text)
        {
            count += char.IsAsciiDigit(c) ? 1 : 0;
        }

        return count;
    }
}
