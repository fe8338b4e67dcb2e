using System.Net;
using Archestra.Edge.LoadTest;

// archestra-loadtest --url URL [--scenario echo|echo64k|list|churn|mix|sessions|startup] [--clients N | --rate R]
//                    [--duration 15s] [--warmup 3s] [--tool NAME] [--token T] [--call-url U] [--label L] [--json F] [--md F]
//                    [--watch name=pid]... [--spawn CMD ARGS...]
// archestra-loadtest summarize DIR OUT.md
if (args.Length > 0 && args[0] == "summarize")
{
    Summary.Write(args[1], args[2]);
    return 0;
}

LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
    if (options.Url is null)
    {
        throw new ArgumentException("--url is required");
    }
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 2;
}

using var handler = new SocketsHttpHandler
{
    MaxConnectionsPerServer = 4096,
    PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    UseCookies = false,
    UseProxy = false,
    AutomaticDecompression = DecompressionMethods.None,
    ConnectTimeout = TimeSpan.FromSeconds(10),
};
using var http = new HttpMessageInvoker(handler);

var report = options.Scenario switch
{
    Scenario.Sessions => await SpecialScenarios.SessionsAsync(options, http),
    Scenario.Startup => await SpecialScenarios.StartupAsync(options, http),
    _ => await new Runner(options, http).RunAsync(),
};

if (!options.Quiet)
{
    Console.Error.WriteLine();
}

Console.Out.Write(report.ToMarkdown());
if (options.JsonReport is { } json)
{
    await File.WriteAllTextAsync(json, report.ToJson());
}

if (options.MarkdownReport is { } markdown)
{
    await File.WriteAllTextAsync(markdown, report.ToMarkdown());
}

return report.Failed > 0 && report.Ok == 0 ? 1 : 0;
