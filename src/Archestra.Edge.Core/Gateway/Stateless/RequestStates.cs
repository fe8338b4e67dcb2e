using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;

namespace Archestra.Edge.Gateway.Stateless;

/// <summary>What a <c>requestState</c> the gateway handed out says, once its seal is checked.</summary>
/// <param name="Profile">The profile the request was made on.</param>
/// <param name="Caller">The principal who made it.</param>
/// <param name="Server">The upstream server the answers belong to.</param>
/// <param name="UpstreamState">The upstream's own <c>requestState</c> (a 2026-07-28 server's), if it gave one.</param>
/// <param name="Parked">The gateway's parked call waiting for the answers (a 2025 server's request during a call), or 0.</param>
/// <param name="Owner">The instance of the fleet where the parked call waits (stamped when sealed), or null.</param>
internal sealed record RequestState(string Profile, string Caller, string Server, string? UpstreamState, long Parked, string? Owner = null)
{
    /// <summary>The call a policy approval was asked (or given) for: a digest of its server, tool and arguments.</summary>
    public string? Approval { get; init; }
}

/// <summary>
/// The <c>requestState</c> of the <c>InputRequiredResult</c>s the gateway answers 2026-07-28 clients with: the
/// profile, the caller, the server and the upstream's own state sealed with HMAC-SHA256 under a key of this process (a fleet's shared key),
/// with an expiry and a nonce. Checking one needs no table: a state that was altered, is another caller's or another
/// profile's, or has expired is refused. The only memory is the nonces of states already used (a state is good for
/// one retry), bounded at <see cref="MaxUsedNonces"/> and dropped as they expire.
/// </summary>
internal sealed class RequestStates
{
    internal const int MaxUsedNonces = 10_000;

    /// <summary>How long a client has to answer and retry.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    // From getrandom(2), not RandomNumberGenerator: making the service must not map libcrypto (≈ 4 MiB of idle RSS);
    // OpenSSL is loaded by the first HMAC, when a 2026-07-28 client first needs a state.
    private readonly byte[] _key;
    private readonly TimeProvider _time;
    private readonly Utilities.UsedNonces _used;

    /// <param name="key">The sealing key: a fleet's shared one (a retry may land on any instance), or null for one of this process.</param>
    /// <param name="instance">This instance's id in its fleet: stamped into the states of parked calls, which only it can resume.</param>
    public RequestStates(TimeProvider time, byte[]? key = null, string? instance = null)
    {
        Instance = instance;
        _key = key ?? NewKey();
        _time = time;
        _used = new Utilities.UsedNonces(MaxUsedNonces, time);
    }

    private static byte[] NewKey()
    {
        var key = new byte[32];
        Utilities.SecureRandom.Fill(key);
        return key;
    }

    /// <summary>This instance's id in its fleet (null alone).</summary>
    public string? Instance { get; }

    /// <summary>A sealed state, as the JSON string token to put into the result.</summary>
    public byte[] Seal(RequestState state)
    {
        var payload = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(payload))
        {
            writer.WriteStartObject();
            writer.WriteString("p", state.Profile);
            writer.WriteString("c", state.Caller);
            writer.WriteString("s", state.Server);
            if (state.UpstreamState is { } upstream)
            {
                writer.WriteString("u", upstream);
            }

            if (state.Parked != 0)
            {
                writer.WriteNumber("k", state.Parked);
                if (Instance is not null)
                {
                    writer.WriteString("o", Instance);
                }
            }

            if (state.Approval is { } approval)
            {
                writer.WriteString("a", approval);
            }

            writer.WriteNumber("e", _time.GetUtcNow().Add(Lifetime).ToUnixTimeSeconds());
            writer.WriteString("n", Utilities.SecureRandom.HexString(16));
            writer.WriteEndObject();
        }

        var text = "\"" + Base64Url.EncodeToString(payload.WrittenSpan) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(_key, payload.WrittenSpan)) + "\"";
        return System.Text.Encoding.ASCII.GetBytes(text);
    }

    /// <summary>Opens a state a client sent back: null (and why) unless it is intact, unexpired, unused, and this caller's on this profile.</summary>
    public (RequestState? State, string? Error) Open(ReadOnlySpan<byte> sealedText, string profile, string caller)
    {
        var dot = sealedText.IndexOf((byte)'.');
        if (dot <= 0)
        {
            return (null, "the requestState is not one this gateway issued");
        }

        byte[] payload, mac;
        try
        {
            payload = Base64Url.DecodeFromUtf8(sealedText[..dot]);
            mac = Base64Url.DecodeFromUtf8(sealedText[(dot + 1)..]);
        }
        catch (FormatException)
        {
            return (null, "the requestState is not one this gateway issued");
        }

        if (!CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(_key, payload), mac))
        {
            return (null, "the requestState failed its integrity check (altered, or issued before the gateway restarted)");
        }

        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        var state = new RequestState(
            root.GetProperty("p").GetString()!,
            root.GetProperty("c").GetString()!,
            root.GetProperty("s").GetString()!,
            root.TryGetProperty("u", out var u) ? u.GetString() : null,
            root.TryGetProperty("k", out var k) ? k.GetInt64() : 0,
            root.TryGetProperty("o", out var o) ? o.GetString() : null)
        {
            Approval = root.TryGetProperty("a", out var a) ? a.GetString() : null,
        };
        var expires = DateTimeOffset.FromUnixTimeSeconds(root.GetProperty("e").GetInt64());
        var nonce = root.GetProperty("n").GetString()!;
        if (expires < _time.GetUtcNow())
        {
            return (null, "the requestState has expired; make the request again without it");
        }

        if (state.Profile != profile || state.Caller != caller)
        {
            return (null, "the requestState belongs to another caller or profile");
        }

        if (!_used.TryUse(nonce, expires))
        {
            return (null, "the requestState was used already; each one answers one InputRequiredResult");
        }

        return (state, null);
    }

    /// <summary>The number of used nonces remembered (for the bound's test).</summary>
    internal int UsedCount => _used.Count;
}
