namespace Archestra.Edge.Model;

/// <summary>What is done with a finding in a result.</summary>
internal enum RedactionAction : byte
{
    Off,

    /// <summary>The result goes through unchanged; the finding is audited and counted.</summary>
    Flag,

    /// <summary>The finding is replaced in place by <c>[REDACTED:kind]</c>; the JSON keeps its structure.</summary>
    Redact,

    /// <summary>The whole result is withheld: a tool error (tools) or an error response (prompts, resources).</summary>
    Block,
}

/// <summary>The kinds of personal data a profile scans for (none unless asked).</summary>
[Flags]
internal enum PersonalDataKinds : byte
{
    None = 0,
    Email = 1,
    Phone = 2,
    Card = 4,
    All = Email | Phone | Card,
}

/// <summary>A profile's scanning of results (<c>redaction:</c>), compiled: its actions and the scanner made for them.</summary>
internal sealed record RedactionSettings(RedactionAction Secrets, RedactionAction Personal, PersonalDataKinds PersonalKinds)
{
    /// <summary>The scanner for exactly these categories (shared by profiles that ask for the same).</summary>
    public Gateway.Redaction.TextScanner Scanner { get; } = Gateway.Redaction.TextScanner.For(Secrets != RedactionAction.Off, Personal != RedactionAction.Off ? PersonalKinds : PersonalDataKinds.None);

    public RedactionAction ActionFor(Gateway.Redaction.DetectorCategory category)
        => category == Gateway.Redaction.DetectorCategory.Secret ? Secrets : Personal;
}
