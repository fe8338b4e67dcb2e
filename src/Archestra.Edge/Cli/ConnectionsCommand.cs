using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Archestra.Edge.Storage;
using Archestra.Edge.Upstreams.OAuth;
using Microsoft.Extensions.Logging.Abstractions;

namespace Archestra.Edge.Cli;

/// <summary>
/// <c>connections connect|list|revoke</c>: OAuth connections to remote servers with <c>oauth:</c>, the organisation's
/// (default) or a team's or user's (<c>--owner team:platform</c>). <c>connect</c> discovers the server's authorization
/// server, identifies the gateway as a client (configured, its client ID metadata document, or registered now),
/// prints the authorization URL and waits for the browser to come back to a loopback address of this command
/// (RFC 8252), then exchanges the code (PKCE) and keeps the tokens sealed in the state store, where a running gateway
/// finds them within two seconds. <c>revoke</c> tells the authorization server first (RFC 7009), then forgets them.
/// </summary>
internal static class ConnectionsCommand
{
    private const string UsageText = """
        usage: archestra-edge connections connect SERVER [--owner org|team:NAME|user:NAME] [--scope "A B"] [--port N] [--timeout 5m] [--config FILE] [--data-dir DIR]
               archestra-edge connections list [--config FILE] [--data-dir DIR]
               archestra-edge connections revoke SERVER [--owner org|team:NAME|user:NAME] [--config FILE] [--data-dir DIR]
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("connect" or "list" or "revoke"))
        {
            Console.Error.WriteLine(UsageText);
            return CommandLine.Usage;
        }

        var verb = args[0];
        string? server = null;
        var port = 0;
        var timeout = TimeSpan.FromMinutes(5);
        var owner = Model.ConnectionOwner.Org;
        string? scope = null;
        var rest = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is >= 0 and <= 65535:
                    port = p;
                    i++;
                    break;
                case "--timeout" when i + 1 < args.Length && Utilities.Units.TryParseDuration(args[i + 1], out var t):
                    timeout = t;
                    i++;
                    break;
                case "--owner" when i + 1 < args.Length && (args[i + 1] == Model.ConnectionOwner.Org
                    || (args[i + 1].StartsWith("team:", StringComparison.Ordinal) || args[i + 1].StartsWith("user:", StringComparison.Ordinal)) && args[i + 1].Length > 5):
                    owner = args[i + 1];
                    i++;
                    break;
                case "--scope" when i + 1 < args.Length:
                    scope = args[i + 1];
                    i++;
                    break;
                default:
                    if (!CommandLine.TakeCommonOrPositional(args, ref i, rest, ref server, positionalAllowed: verb != "list"))
                    {
                        Console.Error.WriteLine(UsageText);
                        return CommandLine.Usage;
                    }

                    break;
            }
        }

        if (verb != "list" && server is null)
        {
            Console.Error.WriteLine($"error: name the server\n{UsageText}");
            return CommandLine.Usage;
        }

        if (!CommandLine.TryLoadConfig([.. rest], out _, out var snapshot, out var exitCode))
        {
            return exitCode;
        }

        if (snapshot.Storage.EncryptionKeys.IsEmpty)
        {
            Console.Error.WriteLine("error: storage.encryption_key is not set: the gateway keeps no OAuth connections");
            return CommandLine.Failure;
        }

        var store = StateStores.Open(snapshot, "cli", NullLogger.Instance).Connections;
        var vault = new ConnectionVault(snapshot.Storage.EncryptionKeys);
        using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(10) };
        using var http = AuthorizationDiscovery.CreateClient(handler);
        switch (verb)
        {
            case "list":
                Console.Out.WriteLine($"{"SERVER",-24} {"OWNER",-16} {"UPDATED",-17} {"EXPIRES",-17} SCOPE");
                foreach (var row in store.List())
                {
                    var info = ConnectionRemoval.Describe(row, vault);
                    var expires = info.ExpiresAt is { } at ? Time(at) : info.Opened ? "never" : "-";
                    Console.Out.WriteLine($"{row.Server,-24} {row.Owner,-16} {Time(row.UpdatedAt),-17} {expires,-17} {info.Scope}{(info.Problem is { } problem ? $"  ({problem})" : string.Empty)}");
                }

                return CommandLine.Success;
            case "revoke":
                using (var cancelRevoke = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
                {
                    var (found, problem) = await ConnectionRemoval.RemoveAsync(http, store, vault, server!, owner, cancelRevoke.Token).ConfigureAwait(false);
                    if (!found)
                    {
                        Console.Error.WriteLine($"error: no connection of {owner} to '{server}'");
                        return CommandLine.Failure;
                    }

                    Console.Out.WriteLine(problem is null
                        ? $"revoked the connection of {owner} to '{server}' at its authorization server and here: a running gateway stops using it within two seconds"
                        : $"removed the connection of {owner} to '{server}' (not revoked upstream: {problem}): a running gateway stops using it within two seconds");
                    return CommandLine.Success;
                }
        }

        if (!snapshot.ServersByName.TryGetValue(server!, out var model) || model.Remote?.OAuth is not { } oauth)
        {
            Console.Error.WriteLine($"error: '{server}' is not a remote server with oauth: in {snapshot.SourcePath}");
            return CommandLine.Usage;
        }

        if (oauth.ClientCredentials && owner == Model.ConnectionOwner.Org)
        {
            Console.Out.WriteLine($"'{server}' is a machine connection (grant: client_credentials): the gateway gets its tokens itself, on the first call");
            return CommandLine.Success;
        }

        if (oauth.ClientCredentials && owner != Model.ConnectionOwner.Org)
        {
            Console.Error.WriteLine($"error: '{server}' is a machine connection (grant: client_credentials): the organisation's only");
            return CommandLine.Usage;
        }

        if (owner != Model.ConnectionOwner.Org && !oauth.Owners.Contains(owner[..owner.IndexOf(':', StringComparison.Ordinal)]))
        {
            Console.Error.WriteLine($"error: '{server}' takes no connections of {owner[..owner.IndexOf(':', StringComparison.Ordinal)]}s (oauth.owners: [{string.Join(", ", oauth.Owners)}])");
            return CommandLine.Usage;
        }

        using var cancel = new CancellationTokenSource(timeout);
        var (authorization, discoveryError) = await AuthorizationDiscovery.DiscoverAsync(http, model.Remote.Url, cancel.Token).ConfigureAwait(false);
        if (authorization is null)
        {
            Console.Error.WriteLine($"error: cannot find how '{server}' is authorized: {discoveryError}");
            return CommandLine.Failure;
        }

        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        var redirect = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/callback");
        var metadataDocument = snapshot.Listener.PublicBase is { } publicBase ? new Uri($"{publicBase}{Hosting.Connections.ConnectPageEndpoints.MetadataDocumentPath}") : null;
        var (client, clientError) = await UpstreamOAuthClient.IdentifyAsync(http, authorization, oauth.ClientId, oauth.ClientSecret, redirect, $"Archestra Edge ({server})", cancel.Token, metadataDocument).ConfigureAwait(false);
        if (client is null)
        {
            Console.Error.WriteLine($"error: {clientError}");
            return CommandLine.Failure;
        }

        var pending = UpstreamOAuthClient.BeginAuthorization(authorization, client, redirect, scope ?? oauth.Scope);
        Console.Out.WriteLine($"Open this address in a browser to connect '{server}' (waiting {Utilities.Units.FormatDuration(timeout)}):");
        Console.Out.WriteLine(pending.AuthorizationUrl.AbsoluteUri);
        await Console.Out.FlushAsync().ConfigureAwait(false);

        var (code, callbackError) = await CallbackAsync(listener, pending.State, cancel.Token).ConfigureAwait(false);
        if (code is null)
        {
            Console.Error.WriteLine($"error: {callbackError}");
            return CommandLine.Failure;
        }

        var (tokens, tokenError) = await UpstreamOAuthClient.ExchangeCodeAsync(http, authorization, client, pending, code, cancel.Token).ConfigureAwait(false);
        if (tokens is null)
        {
            Console.Error.WriteLine($"error: the authorization server did not issue tokens: {tokenError}");
            return CommandLine.Failure;
        }

        var connection = new UpstreamConnection(authorization, client, tokens);
        store.Put(server!, owner, vault.Seal(server!, owner, connection.Serialize()), DateTimeOffset.UtcNow);
        Console.Out.WriteLine($"connected '{server}' for {(owner == Model.ConnectionOwner.Org ? "the organisation" : owner)}{(tokens.Scope is { } granted ? $" (scope: {granted})" : string.Empty)}{(tokens.RefreshToken is null ? "; no refresh token: connect again when it expires" : string.Empty)}");
        return CommandLine.Success;
    }

    /// <summary>The browser's one request to the loopback redirect URI: the code if the state matches, else why not.</summary>
    private static async Task<(string? Code, string? Error)> CallbackAsync(TcpListener listener, string state, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                using var socket = await listener.AcceptTcpClientAsync(cancellationToken).ConfigureAwait(false);
                var stream = socket.GetStream();
                var buffer = new byte[8192];
                var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                var line = Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n", 2)[0].Split(' ');
                if (line.Length < 2 || line[0] != "GET" || !line[1].StartsWith("/callback?", StringComparison.Ordinal))
                {
                    await RespondAsync(stream, 404, "Not found.", cancellationToken).ConfigureAwait(false);
                    continue; // a favicon, say
                }

                var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(line[1]["/callback".Length..]);
                string? Value(string name) => query.TryGetValue(name, out var values) ? values.ToString() : null;
                if (Value("state") != state)
                {
                    await RespondAsync(stream, 400, "This answer is not for the connection being made.", cancellationToken).ConfigureAwait(false);
                    return (null, "the authorization answer carried another state (not this connection's)");
                }

                if (Value("error") is { } error)
                {
                    await RespondAsync(stream, 200, "The connection was not made. You can close this tab.", cancellationToken).ConfigureAwait(false);
                    return (null, $"the authorization server answered {error}{(Value("error_description") is { } why ? $": {why}" : string.Empty)}");
                }

                await RespondAsync(stream, 200, "Connected. You can close this tab.", cancellationToken).ConfigureAwait(false);
                return Value("code") is { Length: > 0 } code ? (code, null) : (null, "the authorization answer carried no code");
            }
        }
        catch (OperationCanceledException)
        {
            return (null, "nobody completed the authorization in time");
        }
    }

    private static async Task RespondAsync(NetworkStream stream, int status, string text, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes($"<!doctype html><meta charset=utf-8><title>Archestra Edge</title><p>{WebUtility.HtmlEncode(text)}</p>");
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {(status == 200 ? "OK" : "Error")}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(head, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
    }

    private static string Time(DateTimeOffset at) => at.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
}
