namespace Archestra.Edge.Configuration.Documents;

/// <summary>The <c>server:</c> section: where the gateway listens and whom it lets in.</summary>
internal sealed class ServerSectionConfig
{
    /// <summary>Kestrel URLs. Default <c>["http://127.0.0.1:9000"]</c>.</summary>
    public List<string>? Listen { get; set; }

    /// <summary>The base URL clients use. Default: the first listen URL.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>
    /// The read-only web console at <c>/console</c> (profiles, servers, activity, configuration). Default true;
    /// with <c>auth:</c> people sign in with a token, without it only local clients see it.
    /// </summary>
    public bool? Console { get; set; }

    public TlsConfig? Tls { get; set; }

    /// <summary>Host header allow-list (DNS-rebinding protection). Loopback names and the public URL's host are always allowed; <c>*</c> allows any.</summary>
    public List<string>? AllowedHosts { get; set; }

    /// <summary>Browser origins allowed in addition to those on allowed hosts; <c>*</c> allows any.</summary>
    public List<string>? AllowedOrigins { get; set; }

    /// <summary>Directory for local state. Default <c>./data</c>, relative to the config file.</summary>
    public string? DataDir { get; set; }

    /// <summary>
    /// With <c>storage: postgres</c>: the URL the other instances of the fleet reach this one at, to forward the
    /// requests of the sessions it owns. Default: the first listen URL, with a wildcard address replaced by this
    /// machine's first non-loopback address.
    /// </summary>
    public string? AdvertiseUrl { get; set; }
}

/// <summary>TLS for https listen URLs: PEM certificate and key files.</summary>
internal sealed class TlsConfig
{
    public string? Certificate { get; set; }

    public string? Key { get; set; }
}
