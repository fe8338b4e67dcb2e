using System.Globalization;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Configuration;
using Archestra.Edge.Contracts;

namespace Archestra.Edge.Cli;

/// <summary>
/// <c>status</c>: asks a running gateway for <c>/admin/status</c> and prints, per server and replica, its state,
/// pid or container, uptime, restarts, last exit and last error, with the stderr tail of the ones in trouble.
/// </summary>
internal static class StatusCommand
{
    private static readonly string[] s_header = ["SERVER", "KIND", "#", "STATE", "PROTOCOL", "ID", "UPTIME", "RESTARTS", "LAST EXIT"];

    public static async Task<int> RunAsync(string[] args)
    {
        if (!CommandLine.TryParseOptions(args, out var options, out var error))
        {
            Console.Error.WriteLine($"error: {error}");
            return CommandLine.Usage;
        }

        var baseUrl = options.Url;
        if (baseUrl is null)
        {
            var loaded = ConfigLoader.LoadFile(options.ConfigPath!);
            if (!loaded.Succeeded)
            {
                ValidateCommand.Report(loaded.Diagnostics);
                return CommandLine.Failure;
            }

            baseUrl = loaded.Snapshot!.Listener.LocalBase;
        }

        string body;
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(baseUrl), "/admin/status"));
            if ((options.Token ?? Environment.GetEnvironmentVariable("ARCHESTRA_TOKEN")) is { Length: > 0 } token)
            {
                request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");
            }

            using var response = await http.SendAsync(request).ConfigureAwait(false);
            body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"error: {baseUrl} answered HTTP {(int)response.StatusCode}: {body.Trim()}");
                return CommandLine.Failure;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            Console.Error.WriteLine($"error: cannot reach the gateway at {baseUrl}: {ex.Message} (is it running? pass --url)");
            return CommandLine.Failure;
        }

        if (options.Json)
        {
            Console.Out.WriteLine(body.TrimEnd());
            return CommandLine.Success;
        }

        GatewayStatus? status;
        try
        {
            status = JsonSerializer.Deserialize(body, EdgeJsonContext.Default.GatewayStatus);
        }
        catch (JsonException ex)
        {
            Console.Error.WriteLine($"error: {baseUrl}/admin/status is not a status document: {ex.Message}");
            return CommandLine.Failure;
        }

        if (status is null)
        {
            Console.Error.WriteLine($"error: {baseUrl}/admin/status is empty");
            return CommandLine.Failure;
        }

        Console.Out.Write(Render(status));
        return CommandLine.Success;
    }

    /// <summary>A listen URL as a client on this machine reaches it (wildcard hosts become loopback).</summary>
    internal static string Render(GatewayStatus status)
    {
        var text = new StringBuilder();
        var gateway = status.Gateway;
        text.Append(CultureInfo.InvariantCulture,
            $"archestra-edge {gateway.Version}, up {Duration(gateway.UptimeSeconds)}, {gateway.Sessions} session(s), instance {gateway.Instance}, config {gateway.ConfigFingerprint}\n\n");

        if (status.Fleet is { } fleet)
        {
            var converged = fleet.Members.Select(m => m.Fingerprint).Distinct(StringComparer.Ordinal).Count() <= 1;
            text.Append(CultureInfo.InvariantCulture,
                $"fleet: {fleet.Members.Count} live instance(s), {(converged ? "all on this config" : "configs differ")}; {fleet.Forwarded} request(s) forwarded to their session's owner, {fleet.OwnerGone} for gone owners\n");
            foreach (var member in fleet.Members)
            {
                text.Append(CultureInfo.InvariantCulture,
                    $"  {member.Instance}{(member.Instance == fleet.Instance ? " (this one)" : string.Empty)}  {member.Url}  {member.Version}  config {member.Fingerprint}  since {member.StartedAt:O}\n");
            }

            text.Append('\n');
        }

        var rows = new List<string[]> { s_header };
        var troubles = new List<string>();
        foreach (var server in status.Servers)
        {
            foreach (var replica in server.Replicas)
            {
                rows.Add(
                [
                    server.Name,
                    server.Kind,
                    replica.Replica.ToString(CultureInfo.InvariantCulture),
                    replica.State,
                    replica.ProtocolVersion ?? "-",
                    replica.Id ?? "-",
                    replica.UptimeSeconds is { } uptime ? Duration(uptime) : "-",
                    replica.Restarts.ToString(CultureInfo.InvariantCulture),
                    Shorten(replica.LastExit ?? "-", 60),
                ]);

                if (replica.State is "failed" or "crash_loop")
                {
                    troubles.Add($"{server.Name} #{replica.Replica}: {replica.LastError ?? replica.LastExit}"
                        + (replica.NextAttemptAt is { } next ? $" (next attempt {next:O})" : string.Empty));
                    foreach (var line in replica.StderrTail)
                    {
                        troubles.Add($"    | {line}");
                    }
                }
            }
        }

        var widths = new int[rows[0].Length];
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                text.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            }

            text.Append('\n');
        }

        if (troubles.Count > 0)
        {
            text.Append("\nTrouble:\n");
            foreach (var line in troubles)
            {
                text.Append("  ").Append(line).Append('\n');
            }
        }

        return text.ToString();
    }

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    private static string Duration(long seconds) => seconds switch
    {
        < 60 => $"{seconds}s",
        < 3600 => $"{seconds / 60}m{seconds % 60:00}s",
        < 86400 => $"{seconds / 3600}h{seconds / 60 % 60:00}m",
        _ => $"{seconds / 86400}d{seconds / 3600 % 24:00}h",
    };
}
