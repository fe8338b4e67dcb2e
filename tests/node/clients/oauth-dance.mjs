// The MCP authorization flow, end to end, with the official TypeScript SDK client and a real browser:
// 401 -> discovery (RFC 9728, RFC 8414) -> dynamic registration -> authorization code + PKCE, where headless
// Chromium (Playwright, Debian's chromium) signs in on the gateway's page -> tokens -> tool call -> refresh ->
// a reused refresh token is refused. Prints what happened as JSON.
// Usage: PERSONAL_TOKEN=archestra_... node oauth-dance.mjs <profile-url> <chromium-path>
import http from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError, auth } from "@modelcontextprotocol/sdk/client/auth.js";
import { chromium } from "playwright-core";

const [url, chromiumPath] = process.argv.slice(2);
setTimeout(() => { console.error("oauth-dance: timed out"); process.exit(3); }, 60_000).unref();
const personalToken = process.env.PERSONAL_TOKEN;
const report = {};

// The redirect target: a loopback listener, as native MCP clients use.
let resolveCallback;
const callback = new Promise((resolve) => (resolveCallback = resolve));
const server = http.createServer((req, res) => {
  resolveCallback(new URL(req.url, "http://127.0.0.1"));
  res.end("You can close this window.");
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const redirectUrl = `http://127.0.0.1:${server.address().port}/callback`;

class Provider {
  redirectUrl = redirectUrl;
  clientMetadata = {
    client_name: "TypeScript SDK e2e",
    redirect_uris: [redirectUrl],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  };
  clientInformation() { return this.client; }
  saveClientInformation(info) { this.client = info; }
  tokens() { return this.saved; }
  saveTokens(tokens) { this.saved = tokens; }
  redirectToAuthorization(authorizationUrl) { this.authorizationUrl = authorizationUrl; }
  saveCodeVerifier(verifier) { this.verifier = verifier; }
  codeVerifier() { return this.verifier; }
}

const provider = new Provider();
const first = new Client({ name: "ts-oauth", version: "1.0.0" });
try {
  await first.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
  report.unexpected = "connected without a token";
} catch (error) {
  report.firstError = error instanceof UnauthorizedError ? "unauthorized" : String(error);
}

report.registeredClientId = provider.client?.client_id;
report.authorizationUrl = provider.authorizationUrl?.toString();

const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage();
  await page.goto(provider.authorizationUrl.toString());
  report.pageTitle = await page.textContent("h1");
  report.pageMentionsClient = (await page.content()).includes("TypeScript SDK e2e");
  await page.fill("input[name=token]", personalToken);
  await Promise.all([callback, page.click("button[value=approve]")]);
} finally {
  await browser.close();
}

const returned = await callback;
server.close();
report.callbackHasCode = returned.searchParams.has("code");
report.callbackIss = returned.searchParams.get("iss");

const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
await transport.finishAuth(returned.searchParams.get("code"));
const firstTokens = provider.tokens();
report.tokenType = firstTokens.token_type;

const client = new Client({ name: "ts-oauth", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
report.tools = (await client.listTools()).tools.map((t) => t.name);
const whoami = await client.callTool({ name: "edge__whoami", arguments: {} });
report.whoami = whoami.structuredContent ?? whoami.content;
await client.close();

// Refresh: auth() with a refresh token rotates it.
await auth(provider, { serverUrl: new URL(url) });
const secondTokens = provider.tokens();
report.refreshRotated = secondTokens.refresh_token !== firstTokens.refresh_token && secondTokens.access_token !== firstTokens.access_token;

const again = new Client({ name: "ts-oauth", version: "1.0.0" });
await again.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
report.callAfterRefresh = (await again.callTool({ name: "edge__whoami", arguments: {} })).isError !== true;
await again.close();

// A used refresh token presented again: refused, and the grant's newer token dies with it.
const tokenEndpoint = new URL("/oauth/token", url);
const replay = async (refreshToken) => {
  const response = await fetch(tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: provider.client.client_id }),
  });
  return { status: response.status, body: await response.json() };
};
report.reuse = await replay(firstTokens.refresh_token);
report.afterReuse = await replay(secondTokens.refresh_token);

console.log(JSON.stringify(report));
