// `bun bench/tool-list-size.ts`: how large tools/list is for 2,000 tools (50 connections × 40 tools
// with descriptions and input schemas like real servers'), in bytes and in tokens (o200k_base,
// gpt-tokenizer), at the workspace endpoint, under a full-mode profile of every tool, and under a
// search-mode profile (issue 17): there only gateway__search_tools and gateway__call_tool are
// listed, and an agent pays for a search result instead. Sizes only: no timing here.
import { createMcpHandler, Server, type Tool } from "@modelcontextprotocol/server";
import { encode } from "gpt-tokenizer/encoding/o200k_base";
import { seedOwner, startTestGateway } from "../test/helpers/gateway.ts";
import { api } from "../test/helpers/client.ts";
import { saveProfile, type ProfileItem } from "../src/profiles/store.ts";

const CONNECTIONS = 50;
const TOOLS_PER_CONNECTION = 40;

const NOUNS = ["issue", "pull_request", "comment", "file", "branch", "release", "project", "label", "milestone", "user"];
const VERBS = [
  { verb: "create", what: "Creates a new {noun} in the given repository or workspace. Returns the created {noun} with its id, URL and timestamps. Fails when the caller lacks write access or when a required field is missing." },
  { verb: "get", what: "Fetches one {noun} by its id, with every field the server stores: title, body, author, state, timestamps and links. Use list_{noun}s to find ids first." },
  { verb: "list", what: "Lists {noun}s, newest first, filtered by state, author, label or a free-text query, a page at a time. Returns ids, titles and a cursor for the next page." },
  { verb: "update", what: "Changes fields of an existing {noun}. Only the fields given are changed; the others keep their values. Returns the {noun} as it is after the change." },
];

/** A tool as a real server lists it: a sentence or three, and a schema whose properties say what they take. */
function toolDefinition(index: number): Tool {
  const noun = NOUNS[index % NOUNS.length]!;
  const { verb, what } = VERBS[Math.floor(index / NOUNS.length) % VERBS.length]!;
  const properties: Record<string, unknown> = {
    owner: { type: "string", description: "The account or organisation that owns the repository, e.g. octo-org" },
    repo: { type: "string", description: "The repository's name, without the owner" },
  };
  if (verb === "get" || verb === "update") properties.id = { type: "integer", description: `The ${noun}'s number or id` };
  if (verb === "list") {
    properties.state = { type: "string", enum: ["open", "closed", "all"], description: "Which to list (default open)" };
    properties.query = { type: "string", description: "Words to look for in titles and bodies" };
    properties.perPage = { type: "integer", minimum: 1, maximum: 100, description: "Results per page (default 30)" };
    properties.cursor = { type: "string", description: "The cursor a previous page returned" };
  }
  if (verb === "create" || verb === "update") {
    properties.title = { type: "string", description: `The ${noun}'s title` };
    properties.body = { type: "string", description: "Markdown text" };
    properties.labels = { type: "array", items: { type: "string" }, description: "Label names to apply" };
  }
  const required = verb === "list" ? ["owner", "repo"] : verb === "create" ? ["owner", "repo", "title"] : ["owner", "repo", "id"];
  return { name: `${verb}_${noun}_${index}`, description: what.replaceAll("{noun}", noun.replace("_", " ")), inputSchema: { type: "object", properties: properties as NonNullable<Tool["inputSchema"]["properties"]>, required } };
}

async function startToolServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const tools = Array.from({ length: TOOLS_PER_CONNECTION }, (_, i) => toolDefinition(i));
  const handler = createMcpHandler(() => {
    const server = new Server({ name: "bench-tools", version: "1.0.0" }, { capabilities: { tools: {} } });
    server.setRequestHandler("tools/list", () => ({ tools }));
    server.setRequestHandler("tools/call", () => ({ content: [{ type: "text", text: "ok" }] }));
    return server;
  });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => handler.fetch(request) });
  return { url: `http://127.0.0.1:${server.port}/mcp`, stop: async () => { await server.stop(true); await handler.close(); } };
}

/** One JSON-RPC call as a 2025-11-25 stateless POST: the result object as the client receives it. */
async function rpc(url: string, key: string, method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const text = await response.text();
  // A JSON body, or one SSE event whose data line is the answer.
  const data = text.trimStart().startsWith("{") ? text : (text.split("\n").find((line) => line.startsWith("data:")) ?? "").slice(5);
  const json = JSON.parse(data) as { result?: Record<string, unknown>; error?: unknown };
  if (!json.result) throw new Error(`${method} failed: ${JSON.stringify(json.error)}`);
  return json.result;
}

function size(value: unknown): { bytes: number; tokens: number } {
  const text = JSON.stringify(value);
  return { bytes: new TextEncoder().encode(text).byteLength, tokens: encode(text).length };
}

const servers = await Promise.all(Array.from({ length: CONNECTIONS }, () => startToolServer()));
const t = await startTestGateway();
try {
  const { key, workspaceId } = await seedOwner(t);
  const call = api(t.url, key);
  const items: ProfileItem[] = [];
  for (const [i, server] of servers.entries()) {
    const added = await call("POST", "/api/v1/connections", { name: `srv-${i}`, url: server.url });
    if (added.status !== 201) throw new Error(`adding srv-${i}: ${JSON.stringify(added.json)}`);
    const id = (added.json.connection as { id: string }).id;
    for (let n = 0; n < TOOLS_PER_CONNECTION; n++) items.push({ connectionId: id, kind: "tool", name: toolDefinition(n).name });
  }
  for (const mode of ["full", "search"]) {
    const saved = await saveProfile(t.gateway.deps.database, workspaceId, { name: `all-${mode}`, description: "", mode, items }, null);
    if (!saved.ok) throw new Error(JSON.stringify(saved.errors));
  }
  t.gateway.deps.toolIndex.changed(workspaceId);

  const mcp = `${t.url}/api/v1/mcp`;
  const rows: [string, number, { bytes: number; tokens: number }][] = [];
  for (const [label, url] of [["workspace endpoint (/api/v1/mcp)", mcp], ["profile, full mode (/p/all-full)", `${mcp}/p/all-full`], ["profile, search mode (/p/all-search)", `${mcp}/p/all-search`]] as const) {
    const listed = await rpc(url, key, "tools/list");
    rows.push([`tools/list, ${label}`, (listed.tools as unknown[]).length, size(listed)]);
  }
  const found = await rpc(`${mcp}/p/all-search`, key, "tools/call", { name: "gateway__search_tools", arguments: { query: "create issue" } });
  rows.push(["one gateway__search_tools result (query 'create issue', 10 results), search mode", (found.structuredContent as { tools: unknown[] }).tools.length, size(found)]);

  console.log(`\n## tools/list size: ${CONNECTIONS} connections × ${TOOLS_PER_CONNECTION} tools (tokens: o200k_base, gpt-tokenizer)\n`);
  console.log("| what | tools | bytes | tokens |");
  console.log("|---|---|---|---|");
  for (const [label, count, s] of rows) console.log(`| ${label} | ${count} | ${s.bytes.toLocaleString("en")} | ${s.tokens.toLocaleString("en")} |`);
} finally {
  await t.stop();
  await Promise.all(servers.map((s) => s.stop()));
}
