import { afterEach, describe, expect, test } from "bun:test";
import { createMcpEndpoint, MCP_PATH } from "../src/gateway/mcp-endpoint.ts";
import type { McpEndpoint } from "../src/deps.ts";
import { waitFor } from "./helpers/wait.ts";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";

/**
 * 2025 clients that drop a session without DELETE leave it behind: it must go once idle, and free
 * its place under the caps. The endpoint is built on the real gateway's services with a clock the
 * test moves, so nothing here sleeps.
 */

const IDLE_MS = 60_000;
const opened: { endpoint: McpEndpoint; t: TestGateway; streams: AbortController[] }[] = [];

type Rig = { endpoint: McpEndpoint; key: string; workspaceId: string; clock: { at: number }; base: string; streams: AbortController[] };

async function startRig(dialect: (typeof dialects)[number]): Promise<Rig> {
  const t = await startTestGateway({ dialect, env: { MAX_SESSIONS: "3", MAX_SESSIONS_PER_KEY: "10", MAX_SESSIONS_PER_USER: "10", SESSION_IDLE_MS: String(IDLE_MS) } });
  const owner = await seedOwner(t);
  const clock = { at: 1_000_000 };
  const endpoint = createMcpEndpoint(t.gateway.deps, { now: () => clock.at });
  const streams: AbortController[] = [];
  opened.push({ endpoint, t, streams });
  return { endpoint, key: owner.key, workspaceId: owner.workspaceId, clock, base: t.url, streams };
}

afterEach(async () => {
  for (const { endpoint, t, streams } of opened.splice(0)) {
    for (const stream of streams) stream.abort();
    await endpoint.close();
    await t.stop();
  }
});

function send(rig: Rig, init: { method: string; sessionId?: string; body?: unknown; signal?: AbortSignal }): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${rig.key}`, accept: "application/json, text/event-stream", "content-type": "application/json" };
  if (init.sessionId) Object.assign(headers, { "mcp-session-id": init.sessionId, "mcp-protocol-version": "2025-11-25" });
  const body = init.body === undefined ? null : JSON.stringify(init.body);
  return rig.endpoint.handle(new Request(`${rig.base}${MCP_PATH}`, { method: init.method, headers, body, ...(init.signal ? { signal: init.signal } : {}) }));
}

/** A 2025-11-25 session, initialized as a client does; null when refused (with the status). */
async function openSession(rig: Rig): Promise<{ status: number; sessionId: string | null }> {
  const response = await send(rig, { method: "POST", body: { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } } });
  await response.body?.cancel();
  const sessionId = response.headers.get("mcp-session-id");
  if (sessionId) await (await send(rig, { method: "POST", sessionId, body: { jsonrpc: "2.0", method: "notifications/initialized" } })).body?.cancel();
  return { status: response.status, sessionId };
}

/** The session's GET stream, and a reader of what arrives on it. */
async function openStream(rig: Rig, sessionId: string): Promise<{ next(): Promise<string>; close(): void }> {
  const controller = new AbortController();
  rig.streams.push(controller);
  const response = await send(rig, { method: "GET", sessionId, signal: controller.signal });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  return {
    /** The next event; SSE comments (the opening ": stream open", keep-alives) are not events. */
    async next() {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return "";
        const text = decoder.decode(value);
        if (!/^(:[^\n]*\n\n?)+$/.test(text)) return text;
      }
    },
    close() {
      controller.abort();
      void reader.cancel().catch(() => undefined);
    },
  };
}

for (const dialect of dialects) {
  describe(`abandoned 2025 sessions, on ${dialect}`, () => {
    test("sessions idle past SESSION_IDLE_MS are closed and their slots freed; one with an open GET stream stays and still hears list_changed", async () => {
      const rig = await startRig(dialect);
      const listening = await openSession(rig);
      const [dropped, alsoDropped] = [await openSession(rig), await openSession(rig)];
      expect([listening.status, dropped.status, alsoDropped.status]).toEqual([200, 200, 200]);
      const stream = await openStream(rig, listening.sessionId!);
      // The total is reached: no room for a fourth.
      expect((await openSession(rig)).status).toBe(429);
      expect(rig.endpoint.held().sessions).toBe(3);

      rig.clock.at += IDLE_MS - 1;
      expect((await openSession(rig)).status).toBe(429);

      rig.clock.at += 2;
      const fresh = await openSession(rig);
      expect(fresh.status).toBe(200);
      // The two dropped ones went; the listening one and the new one are held.
      expect(rig.endpoint.held().sessions).toBe(2);

      rig.endpoint.notifyToolsChanged(rig.workspaceId);
      expect(await stream.next()).toContain("notifications/tools/list_changed");
    });

    test("a session's requests keep it alive; once its stream ends it idles out like any other", async () => {
      const rig = await startRig(dialect);
      const kept = await openSession(rig);
      const streamed = await openSession(rig);
      const stream = await openStream(rig, streamed.sessionId!);

      rig.clock.at += IDLE_MS - 1000;
      const ping = await send(rig, { method: "POST", sessionId: kept.sessionId!, body: { jsonrpc: "2.0", id: 2, method: "ping" } });
      expect(ping.status).toBe(200);
      expect(ping.headers.get("mcp-session-id")).toBe(kept.sessionId);
      await ping.body?.cancel();
      stream.close();
      await waitFor(() => rig.endpoint.held().streams === 0, { timeoutMs: 5000, what: "the closed stream's end to be seen" });

      rig.clock.at += 2000;
      expect((await openSession(rig)).status).toBe(200);
      expect(rig.endpoint.held().sessions).toBe(3);

      rig.clock.at += IDLE_MS;
      const next = await openSession(rig);
      expect(next.status).toBe(200);
      // All three older ones idled out; only the newest is held.
      expect(rig.endpoint.held().sessions).toBe(1);
    });
  });
}
