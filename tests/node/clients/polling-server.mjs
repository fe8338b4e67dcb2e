// A TypeScript SDK server that polls (SEP-1699, 2025-11-25): it has an event store, and its `poll` tool closes the
// call's SSE stream mid-call (closeSSEStream) after a progress event, then answers; the client must resume with GET
// and Last-Event-ID after `retry`. Prints "listening on <url>" once it serves.
// Usage: node polling-server.mjs
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema, isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { InMemoryEventStore } from "@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js";

const transports = new Map();

function newServer() {
  const server = new Server({ name: "polling", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [{ name: "poll", description: "Closes its stream mid-call, then answers", inputSchema: { type: "object", properties: {} } }],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const token = request.params._meta?.progressToken;
    if (token !== undefined) {
      await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: 1, total: 2 } });
    }
    extra.closeSSEStream?.();
    await new Promise((resolve) => setTimeout(resolve, 400));
    return { content: [{ type: "text", text: `answered after the stream was closed (${extra.closeSSEStream ? "closed" : "not closable"})` }] };
  });
  return server;
}

const http = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
  const id = req.headers["mcp-session-id"];
  let transport = id ? transports.get(id) : undefined;
  if (!transport && req.method === "POST" && isInitializeRequest(body)) {
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new InMemoryEventStore(),
      retryInterval: 100,
      onsessioninitialized: (sessionId) => transports.set(sessionId, transport),
    });
    await newServer().connect(transport);
  }

  if (!transport) {
    res.writeHead(id ? 404 : 400).end();
    return;
  }

  await transport.handleRequest(req, res, body);
});
http.listen(0, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${http.address().port}/mcp`));
