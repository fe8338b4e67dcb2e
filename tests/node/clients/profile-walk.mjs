// Walks one gateway profile with the official TypeScript SDK client and prints what it saw as JSON.
// Usage: node profile-walk.mjs <profile-url>
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = new URL(process.argv[2]);
const client = new Client({ name: "archestra-ts-e2e", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(url));

const collect = async (list, key) => {
  const items = [];
  let cursor;
  do {
    const page = await list(cursor ? { cursor } : {});
    items.push(...page[key]);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
};

const text = (result) => result.content.filter((c) => c.type === "text").map((c) => c.text).join("");
const tools = await collect((p) => client.listTools(p), "tools");
const prompts = await collect((p) => client.listPrompts(p), "prompts");
const resources = await collect((p) => client.listResources(p), "resources");
const templates = await collect((p) => client.listResourceTemplates(p), "resourceTemplates");

const echo = text(await client.callTool({ name: "everything__echo", arguments: { message: "from typescript" } }));
const local = text(await client.callTool({ name: "local__echo", arguments: { text: "ts ☕" } }));
const prompt = await client.getPrompt({ name: "everything__args-prompt", arguments: { city: "Lyon" } });
const resource = await client.readResource({ uri: "everything+demo://resource/dynamic/text/3" });
const completion = await client.complete({
  ref: { type: "ref/prompt", name: "everything__completable-prompt" },
  argument: { name: "department", value: "Eng" },
});

console.log(JSON.stringify({
  serverVersion: client.getServerVersion(),
  tools: tools.map((t) => t.name),
  prompts: prompts.map((p) => p.name),
  resources: resources.map((r) => r.uri),
  templates: templates.map((t) => t.uriTemplate),
  echo,
  local,
  prompt: prompt.messages.map((m) => m.content.text ?? "").join(""),
  resource: resource.contents.map((c) => ({ uri: c.uri, text: c.text })),
  completion: completion.completion.values,
}));
await client.close();
