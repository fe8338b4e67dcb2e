using System.Text;
using Archestra.Edge.Configuration;
using Archestra.Edge.Gateway.Policies;
using Archestra.Edge.Identity;
using Archestra.Edge.Model;

namespace Archestra.Edge.Tests.Gateway.Policies;

/// <summary>Rules compiled from YAML and judged against calls: order, callers, tools and every argument test.</summary>
public sealed class PolicyEvaluationTests
{
    private static readonly Principal Ada = new(PrincipalKind.User, "ada", ["platform"], "test");
    private static readonly Principal Bob = new(PrincipalKind.User, "bob", ["data"], "test");
    private static readonly Principal DataTeam = new(PrincipalKind.Team, "data", [], "test");
    private static readonly Principal Org = new(PrincipalKind.Org, string.Empty, [], "test");

    private static readonly ProfileModel Profile = Load("""
        teams: [platform, data]
        users:
          ada: { teams: [platform] }
          bob: { teams: [data] }
        servers:
          fs: { remote: { url: "http://localhost:3000/mcp" } }
          db: { remote: { url: "http://localhost:3001/mcp" } }
        profiles:
          p:
            access: { org: true }
            tools:
              - { server: fs }
              - { server: db, teams: [data], users: [ada] }
            policies:
              - name: platform-may-write-anywhere
                servers: [fs]
                tools: ["write_*"]
                callers: { teams: [platform] }
                decision: allow
              - name: writes-stay-in-workspace
                servers: [fs]
                tools: ["write_*", "edit_file"]
                when:
                  - { arg: path, not_glob: "/workspace/*" }
                decision: deny
                message: writes go under /workspace
              - name: first-edit-checked
                tools: [edit_file]
                when:
                  - { arg: "edits[0].old", regex: "(?i)password" }
                decision: require_approval
              - name: small-queries
                servers: [db]
                when:
                  - { arg: limit, min: "1" }
                  - { arg: limit, max: "100" }
                  - { arg: mode, in: [read, explain] }
                  - { arg: dry_run, not_equal_to: "false" }
                decision: allow
              - name: org-tokens-only-read
                servers: [db]
                callers: { kinds: [org] }
                decision: deny
        auth:
          bearer:
            tokens:
              - { name: ada, sha256: "0000000000000000000000000000000000000000000000000000000000000000", scope: "user:ada" }
        policies:
          - name: no-drops
            servers: [db]
            when:
              - { arg: sql, regex: "(?i)\\bdrop\\s+table\\b" }
            decision: deny
        """);

    private static readonly ProfilePolicies Policies = new(Profile.Policies);

    [Fact]
    public void TheFirstMatchingRuleDecides_AndNoMatchAllows()
    {
        Assert.Equal(["platform-may-write-anywhere", "writes-stay-in-workspace", "first-edit-checked", "small-queries", "org-tokens-only-read", "no-drops"],
            Profile.Policies.Select(r => r.Name));

        // The platform team writes anywhere (the allow comes first); others only under /workspace.
        Assert.Equal(("allow", "platform-may-write-anywhere"), Decide("fs", "write_file", Ada, """{"path":"/etc/passwd"}"""));
        Assert.Equal(("deny", "writes-stay-in-workspace"), Decide("fs", "write_file", Bob, """{"path":"/etc/passwd"}"""));
        Assert.Equal(("allow", null), Decide("fs", "write_file", Bob, """{"path":"/workspace/notes.md"}"""));
        Assert.Equal(("allow", null), Decide("fs", "read_file", Bob, """{"path":"/etc/passwd"}"""));

        // Missing, not a string, or unparsable arguments are not under the pattern: a deny-unless rule fails closed.
        Assert.Equal(("deny", "writes-stay-in-workspace"), Decide("fs", "write_file", Bob, "{}"));
        Assert.Equal(("deny", "writes-stay-in-workspace"), Decide("fs", "write_file", Bob, """{"path":42}"""));
        Assert.Equal(("deny", "writes-stay-in-workspace"), Decide("fs", "write_file", Bob, "not json"));
    }

