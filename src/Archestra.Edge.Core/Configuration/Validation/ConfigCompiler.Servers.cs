using System.Collections.Immutable;
using Archestra.Edge.Configuration.Documents;
using Archestra.Edge.Model;

namespace Archestra.Edge.Configuration.Validation;

internal sealed partial class ConfigCompiler
{
    /// <summary>The embedded servers this build knows.</summary>
    internal static readonly string[] BuiltinServers = ["archestra"];

    private ImmutableArray<ServerModel> CompileServers(Dictionary<string, UpstreamServerConfig>? servers, LimitSettings limits)
    {
        var result = ImmutableArray.CreateBuilder<ServerModel>();
        if (servers is null)
        {
            return result.ToImmutable();
        }

        foreach (var (name, server) in servers)
        {
            var path = $"servers.{name}";
            if (!IsValidName(name))
            {
                _diagnostics.Add(path, $"'{name}' is not a valid server name", "use 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit");
            }

            if (server is null)
            {
                _diagnostics.Add(path, "a server needs one of: remote, process, container, builtin");
                continue;
            }

            var kinds = (server.Remote is null ? 0 : 1) + (server.Process is null ? 0 : 1) + (server.Container is null ? 0 : 1) + (server.Builtin is null ? 0 : 1);
            if (kinds != 1)
            {
                _diagnostics.Add(path, kinds == 0 ? "a server needs one of: remote, process, container, builtin" : "a server has exactly one of: remote, process, container, builtin",
                    "remote: { url: … } for HTTP servers, process: { command: … } for stdio servers, container: { image: … } for containers, builtin: archestra");
                continue;
            }

            var callTimeout = Duration(server.CallTimeout, $"{path}.call_timeout", limits.CallTimeout);
            var startTimeout = Duration(server.StartTimeout, $"{path}.start_timeout", ServerModel.DefaultStartTimeout);
            var replicas = server.Replicas ?? 1;
            if (replicas is < 1 or > 64)
            {
                _diagnostics.Add($"{path}.replicas", $"must be between 1 and 64 (found {replicas})");
                replicas = 1;
            }
            else if (replicas > 1 && server.Process is null && server.Container is null)
            {
                _diagnostics.Add($"{path}.replicas", "replicas apply to process and container servers only", "a remote server scales on its side; the builtin server needs none");
                replicas = 1;
            }

            var selfHosted = server.Process is not null || server.Container is not null;
            var supervision = CompileSupervision(server, path, selfHosted, callTimeout);

            var sharing = server.Sharing switch
            {
                null or "shared" => ServerSharing.Shared,
                "per_session" => ServerSharing.PerSession,
                _ => InvalidSharing($"{path}.sharing", server.Sharing),
            };
            if (sharing == ServerSharing.PerSession && server.Builtin is not null)
            {
                _diagnostics.Add($"{path}.sharing", "per_session applies to process and remote servers", "the builtin server holds no per-session state");
            }
            else if (sharing == ServerSharing.PerSession && replicas > 1)
            {
                _diagnostics.Add($"{path}.replicas", "replicas and sharing: per_session exclude each other", "with per_session every downstream session already gets its own process");
            }

            var listRefresh = server.ListRefresh is "off" ? null : (TimeSpan?)Duration(server.ListRefresh, $"{path}.list_refresh", ServerModel.DefaultListRefresh);
            var credentialNames = CredentialNamesOf(server, path);
            var pinning = server.Pinning switch
            {
                null or "off" => PinningMode.Off,
                "warn" => PinningMode.Warn,
                "block" => PinningMode.Block,
                _ => InvalidPinning($"{path}.pinning", server.Pinning),
            };
            if (server.Remote is { } remote)
            {
                var model = CompileRemote(remote, $"{path}.remote");
                if (model is not null)
                {
                    result.Add(new ServerModel(name, ServerKind.Remote, callTimeout, model, null, null) { StartTimeout = startTimeout, Sharing = sharing, ListRefresh = listRefresh, Pinning = pinning, Supervision = supervision, CredentialNames = credentialNames });
                }
            }
            else if (server.Process is { } process)
            {
                var model = CompileProcess(process, $"{path}.process");
                if (model is not null)
                {
                    result.Add(new ServerModel(name, ServerKind.Process, callTimeout, null, model, null) { StartTimeout = startTimeout, Replicas = replicas, Sharing = sharing, ListRefresh = listRefresh, Pinning = pinning, Supervision = supervision, CredentialNames = credentialNames });
                }
            }
            else if (server.Container is { } container)
            {
                var model = CompileContainer(container, $"{path}.container");
                if (model is not null)
                {
                    result.Add(new ServerModel(name, ServerKind.Container, callTimeout, null, null, null) { StartTimeout = startTimeout, Container = model, Replicas = replicas, Sharing = sharing, ListRefresh = listRefresh, Pinning = pinning, Supervision = supervision, CredentialNames = credentialNames });
                }
            }
            else if (Array.IndexOf(BuiltinServers, server.Builtin) < 0)
            {
                _diagnostics.Add($"{path}.builtin", $"unknown builtin server '{server.Builtin}'", $"available: {string.Join(", ", BuiltinServers)}");
            }
            else
            {
                result.Add(new ServerModel(name, ServerKind.Builtin, callTimeout, null, null, server.Builtin) { StartTimeout = startTimeout, Pinning = pinning });
            }
        }

        return result.ToImmutable();
    }

