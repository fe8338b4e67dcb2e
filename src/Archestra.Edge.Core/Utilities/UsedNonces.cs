namespace Archestra.Edge.Utilities;

/// <summary>
/// The nonces of sealed, self-validating tokens that were used once already (approved consent forms, answered
/// request states): the only memory a replay guard needs. Bounded at a maximum; each nonce is kept until its token
/// expires, and the oldest go first when the set is full (a token that old is near its own expiry).
/// </summary>
internal sealed class UsedNonces(int maximum, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly Queue<(string Nonce, DateTimeOffset ExpiresAt)> _order = new();

    public int Maximum => maximum;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _used.Count;
            }
        }
    }

    public bool Contains(string nonce)
    {
        lock (_lock)
        {
            return _used.Contains(nonce);
        }
    }

    /// <summary>Records a nonce whose token expires at <paramref name="expiresAt"/>; false when it was used already.</summary>
    public bool TryUse(string nonce, DateTimeOffset expiresAt)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            while (_order.TryPeek(out var oldest) && (oldest.ExpiresAt < now || _used.Count >= maximum))
            {
                _order.Dequeue();
                _used.Remove(oldest.Nonce);
            }

            if (!_used.Add(nonce))
            {
                return false;
            }

            _order.Enqueue((nonce, expiresAt));
            return true;
        }
    }
}