    [Fact]
    public void ArgumentTests_Paths_Regexes_Ranges_Sets_AndEquality()
    {
        Assert.Equal(("require_approval", "first-edit-checked"), Decide("fs", "edit_file", Bob, """{"path":"/workspace/a","edits":[{"old":"PassWord=1","new":"x"}]}"""));
        Assert.Equal(("allow", null), Decide("fs", "edit_file", Bob, """{"path":"/workspace/a","edits":[{"old":"x"},{"old":"password"}]}"""));

        Assert.Equal(("allow", "small-queries"), Decide("db", "query", Bob, """{"limit":100,"mode":"read"}"""));
        Assert.Equal(("allow", "small-queries"), Decide("db", "query", Bob, """{"limit":1,"mode":"explain","dry_run":true}"""));
        Assert.NotEqual("small-queries", Decide("db", "query", Bob, """{"limit":101,"mode":"read"}""").Rule);
        Assert.NotEqual("small-queries", Decide("db", "query", Bob, """{"limit":"5","mode":"read"}""").Rule);
        Assert.NotEqual("small-queries", Decide("db", "query", Bob, """{"limit":5,"mode":"write"}""").Rule);
        Assert.NotEqual("small-queries", Decide("db", "query", Bob, """{"limit":5,"mode":"read","dry_run":false}""").Rule);

        // The organisation's rules come after the profile's.
        Assert.Equal(("deny", "org-tokens-only-read"), Decide("db", "query", Org, """{"sql":"DROP TABLE users"}"""));
        Assert.Equal(("deny", "no-drops"), Decide("db", "query", Bob, """{"sql":"drop   table users"}"""));
        Assert.Equal(("allow", null), Decide("db", "query", Bob, """{"sql":"select 'drop tables' as t"}"""));
    }

    [Fact]
    public void CallerMatching_ByKind_User_Team_AndTheUsersTeams()
    {
        var callers = Profile.Policies[0].Callers!;
        Assert.True(ProfilePolicies.Matches(callers, Ada));       // a member of platform
        Assert.False(ProfilePolicies.Matches(callers, Bob));
        Assert.False(ProfilePolicies.Matches(callers, DataTeam));
        Assert.True(ProfilePolicies.Matches(Profile.Policies[4].Callers!, Org));
    }

    [Fact]
    public void PerToolAccess_OpensAnAssignmentToItsUsersAndTeams()
    {
        var access = Profile.Tools.Single(t => t.Server == "db").Access!;
        Assert.Null(Profile.Tools.Single(t => t.Server == "fs").Access);
        Assert.True(access.Allows(Ada));      // named user
        Assert.True(access.Allows(Bob));      // member of data
        Assert.True(access.Allows(DataTeam)); // the team's own token
        Assert.True(access.Allows(Org));
        Assert.False(access.Allows(new Principal(PrincipalKind.User, "eve", ["platform"], "test")));
        Assert.Equal("Denied: db's tool 'query' is open to user ada, team data only",
            PolicyMessages.Denied(access.Rule, "db", "query"));
    }

    [Fact]
    public void ADeniedCallersMessage_NamesTheRule()
    {
        var rule = Profile.Policies.Single(r => r.Name == "writes-stay-in-workspace");
        Assert.Equal("Denied by policy 'writes-stay-in-workspace': writes go under /workspace", PolicyMessages.Denied(rule, "fs", "write_file"));
    }

    private static (string Decision, string? Rule) Decide(string server, string tool, Principal caller, string arguments)
    {
        var verdict = Policies.Decide(server, tool, caller, Encoding.UTF8.GetBytes(arguments));
        return (verdict.Label, verdict.Rule?.Name);
    }

    private static ProfileModel Load(string yaml)
    {
        var result = ConfigLoader.Load(yaml, "policies.yaml", _ => null);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Snapshot!.Profiles["p"];
    }
}
