using System.Text.Json.Nodes;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>The audit trail of a gateway, read as an operator does: <c>archestra-edge audit export --format jsonl</c>.</summary>
internal static class AuditExport
{
    /// <summary>
    /// Waits (the trail is written in batches, at most 10 s) until the records satisfy <paramref name="done"/>, and
    /// returns them; fails with the export's output if they never do.
    /// </summary>
    public static async Task<List<JsonNode>> WaitForAsync(string configPath, Func<List<JsonNode>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            await using var export = ChildProcess.Start(Repository.GatewayBinary, ["audit", "export", "--format", "jsonl", "--config", configPath]);
            Assert.Equal(0, await export.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            var records = export.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!).ToList();
            if (done(records))
            {
                return records;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the audit trail never held what was expected: {export.Output}");
            await Task.Delay(200);
        }
    }
}
