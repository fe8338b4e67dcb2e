// MCP over Streamable HTTP from a real browser page (headless Chromium): the page's own fetch() opens a session,
// reads Mcp-Session-Id, lists tools and closes the session, as a web-based MCP client does. One page is served
// from an origin the gateway allows, one from an origin it does not; the browser must let the first read the
// answers and keep the second out. Prints what each page saw as JSON.
// Usage: node browser-cors.mjs <profile-url> <chromium-path> <allowed-host> <refused-host>
import http from "node:http";
import { chromium } from "playwright-core";

const [url, chromiumPath, allowedHost, refusedHost] = process.argv.slice(2);
setTimeout(() => { console.error("browser-cors: timed out"); process.exit(3); }, 60_000).unref();

async function servePage(host) {
  const server = http.createServer((req, res) => {
    res.setHeader("content-type", "text/html");
    res.end("<!doctype html><title>web MCP client</title>");
  });
  await new Promise((resolve) => server.listen(0, host, resolve));
  return { server, origin: `http://${host}:${server.address().port}` };
}

// Runs inside the page.
async function walk(endpoint) {
  const seen = {};
  try {
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    const init = await fetch(endpoint, {
      method: "POST",
      headers,
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "web", version: "1" } } }),
    });
    seen.initStatus = init.status;
    const session = init.headers.get("mcp-session-id");
    seen.sessionIdReadable = !!session;
    const initBody = await init.text();
    seen.serverName = JSON.parse(initBody.includes("data:") ? initBody.split("data:").pop() : initBody).result?.serverInfo?.name;
    const sessionHeaders = { ...headers, "mcp-session-id": session, "mcp-protocol-version": "2025-11-25" };
    await fetch(endpoint, { method: "POST", headers: sessionHeaders, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) });
    const list = await fetch(endpoint, { method: "POST", headers: sessionHeaders, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }) });
    const listBody = await list.text();
    seen.tools = JSON.parse(listBody.includes("data:") ? listBody.split("data:").pop() : listBody).result.tools.map((t) => t.name);
    const end = await fetch(endpoint, { method: "DELETE", headers: { "mcp-session-id": session, "mcp-protocol-version": "2025-11-25" } });
    seen.deleteStatus = end.status;
  } catch (error) {
    seen.error = `${error.name}: ${error.message}`;
  }
  return seen;
}

const report = {};
const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] });
try {
  for (const [name, host] of [["allowed", allowedHost], ["refused", refusedHost]]) {
    const { server, origin } = await servePage(host);
    try {
      const page = await browser.newPage();
      await page.goto(origin);
      report[name] = { origin, ...(await page.evaluate(walk, url)) };
      await page.close();
    } finally {
      server.close();
    }
  }
} finally {
  await browser.close();
}

console.log(JSON.stringify(report));
