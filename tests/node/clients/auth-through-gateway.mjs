// The client under test for the conformance suite's auth/* client scenarios.
// ADAPTER_DIRECT=1 (the baseline): the official TypeScript SDK client with an OAuth provider of the usual kind —
// dynamic registration (or the scenario's pre-registered client from MCP_CONFORMANCE_CONTEXT), authorization code
// with PKCE, the "browser" being a fetch that follows the authorization server's redirects to a loopback callback.
// Otherwise the gateway is the OAuth client: the published binary (ARCHESTRA_EDGE_BINARY) with the scenario's server
// under remote.oauth; `archestra-edge connections connect` is run with the same fetch as the browser, then the gateway
// serves, and a plain SDK client (no auth of its own) lists and calls the tools through it.
// Usage (by the suite): node auth-through-gateway.mjs <server-url>
import http from "node:http";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGateway } from "./gateway.mjs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";

const serverUrl = process.argv[process.argv.length - 1];
const context = process.env.MCP_CONFORMANCE_CONTEXT ? JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT) : {};
setTimeout(() => { console.error("adapter: timed out"); process.exit(3); }, 60_000).unref();

/** The user's browser: follows redirects until it reaches a loopback callback, which it then requests. */
async function browse(url) {
  let next = new URL(url);
  for (let hop = 0; hop < 10; hop++) {
    if (next.hostname === "127.0.0.1" && next.pathname === "/callback") {
      await fetch(next);
      return next;
    }

    const response = await fetch(next, { redirect: "manual" });
    const location = response.headers.get("location");
    if (!location) throw new Error(`the authorization server answered ${response.status} without a redirect`);
    next = new URL(location, next);
  }

  throw new Error("too many redirects");
}

async function connectAsAdministrator(binary, config, scope) {
  // The "browser" follows the authorization server's redirects to the command's loopback address.
  const args = ["connections", "connect", "scenario", "--config", config, ...(scope ? ["--scope", scope] : [])];
  const connect = spawn(binary, args, { stdio: ["ignore", "pipe", "inherit"] });
  const connected = new Promise((resolve) => connect.on("exit", resolve));
  const authorizationUrl = await new Promise((resolve, reject) => {
    let seen = "";
    connect.stdout.on("data", (chunk) => {
      seen += chunk.toString();
      const match = seen.match(/^(https?:\/\/\S+)\r?\n/m);
      if (match) resolve(match[1]);
    });
    connect.on("exit", (code) => reject(new Error(`connections connect exited with ${code}:\n${seen}`)));
  });
  await browse(authorizationUrl);
  const exit = await connected;
  if (exit !== 0) throw new Error(`connections connect exited with ${exit}`);
}

async function callEverything(client, reconnect) {
  const { tools } = await client.listTools();
  for (const tool of tools) {
    let result = await client.callTool({ name: tool.name, arguments: {} });
    // Step-up through the gateway: the server wants a wider scope, and the gateway names the command that grants it.
    const wider = result.isError && reconnect ? /connections connect scenario --scope "([^"]+)"/.exec(result.content?.[0]?.text ?? "") : null;
    if (wider) {
      await reconnect(wider[1]);
      for (let attempt = 0; attempt < 30 && (result = await client.callTool({ name: tool.name, arguments: {} })).isError; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 200)); // the gateway reads the new connection within 2 s
      }
    }
    console.log(`${tool.name}: ${JSON.stringify(result.content)}`);
  }
}

const machine = (process.env.MCP_CONFORMANCE_SCENARIO ?? "").startsWith("auth/client-credentials");

if (process.env.ADAPTER_DIRECT === "1" && machine) {
  // The SDK's machine-to-machine provider: client_credentials with client_secret_basic.
  const { ClientCredentialsProvider } = await import("@modelcontextprotocol/sdk/client/auth-extensions.js");
  const provider = new ClientCredentialsProvider({ clientId: context.client_id, clientSecret: context.client_secret });
  const client = new Client({ name: "conformance-baseline", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider }));
  await callEverything(client);
  await client.close();
} else if (process.env.ADAPTER_DIRECT === "1") {
  let resolveCode;
  const code = new Promise((resolve) => (resolveCode = resolve));
  const callback = http.createServer((req, res) => {
    resolveCode(new URL(req.url, "http://127.0.0.1").searchParams.get("code"));
    res.end("ok");
  });
  await new Promise((resolve) => callback.listen(0, "127.0.0.1", resolve));
  const redirectUrl = `http://127.0.0.1:${callback.address().port}/callback`;
  const provider = {
    redirectUrl,
    clientMetadata: { client_name: "conformance-baseline", redirect_uris: [redirectUrl], grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], token_endpoint_auth_method: "none" },
    clientInformation() { return this.client ?? (context.client_id ? { client_id: context.client_id, client_secret: context.client_secret } : undefined); },
    saveClientInformation(info) { this.client = info; },
    tokens() { return this.saved; },
    saveTokens(tokens) { this.saved = tokens; },
    redirectToAuthorization(url) { this.authorizationUrl = url; },
    saveCodeVerifier(verifier) { this.verifier = verifier; },
    codeVerifier() { return this.verifier; },
  };
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider });
  const client = new Client({ name: "conformance-baseline", version: "1.0.0" });
  try {
    await client.connect(transport);
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
    await browse(provider.authorizationUrl.toString());
    await transport.finishAuth(await code);
    await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider }));
  }

  await callEverything(client);
  await client.close();
  callback.close();
} else {
  const directory = mkdtempSync(join(tmpdir(), "edge-auth-adapter-"));
  const config = join(directory, "archestra.yaml");
  const oauth = context.client_id
    ? `{ client_id: ${JSON.stringify(context.client_id)}${context.client_secret ? `, client_secret: ${JSON.stringify(context.client_secret)}` : ""}${machine ? ", grant: client_credentials" : ""} }`
    : "{}";
  writeFileSync(config, [
    `server: { data_dir: ${JSON.stringify(join(directory, "data"))} }`,
    `storage: { encryption_key: "conformance-adapter-key-0123456789abcdef" }`,
    `servers:`,
    `  scenario:`,
    `    remote: { url: ${JSON.stringify(serverUrl)}, oauth: ${oauth} }`,
    `profiles:`,
    `  p: { naming: bare, tools: [{ server: scenario }] }`,
    ``].join("\n"));
  const binary = process.env.ARCHESTRA_EDGE_BINARY;
  let gateway;
  try {
    // The administrator connects (a machine connection needs nobody: the gateway gets its tokens on the first call).
    if (!machine) await connectAsAdministrator(binary, config);

    const started = startGateway(binary, config);
    gateway = started.gateway;
    const url = await started.url;
    const client = new Client({ name: "archestra-conformance-adapter", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    await callEverything(client, machine ? undefined : (scope) => connectAsAdministrator(binary, config, scope));
    await client.close();
  } finally {
    gateway?.kill("SIGTERM");
    rmSync(directory, { recursive: true, force: true });
  }
}
