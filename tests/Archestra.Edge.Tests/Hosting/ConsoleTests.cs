using System.Collections.Frozen;
using Archestra.Edge.Contracts;
using Archestra.Edge.Hosting.Console;
using Archestra.Edge.Identity;
using Archestra.Edge.Model;
using Archestra.Edge.Observability.Audit;

namespace Archestra.Edge.Tests.Hosting;

/// <summary>The console's decisions that need no process: who sees which profile, states in plain words, the charts' arithmetic.</summary>
public sealed class ConsoleTests
{
    private static readonly ProfileModel s_platform = Profile("platform") with { Access = new AccessModel(false, FrozenSet.Create("platform"), FrozenSet<string>.Empty) };
    private static readonly ProfileModel s_everyone = Profile("everyone");

    [Fact]
    public void AUser_SeesTheProfilesOpenToThem_TheOrganisationAndLocalViewersSeeAll()
    {
        var alice = new ConsoleViewer(new Principal(PrincipalKind.User, "alice", ["platform"], "t"));
        var bob = new ConsoleViewer(new Principal(PrincipalKind.User, "bob", ["data"], "t"));
        var org = new ConsoleViewer(new Principal(PrincipalKind.Org, string.Empty, [], "t"));
        var local = new ConsoleViewer(null);

        Assert.True(alice.MaySee(s_platform) && alice.MaySee(s_everyone) && !alice.SeesEverything);
        Assert.False(bob.MaySee(s_platform));
        Assert.True(bob.MaySee(s_everyone));
        Assert.True(org.SeesEverything && org.MaySee(s_platform));
        Assert.True(local.SeesEverything);
        Assert.Contains("authenticates nobody", local.Name, StringComparison.Ordinal);
    }

    [Fact]
    public void States_AreSaidInPlainWords_WithWhatHappensNext()
    {
        var now = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
        var looping = new ReplicaStatusView(1, "crash_loop", null, null, null, null, null, 5, 4, 5, "exited with code 7", "exit 7", now.AddSeconds(-10), now.AddMinutes(5), []);
        var text = ConsoleServersPage.Explain("crash_loop", looping, now);
        Assert.Contains("failed 5 times in a row, so the gateway stopped restarting it", text, StringComparison.Ordinal);
        Assert.Contains("The next attempt is in 5m 0s.", text, StringComparison.Ordinal);
        Assert.Contains("Last error: exited with code 7", text, StringComparison.Ordinal);
        Assert.Contains("starts on first use", ConsoleServersPage.Explain("stopped", null, now), StringComparison.Ordinal);
    }

    [Fact]
    public void Charts_CountCallsPerMinute_OfTheLastHourOnly_PerServer()
    {
        var now = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
        AuditRecord Call(string server, int minutesAgo, double ms) => new(now.AddMinutes(-minutesAgo), "user:a", "p", server, "tools/call", "t", "ok", ms, 1, 1, "s");
        var svg = ConsoleCharts.PerServer([Call("b", 1, 10), Call("a", 2, 10), Call("a", 2, 30), Call("a", 61, 999), Call("a", 59, 20)], now);
        Assert.True(svg.IndexOf("data-chart-server=\"a\"", StringComparison.Ordinal) < svg.IndexOf("data-chart-server=\"b\"", StringComparison.Ordinal));
        Assert.Contains("3 calls in the last hour, p95 up to 30 ms", svg, StringComparison.Ordinal); // the call of 61 minutes ago is out
        Assert.Contains("<title>2 calls</title>", svg, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", svg, StringComparison.Ordinal);
    }

    private static ProfileModel Profile(string name) => new(name, null, null, null, ToolNaming.Prefixed, ProfileModel.DefaultSeparator, [], [], []);
}
