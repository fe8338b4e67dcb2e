namespace Archestra.Edge.Observability.Audit;

/// <summary>
/// One audited request: who, where, what, how it ended, how long it took and how big it was. <see cref="Arguments"/>
/// holds the raw argument bytes as the client sent them (null when the trail keeps none); they are redacted by the
/// writer, off the request path.
/// </summary>
internal sealed record AuditRecord(
    DateTimeOffset At,
    string Principal,
    string Profile,
    string Server,
    string Method,
    string Item,
    string Outcome,
    double DurationMilliseconds,
    long RequestBytes,
    long ResponseBytes,
    string Session)
{
    public byte[]? Arguments { get; init; }

    /// <summary>The arguments as stored (already redacted as configured), when read back.</summary>
    public string? StoredArguments { get; init; }

    /// <summary>What a policy decided, and which rule: <c>deny:&lt;rule&gt;</c>, <c>approved:&lt;rule&gt;</c>, … (null: no rule applied).</summary>
    public string? Decision { get; init; }
}
