namespace Archestra.Edge.Identity.OAuth;

/// <summary>A signing key as stored: its PKCS#8 private key, and when it was retired (null: the active one).</summary>
internal sealed record StoredSigningKey(string Kid, string Algorithm, byte[] PrivateKey, DateTimeOffset? RetiredAt);

/// <summary>Where the built-in authorization server's signing keys are kept (private keys: the store must be private).</summary>
internal interface ISigningKeyRepository
{
    /// <summary>The active key and the keys retired at or after <paramref name="retiredSince"/>, oldest first.</summary>
    IReadOnlyList<StoredSigningKey> Load(DateTimeOffset retiredSince);

    /// <summary>Retires the active key and makes <paramref name="key"/> the active one, atomically.</summary>
    void Rotate(string kid, string algorithm, byte[] privateKey, DateTimeOffset at);

    /// <summary>
    /// Rotates to <paramref name="kid"/> only if no key of <paramref name="algorithm"/> is active, atomically: instances
    /// of a fleet starting together on an empty store end with one key, not one each. False if one was active.
    /// </summary>
    bool CreateIfNoneActive(string kid, string algorithm, byte[] privateKey, DateTimeOffset at);
}
