using Archestra.Edge.Model;

namespace Archestra.Edge.Observability.Audit;

/// <summary>Where audit records are kept: written in batches by the trail, pruned past retention, read by <c>audit tail|export</c>.</summary>
internal interface IAuditRepository
{
    /// <summary>Writes a batch at once (a one-off writer; the trail keeps one open).</summary>
    void Insert(IReadOnlyList<AuditRecord> records, AuditArguments arguments);

    /// <summary>A long-lived writer: each batch is one atomic write.</summary>
    IAuditWriter OpenWriter(AuditArguments arguments);

    /// <summary>Deletes records older than <paramref name="cutoff"/>; returns how many.</summary>
    int Prune(DateTimeOffset cutoff);

    /// <summary>Records from <paramref name="since"/> to <paramref name="until"/>, oldest first; with <paramref name="last"/>, only the newest that many.</summary>
    List<AuditRecord> Read(DateTimeOffset? since, DateTimeOffset? until, int? last);
}

/// <summary>Writes batches of audit records, keeping arguments as <c>audit.arguments</c> says.</summary>
internal interface IAuditWriter : IDisposable
{
    void Write(IReadOnlyList<AuditRecord> records);
}