    /// <summary>
    /// The credentials a server's headers (remote) or environment (process, container) refer to. Anywhere else
    /// (a URL, a command, arguments) a per-caller secret has no place.
    /// </summary>
    private ImmutableArray<string> CredentialNamesOf(UpstreamServerConfig server, string path)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        void Collect(IEnumerable<KeyValuePair<string, string>>? values)
        {
            foreach (var (_, value) in values ?? [])
            {
                foreach (var name in CredentialTemplate.Names(value ?? string.Empty))
                {
                    names.Add(name);
                }
            }
        }

        Collect(server.Remote?.Headers);
        Collect(server.Process?.Env);
        Collect(server.Container?.Env);
        var elsewhere = new List<string?> { server.Remote?.Url, server.Process?.Command, server.Process?.WorkingDir, server.Container?.Image };
        elsewhere.AddRange(server.Process?.Args ?? []);
        elsewhere.AddRange(server.Container?.Args ?? []);
        if (elsewhere.Any(v => v is not null && CredentialTemplate.HasReferences(v)))
        {
            _diagnostics.Add(path, "${credential:…} may only appear in remote headers or in env", "put the secret in a header or an environment variable");
        }

        return [.. names];
    }

    private ServerSharing InvalidSharing(string path, string value)
    {
        _diagnostics.Add(path, $"unknown sharing '{value}'", "use shared (one upstream session for all clients) or per_session (one per client session)");
        return ServerSharing.Shared;
    }

    private PinningMode InvalidPinning(string path, string value)
    {
        _diagnostics.Add(path, $"unknown pinning '{value}'", "use off, warn (serve changed definitions and report them) or block (withhold them); record definitions with archestra-edge pin");
        return PinningMode.Off;
    }

    private RemoteServerModel? CompileRemote(RemoteServerConfig remote, string path)
    {
        var valid = true;
        Uri? url = null;
        if (remote.Url is null)
        {
            _diagnostics.Add(path, "a remote server needs a url");
            valid = false;
        }
        else if (!Uri.TryCreate(remote.Url, UriKind.Absolute, out url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            _diagnostics.Add($"{path}.url", $"'{remote.Url}' is not an http or https URL", "for example https://mcp.example.com/mcp");
            valid = false;
        }
        else if (url.UserInfo.Length > 0)
        {
            _diagnostics.Add($"{path}.url", "the URL carries credentials", "put secrets in headers, from ${env:…} or ${file:…}");
            valid = false;
        }

        var transport = RemoteTransport.StreamableHttp;
        switch (remote.Transport)
        {
            case null or "streamable_http":
                break;
            case "sse":
                transport = RemoteTransport.Sse;
                break;
            default:
                _diagnostics.Add($"{path}.transport", $"unknown transport '{remote.Transport}'", "use streamable_http, or sse for servers on the legacy HTTP+SSE transport (2024-11-05)");
                valid = false;
                break;
        }

        var headers = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var (header, value) in remote.Headers ?? [])
        {
            if (!IsHeaderName(header))
            {
                _diagnostics.Add($"{path}.headers.{header}", $"'{header}' is not a valid HTTP header name");
                valid = false;
            }
            else if (IsReservedHeader(header))
            {
                _diagnostics.Add($"{path}.headers.{header}", $"'{header}' is set by the gateway itself and cannot be configured");
                valid = false;
            }
            else if (value is null || value.AsSpan().ContainsAny('\r', '\n'))
            {
                _diagnostics.Add($"{path}.headers.{header}", "a header value must be a single line");
                valid = false;
            }
            else
            {
                headers.Add(new(header, value));
            }
        }

        RemoteOAuthModel? oauth = null;
        if (remote.Oauth is { } configured)
        {
            if (headers.Any(static h => h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase)))
            {
                _diagnostics.Add($"{path}.headers.Authorization", "an Authorization header and oauth exclude each other", "the connection's access token is the Authorization header");
                valid = false;
            }

            if (configured.ClientSecret is not null && configured.ClientId is null)
            {
                _diagnostics.Add($"{path}.oauth.client_secret", "a client secret needs its client_id");
                valid = false;
            }

            var machine = configured.Grant switch
            {
                null or "authorization_code" => false,
                "client_credentials" => true,
                _ => InvalidGrant($"{path}.oauth.grant", configured.Grant),
            };
            if (machine && (configured.ClientId is null || configured.ClientSecret is null))
            {
                _diagnostics.Add($"{path}.oauth", "grant: client_credentials needs client_id and client_secret", "the client the authorization server issued for this machine connection");
                valid = false;
            }

            var owners = ImmutableArray.CreateBuilder<string>();
            foreach (var (owner, i) in (configured.Owners ?? (machine ? [ConnectionOwner.Org] : [ConnectionOwner.User, ConnectionOwner.Team, ConnectionOwner.Org])).Select(static (o, i) => (o, i)))
            {
                if (owner is not (ConnectionOwner.User or ConnectionOwner.Team or ConnectionOwner.Org))
                {
                    _diagnostics.Add($"{path}.oauth.owners[{i}]", $"unknown owner '{owner}'", "use user (the caller's own connection), team (their team's) or org (the organisation's)");
                    valid = false;
                }
                else if (owners.Contains(owner))
                {
                    _diagnostics.Add($"{path}.oauth.owners[{i}]", $"'{owner}' is listed twice");
                    valid = false;
                }
                else
                {
                    owners.Add(owner);
                }
            }

            if (owners.Count == 0 && valid)
            {
                _diagnostics.Add($"{path}.oauth.owners", "no owner listed", "list at least one of user, team, org");
                valid = false;
            }

            if (machine && owners.Any(static o => o != ConnectionOwner.Org))
            {
                _diagnostics.Add($"{path}.oauth.owners", "a machine connection (grant: client_credentials) is the organisation's only", "leave owners out, or set it to [org]");
                valid = false;
            }

            var scopes = configured.Scopes?.Where(static s => !string.IsNullOrWhiteSpace(s)).ToArray() ?? [];
            oauth = new RemoteOAuthModel(configured.ClientId, configured.ClientSecret, scopes.Length == 0 ? null : string.Join(' ', scopes))
            {
                ClientCredentials = machine,
                Owners = owners.ToImmutable(),
            };
        }

        return valid ? new RemoteServerModel(url!, headers.ToImmutable()) { Transport = transport, OAuth = oauth } : null;
    }

    private bool InvalidGrant(string path, string value)
    {
        _diagnostics.Add(path, $"unknown grant '{value}'", "use authorization_code (a person connects) or client_credentials (a machine connection)");
        return false;
    }

    private ProcessServerModel? CompileProcess(ProcessServerConfig process, string path)
    {
        if (string.IsNullOrWhiteSpace(process.Command))
        {
            _diagnostics.Add(path, "a process server needs a command", "for example command: npx, args: [\"-y\", \"@modelcontextprotocol/server-everything\"]");
            return null;
        }

        var environment = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var (key, value) in process.Env ?? [])
        {
            if (key.Length == 0 || key.Contains('='))
            {
                _diagnostics.Add($"{path}.env.{key}", $"'{key}' is not a valid environment variable name");
                continue;
            }

            environment.Add(new(key, value ?? string.Empty));
        }

        var workingDirectory = ResolvePath(process.WorkingDir ?? ".");
        if (process.WorkingDir is not null && !Directory.Exists(workingDirectory))
        {
            _diagnostics.Add($"{path}.working_dir", $"directory '{workingDirectory}' does not exist");
        }

        return new ProcessServerModel(
            process.Command,
            [.. process.Args ?? []],
            environment.ToImmutable(),
            process.InheritEnv ?? false,
            workingDirectory);
    }

    private static bool IsHeaderName(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }

        foreach (var c in name)
        {
            // RFC 9110 token characters.
            if (!char.IsAsciiLetterOrDigit(c) && "!#$%&'*+-.^_`|~".IndexOf(c) < 0)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsReservedHeader(string name)
        => name.Equals("Mcp-Session-Id", StringComparison.OrdinalIgnoreCase)
        || name.Equals("MCP-Protocol-Version", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Accept", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Host", StringComparison.OrdinalIgnoreCase);
}
