import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client, ProtocolError, StreamableHTTPClientTransport, type Tool } from "@modelcontextprotocol/client";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api, connectClient, ERAS, type Era } from "./helpers/client.ts";
import { FAITHFUL_INSTRUCTIONS, RPC_ERROR, startFaithfulUpstream, type FaithfulUpstream } from "./helpers/faithful-upstream.ts";
import { startEverything, type EverythingServer } from "./helpers/everything.ts";
import { text } from "./helpers/results.ts";
import { z } from "zod";
import { createApiKey } from "../src/accounts/api-keys.ts";

/** The real SDK client straight to an upstream, negotiating `era`. */
async function connectDirect(url: string, era: Era, capabilities?: Record<string, unknown>): Promise<Client> {
  const client = new Client(
    { name: "direct", version: "1.0.0" },
    { ...(era === "2026-07-28" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : { supportedProtocolVersions: [era] }), ...(capabilities ? { capabilities } : {}) } as ConstructorParameters<typeof Client>[1],
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

/** A connection's tools as the gateway lists them, under their upstream names. */
function unprefixed(tools: Tool[], connection: string): Tool[] {
  return tools.filter((t) => t.name.startsWith(`${connection}__`)).map((t) => ({ ...t, name: t.name.slice(connection.length + 2) }));
}

const byName = (a: Tool, b: Tool): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** What a protocol hop adds of its own, which each hop writes anew. */
function withoutHopKeys(meta: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(meta).filter(([key]) => key !== "progressToken" && !key.startsWith("io.modelcontextprotocol/")));
}

async function rejection(promise: Promise<unknown>): Promise<ProtocolError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error("expected a JSON-RPC error, got a result");
}

