using System.Collections.Frozen;

namespace Archestra.Edge.Model;

/// <summary>What happens when a server's tool or prompt no longer matches the lock file (<c>pinning:</c> on a server).</summary>
internal enum PinningMode : byte
{
    /// <summary>Definitions are not compared.</summary>
    Off,

    /// <summary>A changed or new item is served, and reported (log, metric, audit).</summary>
    Warn,

    /// <summary>A changed or new item is left out of lists, and a call to it gets a tool error; reported as under warn.</summary>
    Block,
}

/// <summary>
/// One pinned item of the lock file: the digest of its whole definition, and one digest per top-level property (so a
/// mismatch can say which of them changed).
/// </summary>
internal sealed record PinnedItem(string Digest, FrozenDictionary<string, string> Fields);

/// <summary>One server's entry in the lock file: its tools and prompts by upstream name.</summary>
internal sealed record ServerPins(FrozenDictionary<string, PinnedItem> Tools, FrozenDictionary<string, PinnedItem> Prompts)
{
    public static readonly ServerPins Empty = new(FrozenDictionary<string, PinnedItem>.Empty, FrozenDictionary<string, PinnedItem>.Empty);
}

/// <summary>
/// The lock file next to the config (<c>archestra.lock.json</c> beside <c>archestra.yaml</c>), as loaded: pinned
/// definitions per server. Empty when the file does not exist (every item of a pinned server then counts as new).
/// </summary>
internal sealed record PinLock(string Path, bool Exists, FrozenDictionary<string, ServerPins> Servers)
{
    /// <summary>The lock file that belongs to the config at <paramref name="configPath"/>: same directory, same stem.</summary>
    public static string PathFor(string configPath)
    {
        var full = System.IO.Path.GetFullPath(configPath);
        var directory = System.IO.Path.GetDirectoryName(full) ?? ".";
        return System.IO.Path.Combine(directory, System.IO.Path.GetFileNameWithoutExtension(full) + ".lock.json");
    }

    public static PinLock None(string path) => new(path, false, FrozenDictionary<string, ServerPins>.Empty);

    public ServerPins For(string server) => Servers.GetValueOrDefault(server) ?? ServerPins.Empty;

    /// <summary>A hash of every pinned digest: a reload whose lock differs tells sessions their lists may have changed.</summary>
    public string Fingerprint { get; init; } = string.Empty;
}
