using System.Text.Json;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Model;
using Archestra.Edge.Upstreams;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Gateway.Pinning;

/// <summary>What one pinned server lists now (tools and prompts), or why it could not be listed.</summary>
internal sealed record ServerSurvey(string Server, ServerList Tools, ServerList Prompts)
{
    public string? Error => Tools.Failed ? Tools.Error.Message : Prompts.Failed ? Prompts.Error.Message : null;

    public ServerList Of(CatalogKind kind) => kind == CatalogKind.Tools ? Tools : Prompts;

    /// <summary>This survey as the lock file keeps it.</summary>
    public LockedServer ToLocked()
    {
        var locked = new LockedServer();
        foreach (var kind in PinSurvey.Kinds)
        {
            var list = Of(kind);
            for (var i = 0; i < list.Items.Length; i++)
            {
                using var document = JsonDocument.Parse(list.Items[i].Raw);
                locked.Of(kind)[list.Items[i].Name] = new LockedItem(list.Digests[i], document.RootElement.Clone());
            }
        }

        return locked;
    }
}

/// <summary>
/// The work of <c>archestra-edge pin</c>: starts the pinned servers as the gateway would (processes, containers,
/// remote sessions), reads their tool and prompt lists, and compares them with the lock file in words a reviewer
/// reads (what changed, the pinned and the current text of each changed property).
/// </summary>
internal static class PinSurvey
{
    public static readonly CatalogKind[] Kinds = [CatalogKind.Tools, CatalogKind.Prompts];

    /// <summary>A changed property's old and new text is shown up to this many lines each.</summary>
    private const int MaxShownLines = 40;

    /// <summary>Reads the lists of <paramref name="servers"/>, all at once; the servers are stopped afterwards.</summary>
    public static async Task<List<ServerSurvey>> ReadAsync(GatewaySnapshot snapshot, IReadOnlyList<string> servers, SelfHosting selfHosting, ILoggerFactory loggers)
    {
        var runtime = new GatewayRuntime(snapshot, loggers, TimeProvider.System, selfHosting: selfHosting);
        await using var stop = runtime.ConfigureAwait(false);
        var reads = servers.Select(async name =>
        {
            var server = runtime.Servers[name];
            var timeout = server.Model.StartTimeout + server.Model.CallTimeout;
            var tools = await ServerListFetcher.FetchAsync(server, CatalogKind.Tools, timeout, TimeProvider.System).ConfigureAwait(false);
            var prompts = await ServerListFetcher.FetchAsync(server, CatalogKind.Prompts, server.Model.CallTimeout, TimeProvider.System).ConfigureAwait(false);
            return new ServerSurvey(name, tools, prompts);
        }).ToList();
        return [.. await Task.WhenAll(reads).ConfigureAwait(false)];
    }

    /// <summary>The differences between a server's lock entry (null: none) and what it lists now, in name order.</summary>
    public static List<PinMismatch> Compare(ServerSurvey survey, LockedServer? locked)
    {
        var mismatches = new List<PinMismatch>();
        foreach (var kind in Kinds)
        {
            var list = survey.Of(kind);
            var live = new List<(string, PinnedItem)>(list.Items.Length);
            for (var i = 0; i < list.Items.Length; i++)
            {
                live.Add((list.Items[i].Name, list.Digests[i]));
            }

            var pinned = new Dictionary<string, PinnedItem>(StringComparer.Ordinal);
            if (locked is not null)
            {
                foreach (var (name, item) in locked.Of(kind))
                {
                    pinned[name] = item.Pinned;
                }
            }

            mismatches.AddRange(PinCheck.Compare(kind, live, pinned, withRemoved: true).OrderBy(static m => m.Name, StringComparer.Ordinal));
        }

        return mismatches;
    }

    /// <summary>Writes a readable diff of one server: a line per item, then the pinned (−) and current (+) text of what changed.</summary>
    public static void WriteDiff(TextWriter output, ServerSurvey survey, LockedServer? locked, List<PinMismatch> mismatches)
    {
        var changed = mismatches.Count(static m => m.Change == PinChange.Changed);
        var added = mismatches.Count(static m => m.Change == PinChange.New);
        var removed = mismatches.Count(static m => m.Change == PinChange.Removed);
        output.WriteLine($"server '{survey.Server}': {changed} changed, {added} new, {removed} removed{(locked is null ? " (not in the lock file yet)" : string.Empty)}");
        foreach (var mismatch in mismatches)
        {
            var noun = CatalogKinds.Noun(mismatch.Kind);
            switch (mismatch.Change)
            {
                case PinChange.New:
                    output.WriteLine($"  + {noun} '{mismatch.Name}' (new)");
                    WriteBlock(output, "      + ", Live(survey, mismatch));
                    break;
                case PinChange.Removed:
                    output.WriteLine($"  - {noun} '{mismatch.Name}' (removed)");
                    break;
                default:
                    output.WriteLine($"  ~ {noun} '{mismatch.Name}': {string.Join(", ", mismatch.Fields)}");
                    var before = locked!.Of(mismatch.Kind)[mismatch.Name].Definition;
                    using (var now = JsonDocument.Parse(Live(survey, mismatch) ?? "{}"))
                    {
                        foreach (var field in mismatch.Fields)
                        {
                            output.WriteLine($"    {field}:");
                            WriteBlock(output, "      - ", before.TryGetProperty(field, out var old) ? Utilities.CanonicalJson.Indented(old) : "(absent)");
                            WriteBlock(output, "      + ", now.RootElement.TryGetProperty(field, out var current) ? Utilities.CanonicalJson.Indented(current) : "(absent)");
                        }
                    }

                    break;
            }
        }
    }

    /// <summary>The current definition of a listed item, as readable JSON (pinned properties only).</summary>
    private static string? Live(ServerSurvey survey, PinMismatch mismatch)
    {
        foreach (var item in survey.Of(mismatch.Kind).Items)
        {
            if (item.Name == mismatch.Name)
            {
                using var document = JsonDocument.Parse(item.Raw);
                var buffer = new System.Buffers.ArrayBufferWriter<byte>();
                using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                {
                    ItemDefinition.WriteDefinition(writer, document.RootElement);
                }

                return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
            }
        }

        return null;
    }

    private static void WriteBlock(TextWriter output, string prefix, string? text)
    {
        var lines = (text ?? "(absent)").Split('\n');
        for (var i = 0; i < lines.Length && i < MaxShownLines; i++)
        {
            output.WriteLine(prefix + lines[i].TrimEnd('\r'));
        }

        if (lines.Length > MaxShownLines)
        {
            output.WriteLine($"{prefix}… ({lines.Length - MaxShownLines} more lines)");
        }
    }
}
