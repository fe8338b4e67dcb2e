using System.Globalization;
using System.Text;
using System.Text.Json;
using Archestra.Edge.Observability.Audit;
using Archestra.Edge.Storage;
using Archestra.Edge.Utilities;

namespace Archestra.Edge.Cli;

/// <summary>
/// <c>audit tail [-n N] [--json]</c>: the newest records as a table (or JSON lines);
/// <c>audit export [--since 7d|2026-11-01] [--until …] [--format jsonl|csv]</c>: records, oldest first, for other tools.
/// Both read <c>data_dir/archestra.db</c> directly, so they work whether or not the gateway runs.
/// </summary>
internal static class AuditCommand
{
    private const string UsageText = "usage: archestra-edge audit tail [-n N] [--json] [--config FILE] [--data-dir DIR]\n       archestra-edge audit export [--since 7d|DATE] [--until DATE] [--format jsonl|csv] [--config FILE] [--data-dir DIR]";

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("tail" or "export"))
        {
            Console.Error.WriteLine(UsageText);
            return CommandLine.Usage;
        }

        var verb = args[0];
        var last = 20;
        string? since = null, until = null, format = "jsonl";
        var rest = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-n" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0:
                    last = n;
                    i++;
                    break;
                case "--since" when i + 1 < args.Length:
                    since = args[++i];
                    break;
                case "--until" when i + 1 < args.Length:
                    until = args[++i];
                    break;
                case "--format" when i + 1 < args.Length && args[i + 1] is "jsonl" or "csv":
                    format = args[++i];
                    break;
                case "--json":
                    format = "json";
                    break;
                default:
                    string? none = null;
                    if (!CommandLine.TakeCommonOrPositional(args, ref i, rest, ref none, positionalAllowed: false))
                    {
                        Console.Error.WriteLine(UsageText);
                        return CommandLine.Usage;
                    }

                    break;
            }
        }

        if (!CommandLine.TryLoadConfig([.. rest], out var options, out var snapshot, out var exitCode))
        {
            return exitCode;
        }

        var now = DateTimeOffset.UtcNow;
        if (!TryParseTime(since, now, out var from) || !TryParseTime(until, now, out var to))
        {
            Console.Error.WriteLine("error: --since/--until take a duration back from now (7d, 12h) or a date (2026-11-01, 2026-11-01T12:00Z)");
            return CommandLine.Usage;
        }

        var dataDirectory = snapshot.Listener.DataDirectory;
        if (!snapshot.Storage.IsPostgres && !File.Exists(Path.Combine(dataDirectory, "archestra.db")))
        {
            Console.Error.WriteLine($"error: no audit trail in {dataDirectory} (archestra.db is missing; has the gateway run with this config?)");
            return CommandLine.Failure;
        }

        var store = StateStores.Open(snapshot, "cli", Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).Audit;
        var records = store.Read(from, to, verb == "tail" ? last : null);
        var output = Console.Out;
        if (verb == "tail" && format != "json")
        {
            output.Write(Table(records));
        }
        else if (format == "csv")
        {
            output.WriteLine("at,principal,profile,server,method,item,outcome,duration_ms,request_bytes,response_bytes,session,arguments,decision");
            foreach (var record in records)
            {
                output.WriteLine(string.Join(',', Csv(record.At.ToString("O", CultureInfo.InvariantCulture)), Csv(record.Principal), Csv(record.Profile), Csv(record.Server),
                    Csv(record.Method), Csv(record.Item), Csv(record.Outcome), record.DurationMilliseconds.ToString("0.###", CultureInfo.InvariantCulture),
                    record.RequestBytes.ToString(CultureInfo.InvariantCulture), record.ResponseBytes.ToString(CultureInfo.InvariantCulture), Csv(record.Session), Csv(record.StoredArguments ?? string.Empty), Csv(record.Decision ?? string.Empty)));
            }
        }
        else
        {
            foreach (var record in records)
            {
                output.WriteLine(JsonLine(record));
            }
        }

        return CommandLine.Success;
    }

    private static bool TryParseTime(string? text, DateTimeOffset now, out DateTimeOffset? time)
    {
        time = null;
        if (text is null)
        {
            return true;
        }

        if (Units.TryParseDuration(text, out var back))
        {
            time = now - back;
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            time = at;
            return true;
        }

        return false;
    }

    private static string Table(List<AuditRecord> records)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{"TIME",-24} {"PRINCIPAL",-16} {"PROFILE",-14} {"SERVER",-12} {"METHOD",-14} {"ITEM",-24} {"OUTCOME",-11} {"MS",8}  DECISION\n");
        foreach (var r in records)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{r.At.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture),-24} {r.Principal,-16} {r.Profile,-14} {r.Server,-12} {r.Method,-14} {r.Item,-24} {r.Outcome,-11} {r.DurationMilliseconds,8:0.0}  {r.Decision ?? "-"}\n");
        }

        return text.ToString();
    }

    private static string JsonLine(AuditRecord record)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("at", record.At);
            json.WriteString("principal", record.Principal);
            json.WriteString("profile", record.Profile);
            json.WriteString("server", record.Server);
            json.WriteString("method", record.Method);
            json.WriteString("item", record.Item);
            json.WriteString("outcome", record.Outcome);
            json.WriteNumber("duration_ms", Math.Round(record.DurationMilliseconds, 3));
            json.WriteNumber("request_bytes", record.RequestBytes);
            json.WriteNumber("response_bytes", record.ResponseBytes);
            json.WriteString("session", record.Session);
            if (record.Decision is { } decision)
            {
                json.WriteString("decision", decision);
            }

            if (record.StoredArguments is { } arguments)
            {
                json.WritePropertyName("arguments");
                json.WriteRawValue(arguments, skipInputValidation: false);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static string Csv(string value)
        => value.AsSpan().IndexOfAny(",\"\n\r") < 0 ? value : $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
