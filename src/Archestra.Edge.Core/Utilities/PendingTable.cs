using System.Collections.Concurrent;

namespace Archestra.Edge.Utilities;

/// <summary>Something kept in a <see cref="PendingTable{T}"/> under its numeric id.</summary>
internal interface IPendingItem
{
    long Id { get; }
}

/// <summary>
/// Items waiting for an answer, by monotonically increasing id: a fixed array of slots claimed with
/// compare-and-swap (no lock, no allocation), with a dictionary for the rare id whose slot is still taken.
/// </summary>
internal sealed class PendingTable<T>
    where T : class, IPendingItem
{
    private const int Size = 1024;
    private const int Mask = Size - 1;

    private readonly T?[] _slots = new T?[Size];
    private readonly ConcurrentDictionary<long, T> _overflow = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Add(T item)
    {
        ref var slot = ref _slots[item.Id & Mask];
        if (Interlocked.CompareExchange(ref slot, item, null) is not null)
        {
            _overflow[item.Id] = item;
        }

        Interlocked.Increment(ref _count);
    }

    public bool TryGet(long id, out T item)
    {
        var candidate = Volatile.Read(ref _slots[id & Mask]);
        if (candidate is not null && candidate.Id == id)
        {
            item = candidate;
            return true;
        }

        return _overflow.TryGetValue(id, out item!);
    }

    public bool TryRemove(long id, out T item)
    {
        ref var slot = ref _slots[id & Mask];
        var candidate = Volatile.Read(ref slot);
        if (candidate is not null && candidate.Id == id && Interlocked.CompareExchange(ref slot, null, candidate) == candidate)
        {
            Interlocked.Decrement(ref _count);
            item = candidate;
            return true;
        }

        if (!_overflow.IsEmpty && _overflow.TryRemove(id, out item!))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        item = null!;
        return false;
    }

    /// <summary>Removes <paramref name="item"/> if it is still there.</summary>
    public void Remove(T item)
    {
        if (TryGet(item.Id, out var current) && ReferenceEquals(current, item))
        {
            TryRemove(item.Id, out _);
        }
    }

    /// <summary>Takes every item out (cold path: the upstream ended).</summary>
    public List<T> RemoveAll()
    {
        var all = new List<T>();
        for (var i = 0; i < _slots.Length; i++)
        {
            if (Interlocked.Exchange(ref _slots[i], null) is { } item)
            {
                all.Add(item);
                Interlocked.Decrement(ref _count);
            }
        }

        foreach (var key in _overflow.Keys)
        {
            if (_overflow.TryRemove(key, out var item))
            {
                all.Add(item);
                Interlocked.Decrement(ref _count);
            }
        }

        return all;
    }

    /// <summary>The item with the smallest id (cold path: attributing a server-to-client request).</summary>
    public T? Oldest()
    {
        T? oldest = null;
        foreach (var item in _slots)
        {
            if (item is not null && (oldest is null || item.Id < oldest.Id))
            {
                oldest = item;
            }
        }

        foreach (var (_, item) in _overflow)
        {
            if (oldest is null || item.Id < oldest.Id)
            {
                oldest = item;
            }
        }

        return oldest;
    }

    /// <summary>Every item (cold path).</summary>
    public List<T> Snapshot()
    {
        var all = new List<T>();
        foreach (var item in _slots)
        {
            if (item is not null)
            {
                all.Add(item);
            }
        }

        foreach (var (_, item) in _overflow)
        {
            all.Add(item);
        }

        return all;
    }
}
