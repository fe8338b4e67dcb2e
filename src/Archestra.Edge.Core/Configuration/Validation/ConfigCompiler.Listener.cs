using System.Collections.Immutable;
using Archestra.Edge.Configuration.Documents;
using Archestra.Edge.Model;

namespace Archestra.Edge.Configuration.Validation;

internal sealed partial class ConfigCompiler
{
    private const string DefaultListenUrl = "http://127.0.0.1:9000";

    private ListenerSettings? CompileListener(ServerSectionConfig section)
    {
        var listen = ImmutableArray.CreateBuilder<Uri>();
        var listenTexts = section.Listen is { Count: > 0 } ? section.Listen : [DefaultListenUrl];
        var needsTls = false;
        for (var i = 0; i < listenTexts.Count; i++)
        {
            var path = $"server.listen[{i}]";
            if (!Uri.TryCreate(listenTexts[i], UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                _diagnostics.Add(path, $"'{listenTexts[i]}' is not an http or https URL", "for example http://127.0.0.1:9000");
                continue;
            }

            if (uri.AbsolutePath != "/")
            {
                _diagnostics.Add(path, $"a listen URL has no path (found '{uri.AbsolutePath}')", "endpoints are always served at /v1/mcp/<profile>");
                continue;
            }

            needsTls |= uri.Scheme == Uri.UriSchemeHttps;
            listen.Add(uri);
        }

        Uri? publicUrl = null;
        if (section.PublicUrl is { } publicText)
        {
            if (Uri.TryCreate(publicText, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps))
            {
                publicUrl = parsed;
            }
            else
            {
                _diagnostics.Add("server.public_url", $"'{publicText}' is not an http or https URL");
            }
        }

        TlsSettings? tls = null;
        if (section.Tls is { } tlsConfig)
        {
            if (tlsConfig.Certificate is null || tlsConfig.Key is null)
            {
                _diagnostics.Add("server.tls", "tls needs both certificate and key (PEM files)");
            }
            else
            {
                var certificate = ResolvePath(tlsConfig.Certificate);
                var key = ResolvePath(tlsConfig.Key);
                if (!File.Exists(certificate))
                {
                    _diagnostics.Add("server.tls.certificate", $"file '{certificate}' does not exist");
                }

                if (!File.Exists(key))
                {
                    _diagnostics.Add("server.tls.key", $"file '{key}' does not exist");
                }

                tls = new TlsSettings(certificate, key);
            }
        }
        else if (needsTls)
        {
            _diagnostics.Add("server.listen", "an https listen URL needs server.tls (certificate and key)");
        }

        var hosts = new List<string> { "localhost", "127.0.0.1", "::1" };
        var anyHost = false;
        foreach (var uri in listen)
        {
            if (!IsWildcardHost(uri.Host))
            {
                hosts.Add(uri.IdnHost);
            }
        }

        if (publicUrl is not null)
        {
            hosts.Add(publicUrl.IdnHost);
        }

        var allowedHosts = section.AllowedHosts ?? [];
        for (var i = 0; i < allowedHosts.Count; i++)
        {
            var host = allowedHosts[i].Trim();
            if (host == "*")
            {
                anyHost = true;
            }
            else if (host.Length == 0 || host.Contains('/') || host.Contains(':') && !host.StartsWith('['))
            {
                _diagnostics.Add($"server.allowed_hosts[{i}]", $"'{allowedHosts[i]}' is not a host name", "give a bare host (example.com), without scheme or port; '*' allows any");
            }
            else
            {
                hosts.Add(host);
            }
        }

        var origins = new List<string>();
        var anyOrigin = false;
        var allowedOrigins = section.AllowedOrigins ?? [];
        for (var i = 0; i < allowedOrigins.Count; i++)
        {
            var origin = allowedOrigins[i].Trim();
            if (origin == "*")
            {
                anyOrigin = true;
            }
            else if (Uri.TryCreate(origin, UriKind.Absolute, out var originUri) && originUri.AbsolutePath == "/" && (originUri.Scheme == Uri.UriSchemeHttp || originUri.Scheme == Uri.UriSchemeHttps))
            {
                origins.Add(originUri.GetLeftPart(UriPartial.Authority));
            }
            else
            {
                _diagnostics.Add($"server.allowed_origins[{i}]", $"'{allowedOrigins[i]}' is not an origin", "an origin is scheme://host[:port], e.g. https://app.example.com; '*' allows any");
            }
        }

        Uri? advertiseUrl = null;
        if (section.AdvertiseUrl is { } advertiseText)
        {
            if (Uri.TryCreate(advertiseText, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps)
                && parsed.AbsolutePath == "/" && !IsWildcardHost(parsed.Host) && parsed.Query.Length == 0)
            {
                advertiseUrl = parsed;
            }
            else
            {
                _diagnostics.Add("server.advertise_url", $"'{advertiseText}' is not an http or https URL of one host, without path",
                    "the address the other instances reach this one at, e.g. http://10.0.0.5:9000 or http://${env:POD_IP}:9000");
            }
        }

        var dataDirectory = ResolvePath(section.DataDir ?? "./data");
        return new ListenerSettings(listen.ToImmutable(), publicUrl, tls, new HostPolicy(hosts, anyHost, origins, anyOrigin), dataDirectory, advertiseUrl)
        {
            Console = section.Console ?? true,
        };
    }

    internal static bool IsWildcardHost(string host) => host is "0.0.0.0" or "[::]" or "::" or "*" or "+";
}
