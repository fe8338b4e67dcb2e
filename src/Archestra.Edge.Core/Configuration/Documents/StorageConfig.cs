namespace Archestra.Edge.Configuration.Documents;

/// <summary>
/// The <c>storage:</c> section: where tokens, OAuth state, signing keys and the audit trail live. Absent: SQLite in
/// <c>data_dir</c>, nothing to run. <c>backend: postgres</c> shares them between the instances of a fleet.
/// </summary>
internal sealed class StorageConfig
{
    /// <summary><c>sqlite</c> (default) or <c>postgres</c>.</summary>
    public string? Backend { get; set; }

    /// <summary>For <c>postgres</c>: an Npgsql connection string (<c>Host=…;Username=…;Password=…;Database=…</c>), usually from <c>${env:…}</c> or <c>${file:…}</c>.</summary>
    public string? Connection { get; set; }

    /// <summary>
    /// The key that seals what the gateway keeps of upstream OAuth connections (AES-256-GCM; any secret of at least 32
    /// characters, from <c>${env:…}</c> or <c>${file:…}</c>). Required when a server has <c>remote.oauth</c>.
    /// </summary>
    public string? EncryptionKey { get; set; }

    /// <summary>Keys used before <c>encryption_key</c>: still opened, never used to seal (rotation).</summary>
    public List<string>? PreviousEncryptionKeys { get; set; }
}