for (const dialect of dialects) {
  describe(`tools, faithfully, on ${dialect}`, () => {
    let t: TestGateway;
    let key: string;
    let upstream: FaithfulUpstream;
    let wordy: FaithfulUpstream;
    let everything: EverythingServer;

    beforeAll(async () => {
      [t, upstream, wordy, everything] = await Promise.all([
        // A 1 s call deadline, and at most 3 s in all however much progress a call reports.
        startTestGateway({ dialect, env: { CALL_TIMEOUT_MS: "1000", CALL_MAX_TOTAL_MS: "3000" } }),
        startFaithfulUpstream(),
        startFaithfulUpstream({ instructions: `${"w".repeat(5000)}END-OF-WORDY` }),
        startEverything(),
      ]);
      key = (await seedOwner(t)).key;
      const call = api(t.url, key);
      for (const [name, url] of [["faithful", upstream.url], ["wordy", wordy.url], ["everything", everything.url]] as const) {
        const added = await call("POST", "/api/v1/connections", { name, url });
        expect(added.status).toBe(201);
      }
    }, 30_000);
    afterAll(async () => {
      await Promise.all([t.stop(), upstream.stop(), wordy.stop(), everything.stop()]);
    });

    for (const era of ERAS) {
      test(`a ${era} client lists each tool as the upstream does (icons, _meta, title, annotations, outputSchema), only the name prefixed`, async () => {
        // The gateway discovers this upstream on 2026-07-28, the revision it offers first: that listing is the one to match.
        const [direct, gateway] = await Promise.all([connectDirect(upstream.url, "2026-07-28"), connectClient(t.url, key, era)]);
        try {
          const straight = (await direct.listTools()).tools.toSorted(byName);
          const through = unprefixed((await gateway.listTools()).tools, "faithful").toSorted(byName);
          // One change besides the name: an MCP App's resource is read through the gateway, under its URI for it.
          const rich = through.find((tool) => tool.name === "rich")!;
          expect((rich._meta?.ui as { resourceUri?: string } | undefined)?.resourceUri).toBe("mcpgw://faithful/ui://rich/app.html");
          const appBack = (tool: Tool): Tool => (tool.name === "rich" ? { ...tool, _meta: { ...tool._meta, ui: { resourceUri: "ui://rich/app.html" } } } : tool);
          expect(through.map(appBack)).toEqual(straight);
          // The fixture's fields are really there (a list that dropped them on both sides would pass the line above).
          expect(rich.icons?.[0]?.src).toBe("https://example.com/rich.png");
          expect(rich._meta?.["example.com/owner"]).toBe("team-a");
          // `execution` is 2025 vocabulary (2026-07-28 moved tasks to an extension): see server-everything below.
          expect(rich.title).toBe("Rich Tool");
          expect(rich.outputSchema).toBeDefined();
        } finally {
          await Promise.all([direct.close(), gateway.close()]);
        }
      });

      test(`a ${era} client reads the MCP App a tool's _meta names through the gateway, as the upstream serves it`, async () => {
        const [direct, gateway] = await Promise.all([connectDirect(upstream.url, era), connectClient(t.url, key, era)]);
        try {
          const rich = (await gateway.listTools()).tools.find((tool) => tool.name === "faithful__rich")!;
          const appUri = String((rich._meta?.ui as { resourceUri?: string } | undefined)?.resourceUri);
          const through = await gateway.readResource({ uri: appUri });
          const straight = await direct.readResource({ uri: "ui://rich/app.html" });
          expect(through.contents).toEqual(straight.contents.map((c) => ({ ...c, uri: appUri })));
          expect((through.contents[0] as { text: string }).text).toBe("<p>the rich tool's app</p>");
        } finally {
          await Promise.all([direct.close(), gateway.close()]);
        }
      });

      test(`a ${era} client gets the upstream's JSON-RPC error to tools/call as that error: code, message and data`, async () => {
        const [direct, gateway] = await Promise.all([connectDirect(upstream.url, era), connectClient(t.url, key, era)]);
        try {
          const straight = await rejection(direct.callTool({ name: "rpc_error", arguments: {} }));
          const through = await rejection(gateway.callTool({ name: "faithful__rpc_error", arguments: {} }));
          expect({ code: through.code, message: through.message, data: through.data }).toEqual({ code: straight.code, message: straight.message, data: straight.data });
          expect(through.code).toBe(RPC_ERROR.code);
          expect(through.data).toEqual(RPC_ERROR.data);
          // Recorded as the tool's error, in the gateway's own words.
          await t.gateway.deps.accessLog.flush();
          const { database } = t.gateway.deps;
          const rows = await database.db.select().from(database.t.accessLog);
          expect(rows.filter((row) => row.tool === "rpc_error").map((row) => [row.outcome, row.errorSummary])).toContainEqual(["tool_error", "the upstream answered with a JSON-RPC error"]);
          // A transport failure keeps its sentence as a tool result.
          const missing = await gateway.callTool({ name: "faithful__long", arguments: { steps: 1, everyMs: 1500 } });
          expect(missing.isError).toBe(true);
          expect(text(missing)).toBe("faithful did not answer within 1 s; the call was cancelled. Try again, or raise the connection's timeout.");
        } finally {
          await Promise.all([direct.close(), gateway.close()]);
        }
      });

      test(`a ${era} client's request _meta reaches the upstream, its progress token replaced by the gateway's own`, async () => {
        const gateway = await connectClient(t.url, key, era);
        const direct = await connectDirect(upstream.url, era);
        try {
          const meta = { "example.com/trace": "trace-42", "example.com/tenant": { id: 7 } };
          await direct.callTool({ name: "meta_echo", arguments: {}, _meta: meta });
          const straight = upstream.metas.at(-1)!;
          await gateway.callTool({ name: "faithful__meta_echo", arguments: {}, _meta: meta }, { onprogress: () => undefined });
          const through = upstream.metas.at(-1)!;
          expect(withoutHopKeys(through)).toEqual(withoutHopKeys(straight));
          expect(through["example.com/trace"]).toBe("trace-42");
          expect(through["example.com/tenant"]).toEqual({ id: 7 });
        } finally {
          await Promise.all([direct.close(), gateway.close()]);
        }
      });
    }

    test("a call that keeps reporting progress runs past the call timeout; one that reports none is cut at it; none runs past the maximum", async () => {
      const client = await connectClient(t.url, key);
      try {
        const seen: number[] = [];
        // 8 × 250 ms = 2 s: twice the 1 s deadline, within the 3 s maximum.
        const kept = await client.callTool({ name: "faithful__long", arguments: { steps: 8, everyMs: 250 } }, { onprogress: (p) => seen.push(p.progress), resetTimeoutOnProgress: true });
        expect(kept.isError).toBeFalsy();
        expect(text(kept)).toBe("finished 8 steps");
        expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        // A client that does not ask for progress is served the same: the gateway asks the upstream itself.
        const unasked = await client.callTool({ name: "faithful__long", arguments: { steps: 8, everyMs: 250 } });
        expect(text(unasked)).toBe("finished 8 steps");
        // Progress, then silence: cut one deadline after the last progress.
        const stalled = await client.callTool({ name: "faithful__long", arguments: { steps: 2, everyMs: 300, stallMs: 1500 } }, { onprogress: () => undefined, resetTimeoutOnProgress: true });
        expect(text(stalled)).toBe("faithful reported no progress for 1 s and did not answer; the call was cancelled. Try again, or raise the connection's timeout.");
        // 40 × 200 ms = 8 s of steady progress: stopped at the 3 s maximum.
        const endless = await client.callTool({ name: "faithful__long", arguments: { steps: 40, everyMs: 200 } }, { onprogress: () => undefined, resetTimeoutOnProgress: true });
        expect(endless.isError).toBe(true);
        expect(text(endless)).toBe("faithful was still working after 3 s, the longest the gateway lets one call run (CALL_MAX_TOTAL_MS); the call was cancelled.");
      } finally {
        await client.close();
      }
    }, 20_000);

    for (const era of ["2026-07-28", "2025-11-25"] as const) {
      test(`a ${era} client is told the upstreams' instructions, labelled by connection and capped, and the capabilities its connections offer`, async () => {
        const client = await connectClient(t.url, key, era);
        try {
          const instructions = client.getInstructions() ?? "";
          expect(instructions).toContain("gateway__search_tools");
          expect(instructions).toContain(`## faithful (tools named faithful__…)\n${FAITHFUL_INSTRUCTIONS}`);
          expect(instructions).toContain("## wordy (tools named wordy__…)\nwww");
          // Each connection's part is cut at 2 KB.
          expect(instructions).not.toContain("END-OF-WORDY");
          expect(instructions.length).toBeLessThan(16 * 1024);
          const capabilities = client.getServerCapabilities() ?? {};
          expect(capabilities.tools).toBeDefined();
          // server-everything offers prompts, resources (with subscriptions), completions and logging, all relayed.
          expect(capabilities.prompts).toEqual({ listChanged: true });
          expect(capabilities.resources).toEqual({ listChanged: true, subscribe: true });
          expect(capabilities.completions).toEqual({});
          expect(capabilities.logging).toEqual({});
        } finally {
          await client.close();
        }
      });
    }

    test("tools/list carries the 2026-07-28 cache hints (private: the list depends on the caller); a 2025 answer carries none", async () => {
      const modern = await rawList(t.url, key, "2026-07-28");
      // Not to be reused: an admin may change the list at any moment (see mcp-server.ts).
      expect(modern.ttlMs).toBe(0);
      expect(modern.cacheScope).toBe("private");
      const legacy = await rawList(t.url, key, "2025-11-25");
      expect(legacy.tools).toBeDefined();
      expect("ttlMs" in legacy).toBe(false);
      expect("cacheScope" in legacy).toBe(false);
    });

    for (const era of ["2026-07-28", "2025-11-25"] as const) {
      test(`a ${era} client lists server-everything's tools through the gateway as it lists them direct, names aside`, async () => {
        // server-everything speaks 2025-11-25 only: straight to it, a 2026 client falls back to that.
        // It offers some tools only to a client that can answer sampling, elicitation and roots, which
        // the gateway's own client declares: the direct client declares the same.
        const asks = { sampling: {}, elicitation: { form: {}, url: {} }, roots: {} };
        const [direct, gateway] = await Promise.all([connectDirect(everything.url, "2025-11-25", asks), connectClient(t.url, key, era)]);
        try {
          const listed = (await direct.listTools()).tools.toSorted(byName);
          // Its tools' `execution` (task support) is kept, and reaches 2025 clients; the SDK leaves it
          // out of 2026-07-28 answers, where tasks are an extension and `execution` is not vocabulary.
          expect(listed.some((tool) => tool.execution?.taskSupport === "required")).toBe(true);
          const straight = era === "2026-07-28" ? listed.map(({ execution: _, ...tool }) => tool) : listed;
          const through = unprefixed((await gateway.listTools()).tools, "everything").toSorted(byName);
          expect(through.map((tool) => tool.name)).toEqual(straight.map((tool) => tool.name));
          expect(through).toEqual(straight);
        } finally {
          await Promise.all([direct.close(), gateway.close()]);
        }
      });
    }
  });
}

