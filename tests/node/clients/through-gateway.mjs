// The client under test for the conformance suite's client scenarios: the official TypeScript SDK client, either
// directly against the scenario's server (ADAPTER_DIRECT=1, the baseline) or through a gateway started in front of it
// (the published binary at ARCHESTRA_EDGE_BINARY, one profile with the scenario's server under bare names).
// It lists the tools and calls each one without arguments; elicitation requests are accepted with no content, so a
// client that applies schema defaults (SEP-1034) answers with the defaults.
// Usage (by the suite): node through-gateway.mjs <server-url>
import { startGateway } from "./gateway.mjs";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const serverUrl = process.argv[process.argv.length - 1];
let gateway;
let directory;
let url = serverUrl;
if (process.env.ADAPTER_DIRECT !== "1") {
  directory = mkdtempSync(join(tmpdir(), "edge-adapter-"));
  const config = join(directory, "archestra.yaml");
  writeFileSync(config, `server:\n  data_dir: ${JSON.stringify(join(directory, "data"))}\nservers:\n  scenario:\n    remote: { url: ${JSON.stringify(serverUrl)} }\nprofiles:\n  p: { naming: bare, tools: [{ server: scenario }] }\n`);
  const started = startGateway(process.env.ARCHESTRA_EDGE_BINARY, config);
  gateway = started.gateway;
  url = await started.url;
}

try {
  const client = new Client({ name: "archestra-conformance-adapter", version: "1.0.0" }, { capabilities: { elicitation: { form: { applyDefaults: true } } } });
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "accept", content: {} }));
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  const { tools } = await client.listTools();
  for (const tool of tools) {
    const result = await client.callTool({ name: tool.name, arguments: {} });
    console.log(`${tool.name}: ${JSON.stringify(result.content)}`);
  }

  await client.close();
} finally {
  gateway?.kill("SIGTERM");
  if (directory) rmSync(directory, { recursive: true, force: true });
}
