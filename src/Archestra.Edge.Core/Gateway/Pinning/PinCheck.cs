using System.Collections.Frozen;
using System.Collections.Immutable;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Model;

namespace Archestra.Edge.Gateway.Pinning;

internal enum PinChange : byte
{
    /// <summary>Pinned, and its definition differs now.</summary>
    Changed,

    /// <summary>Listed now, not in the lock.</summary>
    New,

    /// <summary>In the lock, no longer listed (reported by <c>pin --check</c>; at run time nothing is served for it anyway).</summary>
    Removed,
}

/// <summary>One item whose definition does not match the lock: which, how, and (changed) which properties differ.</summary>
internal sealed record PinMismatch(CatalogKind Kind, string Name, PinChange Change, ImmutableArray<string> Fields, string? LiveDigest)
{
    /// <summary>"description, inputSchema" / "new" / "removed": what the log, the audit trail and the caller read.</summary>
    public string What => Change switch
    {
        PinChange.New => "new since pinned",
        PinChange.Removed => "removed since pinned",
        _ => $"changed since pinned: {string.Join(", ", Fields)}",
    };
}

/// <summary>How one source is pinned in a profile's catalog: the server's mode and its pinned items of the catalog's kind.</summary>
internal sealed record SourcePins(PinningMode Mode, FrozenDictionary<string, PinnedItem> Pinned);

/// <summary>A list checked against the lock: the items served, the items withheld (<c>block</c>), and every mismatch.</summary>
internal sealed record PinOutcome(ServerList Admitted, ImmutableArray<ServerListItem> Withheld, ImmutableArray<PinMismatch> Mismatches);

/// <summary>A list's last check, kept with it (one reference, so readers on other threads see all of it or none).</summary>
internal sealed record PinMemo(object Pins, PinningMode Mode, PinOutcome Outcome);

/// <summary>Compares listed definitions with pinned ones.</summary>
internal static class PinCheck
{
    /// <summary>The mismatches of one kind's items; <paramref name="withRemoved"/> adds the pinned items no longer listed.</summary>
    public static List<PinMismatch> Compare(CatalogKind kind, IReadOnlyList<(string Name, PinnedItem Live)> live, IReadOnlyDictionary<string, PinnedItem> pinned, bool withRemoved)
    {
        var mismatches = new List<PinMismatch>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, item) in live)
        {
            seen.Add(name);
            if (!pinned.TryGetValue(name, out var locked))
            {
                mismatches.Add(new PinMismatch(kind, name, PinChange.New, [], item.Digest));
            }
            else if (!string.Equals(locked.Digest, item.Digest, StringComparison.Ordinal))
            {
                mismatches.Add(new PinMismatch(kind, name, PinChange.Changed, ChangedFields(locked, item), item.Digest));
            }
        }

        if (withRemoved)
        {
            foreach (var name in pinned.Keys.Order(StringComparer.Ordinal))
            {
                if (!seen.Contains(name))
                {
                    mismatches.Add(new PinMismatch(kind, name, PinChange.Removed, [], null));
                }
            }
        }

        return mismatches;
    }

    /// <summary>The properties added, removed or changed, in name order.</summary>
    public static ImmutableArray<string> ChangedFields(PinnedItem pinned, PinnedItem live)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (field, digest) in live.Fields)
        {
            if (!pinned.Fields.TryGetValue(field, out var before) || before != digest)
            {
                names.Add(field);
            }
        }

        foreach (var field in pinned.Fields.Keys)
        {
            if (!live.Fields.ContainsKey(field))
            {
                names.Add(field);
            }
        }

        return [.. names];
    }

    /// <summary>
    /// A server's list under its pins: under <c>block</c> the changed and new items are withheld, under <c>warn</c>
    /// they are served; both report them. The result is kept with the list (profiles that share the server share it).
    /// </summary>
    public static PinOutcome Apply(ServerList list, CatalogKind kind, SourcePins pins)
    {
        if (list.PinOutcome is { } cached && ReferenceEquals(cached.Pins, pins.Pinned) && cached.Mode == pins.Mode)
        {
            return cached.Outcome;
        }

        var digests = list.Digests;
        var live = new List<(string, PinnedItem)>(list.Items.Length);
        for (var i = 0; i < list.Items.Length; i++)
        {
            live.Add((list.Items[i].Name, digests[i]));
        }

        var mismatches = Compare(kind, live, pins.Pinned, withRemoved: false);
        var outcome = new PinOutcome(list, [], [.. mismatches]);
        if (pins.Mode == PinningMode.Block && mismatches.Count > 0)
        {
            var off = mismatches.Select(static m => m.Name).ToHashSet(StringComparer.Ordinal);
            var admitted = ImmutableArray.CreateBuilder<ServerListItem>();
            var withheld = ImmutableArray.CreateBuilder<ServerListItem>();
            foreach (var item in list.Items)
            {
                (off.Contains(item.Name) ? withheld : admitted).Add(item);
            }

            outcome = outcome with { Admitted = new ServerList(admitted.ToImmutable(), list.Error) { AnnouncesChanges = list.AnnouncesChanges }, Withheld = withheld.ToImmutable() };
        }

        list.PinOutcome = new PinMemo(pins.Pinned, pins.Mode, outcome);
        return outcome;
    }
}