/** tools/list as it travels, without a client's parsing: the fields on the wire. */
async function rawList(url: string, key: string, era: Era): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": era };
  const modern = era === "2026-07-28";
  const params = modern
    ? { _meta: { "io.modelcontextprotocol/protocolVersion": era, "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" }, "io.modelcontextprotocol/clientCapabilities": {} } }
    : {};
  const response = await fetch(`${url}/api/v1/mcp`, { method: "POST", headers: { ...headers, ...(modern ? { "mcp-method": "tools/list" } : {}) }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params }) });
  const body = await response.text();
  const json = body.startsWith("{") ? body : (body.split("\n").find((line) => line.startsWith("data: ")) ?? "").slice(6);
  const parsed = JSON.parse(json) as { result?: Record<string, unknown>; error?: unknown };
  if (!parsed.result) throw new Error(`tools/list failed: ${body}`);
  return parsed.result;
}

const TaskResult = z.looseObject({ task: z.looseObject({ taskId: z.string(), status: z.string() }) });
const TaskState = z.looseObject({ taskId: z.string(), status: z.string() });
const TaskList = z.looseObject({ tasks: z.array(TaskState) });
const Payload = z.looseObject({ content: z.array(z.looseObject({ type: z.string() })) });

for (const dialect of dialects) {
  describe(`tasks through the gateway on ${dialect}`, () => {
    let t: TestGateway;
    let key: string;
    let otherKey: string;
    let everything: EverythingServer;

    beforeAll(async () => {
      [t, everything] = await Promise.all([startTestGateway({ dialect }), startEverything()]);
      const owner = await seedOwner(t);
      key = owner.key;
      const other = await createApiKey(t.gateway.deps.database, { workspaceId: owner.workspaceId, userId: owner.userId, name: "another key" });
      if (!other.ok) throw new Error("key");
      otherKey = other.key;
      expect((await api(t.url, key)("POST", "/api/v1/connections", { name: "everything", url: everything.url })).status).toBe(201);
    }, 30_000);
    afterAll(async () => {
      await Promise.all([t.stop(), everything.stop()]);
    });

    test("a 2025 client is offered tasks where a connection offers them; a 2026-07-28 client is not (the SDK serves no tasks extension)", async () => {
      const [legacy, modern] = await Promise.all([connectClient(t.url, key, "2025-11-25"), connectClient(t.url, key, "2026-07-28")]);
      try {
        expect(legacy.getServerCapabilities()?.tasks).toEqual({ list: {}, cancel: {}, requests: { tools: { call: {} } } });
        expect(modern.getServerCapabilities()?.tasks).toBeUndefined();
      } finally {
        await Promise.all([legacy.close(), modern.close()]);
      }
    });

    test("a task-augmented call runs as a task upstream: tasks/get, tasks/result and tasks/list reach it, and its result equals the one straight from the upstream", async () => {
      const [direct, gateway, other] = await Promise.all([connectDirect(everything.url, "2025-11-25"), connectClient(t.url, key, "2025-11-25"), connectClient(t.url, otherKey, "2025-11-25")]);
      try {
        const args = { topic: "tidal energy" };
        const [straight, through] = await Promise.all([
          direct.request({ method: "tools/call", params: { name: "simulate-research-query", arguments: args, task: { ttl: 60_000 } } } as never, TaskResult),
          gateway.request({ method: "tools/call", params: { name: "everything__simulate-research-query", arguments: args, task: { ttl: 60_000 } } } as never, TaskResult),
        ]);
        expect(through.task.status).toBe(straight.task.status);
        // The client gets the gateway's own task id, never the upstream's.
        expect(through.task.taskId).toStartWith("mgwtask_");
        expect(through.task.taskId).not.toBe(straight.task.taskId);
        const id = through.task.taskId;
        const state = await gateway.request({ method: "tasks/get", params: { taskId: id } } as never, TaskState);
        expect(state.taskId).toBe(id);
        expect(["working", "completed"]).toContain(state.status);
        const listed = await gateway.request({ method: "tasks/list", params: {} } as never, TaskList);
        expect(listed.tasks.map((task) => task.taskId)).toEqual([id]);
        // Another key of the same workspace neither lists it nor reads it.
        expect((await other.request({ method: "tasks/list", params: {} } as never, TaskList)).tasks).toEqual([]);
        await expect(other.request({ method: "tasks/get", params: { taskId: id } } as never, TaskState)).rejects.toThrow(/Unknown task/);
        const [straightPayload, throughPayload] = await Promise.all([
          direct.request({ method: "tasks/result", params: { taskId: straight.task.taskId } } as never, Payload, { timeout: 30_000 }),
          gateway.request({ method: "tasks/result", params: { taskId: id } } as never, Payload, { timeout: 30_000 }),
        ]);
        expect(throughPayload.content).toEqual(straightPayload.content);
        expect((await gateway.request({ method: "tasks/get", params: { taskId: id } } as never, TaskState)).status).toBe("completed");
      } finally {
        await Promise.all([direct.close(), gateway.close(), other.close()]);
      }
    }, 30_000);

    test("tasks/cancel reaches the upstream that owns the task", async () => {
      const gateway = await connectClient(t.url, key, "2025-11-25");
      try {
        const created = await gateway.request({ method: "tools/call", params: { name: "everything__simulate-research-query", arguments: { topic: "cancelled" }, task: {} } } as never, TaskResult);
        const cancelled = await gateway.request({ method: "tasks/cancel", params: { taskId: created.task.taskId } } as never, TaskState);
        expect(cancelled).toMatchObject({ taskId: created.task.taskId, status: "cancelled" });
        expect((await gateway.request({ method: "tasks/get", params: { taskId: created.task.taskId } } as never, TaskState)).status).toBe("cancelled");
      } finally {
        await gateway.close();
      }
    });
  });
}
