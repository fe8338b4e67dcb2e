using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Archestra.Edge.Gateway.Redaction;
using Archestra.Edge.Model;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;

namespace Archestra.Edge.Tests.Gateway.Redaction;

/// <summary>The scanners' true and false positives, and how a result is rewritten, withheld or passed.</summary>
public sealed class RedactionTests
{
    // Made-up values in the vendors' published formats (none of them is a live credential).
    public static TheoryData<string, string> Secrets => new()
    {
        { "private_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz\n-----END OPENSSH PRIVATE KEY-----" },
        { "private_key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun" },
        { "aws_access_key_id", "AKIAIOSFODNN7EXAMPLE" },
        { "aws_secret_access_key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
        { "google_api_key", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe" },
        { "azure_storage_key", "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==" },
        { "github_token", "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" },
        { "github_token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345" },
        { "gitlab_token", "glpat-xxxxxxxxxxxxxxxxxxxx" },
        { "slack_token", "xoxb-2634-1234567890-AbCdEfGhIjKlMnOp" },
        { "slack_token", "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX" },
        { "stripe_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc" },
        { "ai_api_key", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCDEF" },
        { "jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U" },
        { "archestra_token", "archestra_Q2xhdWRlIHdhcyBoZXJlIGFuZCB0aGlzIGlzIGZha2U" },
        { "secret_assignment", "DB_PASSWORD=x9Kq2mZp7Lw4Tn8R" },
        { "secret_assignment", "\"client_secret\": \"3f8a9c2e7b1d4f6a0c5e\"" },
    };

    public static TheoryData<string, int> Personal => new()
    {
        { "write to ada.lovelace@example.org today", (int)PersonalDataKinds.Email },
        { "call +44 20 7946 0958 now", (int)PersonalDataKinds.Phone },
        { "call (555) 867-5309", (int)PersonalDataKinds.Phone },
        { "card 4111 1111 1111 1111 on file", (int)PersonalDataKinds.Card },
        { "card 5500-0000-0000-0004", (int)PersonalDataKinds.Card },
    };

    // Things that look a little like the above and are not.
    public static TheoryData<string> Clean => new()
    {
        "The quick brown fox jumps over the lazy dog; tokens are counted per request.",
        "commit 3f786850e387550fdab836ed7e6dc881de23001b, id 550e8400-e29b-41d4-a716-446655440000",
        "version 10.0.401 released 2026-12-07 at 10:15:00, build 20261207.1",
        "password = correct horse", // a phrase, not a generated value
        "token: ${env:GITHUB_TOKEN}", // a placeholder
        "api_key = <your key here>",
        "order 4111 1111 1111 1112 was shipped", // fails the Luhn check
        "order number 1234567890123456", // not a card network's first digit (and fails Luhn)
        "see https://example.org/docs?page=2&sort=asc",
        "eyJ alone is not a token; neither is sk-short",
        "AKIA is a prefix, AKIA123 is too short",
    };

    [Theory]
    [MemberData(nameof(Secrets))]
    public void EachSecretKind_IsFound(string kind, string text)
    {
        var findings = new List<Finding>();
        Assert.True(TextScanner.For(secrets: true, PersonalDataKinds.None).Scan($"before {text} after", findings), text);
        Assert.Equal(kind, findings.Single().Detector.Kind);
    }

    [Theory]
    [MemberData(nameof(Personal))]
    public void PersonalData_IsFoundOnlyWhenAskedFor(string text, int kindValue)
    {
        var kind = (PersonalDataKinds)kindValue;
        var findings = new List<Finding>();
        Assert.False(TextScanner.For(secrets: true, PersonalDataKinds.None).Scan(text, findings));
        Assert.False(TextScanner.For(secrets: false, PersonalDataKinds.All & ~kind).Scan(text, findings));
        Assert.True(TextScanner.For(secrets: false, kind).Scan(text, findings));
        Assert.Single(findings);
    }

    [Theory]
    [MemberData(nameof(Clean))]
    public void OrdinaryText_IsNotFlagged(string text)
    {
        var findings = new List<Finding>();
        Assert.False(TextScanner.For(secrets: true, PersonalDataKinds.All).Scan(text, findings), string.Join(", ", findings.Select(f => $"{f.Detector.Kind}: {text.Substring(f.Start, f.Length)}")));
    }

    [Fact]
    public void Redact_ReplacesFindingsInPlace_KeepsTheJsonAndEveryOtherByte()
    {
        // The secret sits in escaped text (a JSON document inside a string) and in structured content; an image's base64 is not scanned.
        var message = """{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"{\"token\":\"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\",\"user\":\"ada\"}\nline two"},{"type":"image","data":"AKIAIOSFODNN7EXAMPLEAKIAIOSFODNN7EXAMPLE","mimeType":"image/png"}],"structuredContent":{"key":"AKIAIOSFODNN7EXAMPLE","n":1.50,"list":["mail ada@example.org"]},"isError":false}}""";
        var (outcome, output) = Scan(message, new RedactionSettings(RedactionAction.Redact, RedactionAction.Redact, PersonalDataKinds.Email));

        Assert.Equal(RedactionAction.Redact, outcome.Action);
        Assert.Equal(["aws_access_key_id", "email", "github_token"], outcome.Kinds);
        var result = JsonNode.Parse(output)!["result"]!;
        Assert.Equal("{\"token\":\"[REDACTED:github_token]\",\"user\":\"ada\"}\nline two", result["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("AKIAIOSFODNN7EXAMPLEAKIAIOSFODNN7EXAMPLE", result["content"]![1]!["data"]!.GetValue<string>());
        Assert.Equal("[REDACTED:aws_access_key_id]", result["structuredContent"]!["key"]!.GetValue<string>());
        Assert.Equal("mail [REDACTED:email]", result["structuredContent"]!["list"]![0]!.GetValue<string>());
        Assert.Contains("\"n\":1.50", output, StringComparison.Ordinal); // untouched bytes stay as the server wrote them
        Assert.StartsWith("""{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":""", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Flag_PassesTheResult_Block_WithholdsIt_AndTheStrongestActionWins()
    {
        const string message = """{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"AKIAIOSFODNN7EXAMPLE and ada@example.org"}]}}""";
        var (flagged, flaggedOutput) = Scan(message, new RedactionSettings(RedactionAction.Flag, RedactionAction.Off, PersonalDataKinds.All));
        Assert.Equal((RedactionAction.Flag, "flagged"), (flagged.Action, flagged.Decision));
        Assert.Equal(string.Empty, flaggedOutput);

        var (blocked, _) = Scan(message, new RedactionSettings(RedactionAction.Redact, RedactionAction.Block, PersonalDataKinds.Email));
        Assert.Equal((RedactionAction.Block, "blocked"), (blocked.Action, blocked.Decision));

        // Secrets redacted, personal data only flagged: the e-mail address stays.
        var (mixed, mixedOutput) = Scan(message, new RedactionSettings(RedactionAction.Redact, RedactionAction.Flag, PersonalDataKinds.Email));
        Assert.Equal(RedactionAction.Redact, mixed.Action);
        Assert.Equal("[REDACTED:aws_access_key_id] and ada@example.org", JsonNode.Parse(mixedOutput)!["result"]!["content"]![0]!["text"]!.GetValue<string>());

        var (clean, _) = Scan("""{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"nothing to see"}]}}""", new RedactionSettings(RedactionAction.Block, RedactionAction.Block, PersonalDataKinds.All));
        Assert.False(clean.Any);
    }

    [Fact]
    public void AResultTooDeepToRead_CountsAsAFinding_OfTheSecretsAction()
    {
        var deep = string.Concat(Enumerable.Repeat("[", 100)) + string.Concat(Enumerable.Repeat("]", 100));
        var (outcome, _) = Scan("""{"jsonrpc":"2.0","id":1,"result":{"x":""" + deep + "}}", new RedactionSettings(RedactionAction.Block, RedactionAction.Off, PersonalDataKinds.None));
        Assert.Equal(RedactionAction.Block, outcome.Action);
        Assert.Equal(["unreadable"], outcome.Kinds);
    }

    [Fact]
    public void AHostileString_CostsLinearTime()
    {
        // Long runs that start many partial matches (the classic quadratic cases of backtracking engines).
        var scanner = TextScanner.For(secrets: true, PersonalDataKinds.All);
        string[] hostile = [new string('a', 1_000_000), string.Concat(Enumerable.Repeat("password=", 100_000)), string.Concat(Enumerable.Repeat("1 ", 500_000)), new string('-', 1_000_000) + "BEGIN"];
        foreach (var text in hostile)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            scanner.Scan(text, []);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"{watch.Elapsed} for a string of {text.Length} characters");
        }
    }

    [Fact]
    public void TheChecks_BehindLooseShapes()
    {
        Assert.True(Detectors.IsCardNumber("4111111111111111"));
        Assert.False(Detectors.IsCardNumber("4111111111111112"));
        Assert.False(Detectors.IsCardNumber("0000000000000000"));
        Assert.False(Detectors.IsCardNumber("4444444444444444")); // one digit repeated
        Assert.True(Detectors.LooksRandom("x9Kq2mZp7Lw4Tn8R"));
        Assert.False(Detectors.LooksRandom("correcthorsebatterystaple"));
        Assert.False(Detectors.LooksRandom("aaaaaaaaaaaaaaaa1"));
    }

    private static (RedactionOutcome Outcome, string Output) Scan(string message, RedactionSettings settings)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var envelope = EnvelopeReader.Read(bytes);
        using var output = new PooledBufferWriter();
        var outcome = ResultRedactor.Scan(bytes, envelope.Result, settings, output);
        var text = Encoding.UTF8.GetString(output.WrittenSpan);
        if (text.Length > 0)
        {
            using var _ = JsonDocument.Parse(text); // always valid JSON
        }

        return (outcome, text);
    }
}
