using System.Reflection;
using Archestra.Edge.Observability;

namespace Archestra.Edge.Tests.Observability;

public sealed class EventIdsTests
{
    /// <summary>Log shippers and alerts key on event ids: two events must never share one.</summary>
    [Fact]
    public void EveryEventId_IsUnique_AndTheHighestIsRecorded()
    {
        var ids = typeof(EventIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(int))
            .Select(f => (f.Name, Id: (int)f.GetRawConstantValue()!))
            .ToList();

        Assert.True(ids.Count > 50, $"only {ids.Count} ids found");
        var shared = ids.GroupBy(i => i.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(i => i.Name))}").ToList();
        Assert.True(shared.Count == 0, "shared event ids: " + string.Join("; ", shared));

        var source = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "src", "Archestra.Edge.Core", "Observability", "EventIds.cs"));
        Assert.Contains($"// Highest id in use: {ids.Max(i => i.Id)}.", source, StringComparison.Ordinal);
    }
}
