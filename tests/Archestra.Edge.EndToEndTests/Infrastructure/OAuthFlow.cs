using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Archestra.Edge.EndToEndTests.Infrastructure;

/// <summary>The built-in authorization server driven by hand (raw HTTP, no redirects followed), for tests of each step.</summary>
internal sealed partial class OAuthFlow : IDisposable
{
    private readonly HttpClient _http;

    public OAuthFlow(Uri baseUrl)
    {
        BaseUrl = baseUrl;
        _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() });
    }

    public Uri BaseUrl { get; }

    public HttpClient Http => _http;

    public const string Redirect = "http://127.0.0.1:41999/callback";

    public async Task<string> RegisterAsync(string redirect = Redirect)
    {
        using var response = await _http.PostAsync(new Uri(BaseUrl, "/oauth/register"),
            new StringContent($$"""{"client_name":"e2e","redirect_uris":["{{redirect}}"],"token_endpoint_auth_method":"none"}""", Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.StatusCode == HttpStatusCode.Created, body.ToJsonString());
        return body["client_id"]!.GetValue<string>();
    }

    public static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var challenge = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (verifier, challenge);
    }

    public Uri AuthorizeUrl(string clientId, string redirect, string challenge, string resource, string state = "st4te")
        => new(BaseUrl, $"/oauth/authorize?response_type=code&client_id={Uri.EscapeDataString(clientId)}&redirect_uri={Uri.EscapeDataString(redirect)}"
            + $"&code_challenge={challenge}&code_challenge_method=S256&state={state}&resource={Uri.EscapeDataString(resource)}&scope=mcp");

    /// <summary>GETs the consent page, signs in with <paramref name="personalToken"/> and approves; returns the redirect it answers with.</summary>
    public async Task<Uri> ApproveAsync(Uri authorizeUrl, string personalToken, string decision = "approve")
    {
        using var page = await _http.GetAsync(authorizeUrl);
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, html);
        var requestId = RequestId().Match(html).Groups[1].Value;
        var csrf = Csrf().Match(html).Groups[1].Value;
        using var decisionResponse = await _http.PostAsync(new Uri(BaseUrl, "/oauth/authorize"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["request_id"] = requestId,
            ["csrf"] = csrf,
            ["token"] = personalToken,
            ["decision"] = decision,
        }));
        Assert.True(decisionResponse.StatusCode == HttpStatusCode.Redirect, await decisionResponse.Content.ReadAsStringAsync());
        return decisionResponse.Headers.Location!;
    }

    public async Task<(HttpStatusCode Status, JsonNode Body)> TokenAsync(Dictionary<string, string> form)
    {
        using var response = await _http.PostAsync(new Uri(BaseUrl, "/oauth/token"), new FormUrlEncodedContent(form));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    /// <summary>The whole flow: register, authorize as the owner of <paramref name="personalToken"/>, exchange the code.</summary>
    public async Task<(string ClientId, JsonNode Tokens)> SignInAsync(string resource, string personalToken)
    {
        var clientId = await RegisterAsync();
        var (verifier, challenge) = Pkce();
        var redirect = await ApproveAsync(AuthorizeUrl(clientId, Redirect, challenge, resource), personalToken);
        var code = System.Web.HttpUtility.ParseQueryString(redirect.Query)["code"]!;
        var (status, tokens) = await TokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = Redirect,
            ["client_id"] = clientId,
            ["code_verifier"] = verifier,
            ["resource"] = resource,
        });
        Assert.True(status == HttpStatusCode.OK, tokens.ToJsonString());
        return (clientId, tokens);
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("name=\"request_id\" value=\"([^\"]+)\"")]
    internal static partial Regex RequestId();

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    internal static partial Regex Csrf();
}
