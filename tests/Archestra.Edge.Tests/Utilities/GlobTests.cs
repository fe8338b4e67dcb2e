using Archestra.Edge.Utilities;

namespace Archestra.Edge.Tests.Utilities;

public sealed class GlobTests
{
    [Theory]
    [InlineData("*", "anything", true)]
    [InlineData("search_*", "search_repositories", true)]
    [InlineData("search_*", "research_x", false)]
    [InlineData("*delete*", "repo_delete_branch", true)]
    [InlineData("get_?", "get_a", true)]
    [InlineData("get_?", "get_ab", false)]
    [InlineData("[a-c]*", "beta", true)]
    [InlineData("[a-c]*", "delta", false)]
    [InlineData("[!a-c]*", "delta", true)]
    [InlineData("create_issue", "create_issue", true)]
    [InlineData("create_issue", "Create_Issue", false)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    public void Matches(string pattern, string name, bool expected)
    {
        Assert.True(Glob.TryParse(pattern, out var glob, out _));
        Assert.Equal(expected, glob!.IsMatch(name));
    }

    [Fact]
    public void Pathological_Pattern_IsLinear()
    {
        Assert.True(Glob.TryParse("*a*a*a*a*a*a*a*a*b", out var glob, out _));
        Assert.False(glob!.IsMatch(new string('a', 5000)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("[abc")]
    [InlineData("x]")]
    [InlineData("[]")]
    public void Invalid_IsRefused(string pattern) => Assert.False(Glob.TryParse(pattern, out _, out _));
}
