using Archestra.Edge.Configuration;
using Archestra.Edge.Hosting;
using Archestra.Edge.Utilities;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Archestra.Edge.Cli;

/// <summary><c>serve</c>: load the config (a bad one stops start-up, with every error), then run until signalled.</summary>
internal static class ServeCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (!CommandLine.TryParseOptions(args, out var options, out var error))
        {
            Console.Error.WriteLine($"error: {error}");
            return CommandLine.Usage;
        }

        var result = ConfigLoader.LoadFile(options.ConfigPath!);
        if (!result.Succeeded)
        {
            ValidateCommand.Report(result.Diagnostics);
            return CommandLine.Failure;
        }

        foreach (var warning in result.Snapshot!.Warnings)
        {
            Console.Error.WriteLine(warning.ToString());
        }

        var snapshot = options.DataDir is { } dataDir ? result.Snapshot!.WithDataDirectory(dataDir) : result.Snapshot!;
        Microsoft.AspNetCore.Builder.WebApplication app;
        try
        {
            app = GatewayApplication.Build(snapshot, new GatewayApplicationOptions
            {
                MinimumLogLevel = options.LogLevel ?? snapshot.LogLevel ?? Microsoft.Extensions.Logging.LogLevel.Information,
                ListenOverride = options.Listen,
                // Children run under this very binary in its __child mode (see ChildShim), recorded in data_dir.
                SelfHosting = Upstreams.SelfHosting.ForDataDirectory(snapshot.Listener.DataDirectory, Environment.ProcessPath),
                OpenState = (instance, logger) => Storage.StateStores.Open(snapshot, instance, logger),
            });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: cannot use the data directory '{snapshot.Listener.DataDirectory}': {ex.Message} (set server.data_dir or --data-dir)");
            return CommandLine.Failure;
        }

        await using var disposeApp = app;

        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"error: cannot listen: {ex.Message}");
            return CommandLine.Failure;
        }
        catch (System.Data.Common.DbException ex)
        {
            Console.Error.WriteLine($"error: cannot open the {(snapshot.Storage.IsPostgres ? "PostgreSQL" : "SQLite")} storage: {ex.Message}");
            return CommandLine.Failure;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses)
        {
            // One line per address, stable format: scripts and tests read the port from it.
            Announce(snapshot.JsonLogs, $"{BuildInfo.ProductName} {BuildInfo.Version} listening on {address}", "url", address);
        }

        foreach (var profile in snapshot.ProfileList)
        {
            Announce(snapshot.JsonLogs, $"  profile '{profile.Name}' at {addresses.FirstOrDefault()}/v1/mcp/{profile.Name}", "profile", profile.Name);
        }

        await Console.Out.FlushAsync().ConfigureAwait(false);
        await app.WaitForShutdownAsync().ConfigureAwait(false);
        return CommandLine.Success;
    }

    /// <summary>A start-up line: plain text, or with JSON logs a JSON object like the log's (so every stdout line parses).</summary>
    private static void Announce(bool json, string message, string field, string value)
    {
        if (!json)
        {
            Console.Out.WriteLine(message);
            return;
        }

        using var buffer = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("Timestamp", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteNumber("EventId", Observability.EventIds.Listening);
            writer.WriteString("LogLevel", "Information");
            writer.WriteString("Category", "Archestra.Edge");
            writer.WriteString("Message", message.Trim());
            writer.WriteString(field, value);
            writer.WriteEndObject();
        }

        Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }
}
