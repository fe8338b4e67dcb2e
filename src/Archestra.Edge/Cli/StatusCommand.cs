using System.Globalization;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Configuration;

namespace Archestra.Edge.Cli;

/// <summary>
/// <c>status</c>: asks a running gateway for <c>/admin/status</c> and prints, per server and replica, its state,
/// pid or container, uptime, restarts, last exit and last error, with the stderr tail of the ones in trouble.
/// </summary>
internal static class StatusCommand
{
    private static readonly string[] s_header = ["SERVER", "KIND", "#", "STATE", "ID", "UPTIME", "RESTARTS", "LAST EXIT"];

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

        using var document = JsonDocument.Parse(body);
        Console.Out.Write(Render(document.RootElement));
        return CommandLine.Success;
    }

    /// <summary>A listen URL as a client on this machine reaches it (wildcard hosts become loopback).</summary>
    internal static string Render(JsonElement status)
    {
        var text = new StringBuilder();
        var gateway = status.GetProperty("gateway");
        text.Append(CultureInfo.InvariantCulture,
            $"archestra-edge {gateway.GetProperty("version").GetString()}, up {Duration(gateway.GetProperty("uptime_seconds").GetInt64())}, {gateway.GetProperty("sessions").GetInt32()} session(s), instance {gateway.GetProperty("instance").GetString()}\n\n");

        var rows = new List<string[]> { s_header };
        var troubles = new List<string>();
        foreach (var server in status.GetProperty("servers").EnumerateArray())
        {
            var name = server.GetProperty("name").GetString()!;
            foreach (var replica in server.GetProperty("replicas").EnumerateArray())
            {
                var state = replica.GetProperty("state").GetString()!;
                rows.Add(
                [
                    name,
                    server.GetProperty("kind").GetString()!,
                    replica.GetProperty("replica").GetInt32().ToString(CultureInfo.InvariantCulture),
                    state,
                    Optional(replica, "id") ?? "-",
                    replica.TryGetProperty("uptime_seconds", out var uptime) ? Duration(uptime.GetInt64()) : "-",
                    replica.GetProperty("restarts").GetInt32().ToString(CultureInfo.InvariantCulture),
                    Shorten(Optional(replica, "last_exit") ?? "-", 60),
                ]);

                if (state is "failed" or "crash_loop")
                {
                    troubles.Add($"{name} #{replica.GetProperty("replica").GetInt32()}: {Optional(replica, "last_error") ?? Optional(replica, "last_exit")}"
                        + (Optional(replica, "next_attempt_at") is { } next ? $" (next attempt {next})" : string.Empty));
                    foreach (var line in replica.GetProperty("stderr_tail").EnumerateArray())
                    {
                        troubles.Add($"    | {line.GetString()}");
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

    private static string? Optional(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    private static string Duration(long seconds) => seconds switch
    {
        < 60 => $"{seconds}s",
        < 3600 => $"{seconds / 60}m{seconds % 60:00}s",
        < 86400 => $"{seconds / 3600}h{seconds / 60 % 60:00}m",
        _ => $"{seconds / 86400}d{seconds / 3600 % 24:00}h",
    };
}
