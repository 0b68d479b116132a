import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult, Client } from "@modelcontextprotocol/client";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startLoadUpstream, type LoadUpstream } from "./helpers/load-upstream.ts";
import { api, connectClient } from "./helpers/client.ts";
import { waitFor } from "./helpers/wait.ts";
import { spawnGateway } from "./helpers/process.ts";
import { startBurst } from "./helpers/burst.ts";
import { loadConfig } from "../src/config.ts";
import { openDatabase } from "../src/db/client.ts";
import { setupOwner } from "../src/accounts/accounts.ts";
import { createApiKey } from "../src/accounts/api-keys.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const text = (result: CallToolResult): string => result.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join("\n");

type Fixture = { t: TestGateway; call: ReturnType<typeof api>; clients: Client[]; ups: LoadUpstream[]; key: string };

async function startFixture(dialect: (typeof dialects)[number], env: Record<string, string>, clients = 1): Promise<Fixture> {
  const t = await startTestGateway({ dialect, env: { PROBE_INTERVAL_MS: "3600000", ...env } });
  const { key } = await seedOwner(t);
  return { t, key, call: api(t.url, key), clients: await Promise.all(Array.from({ length: clients }, () => connectClient(t.url, key))), ups: [] };
}

async function stopFixture(f: Fixture): Promise<void> {
  await Promise.all(f.clients.map((c) => c.close()));
  await f.t.stop();
  await Promise.all(f.ups.map((u) => u.stop()));
}

/** A connection to a fresh upstream, used once while healthy so the gateway holds a client. */
async function addUpstream(f: Fixture, name: string, options: { era?: "2026" | "2025"; callTimeoutMs?: number } = {}): Promise<{ up: LoadUpstream; id: string }> {
  const up = await startLoadUpstream({ era: options.era });
  f.ups.push(up);
  const added = await f.call("POST", "/api/v1/connections", { name, url: up.url, ...(options.callTimeoutMs ? { callTimeoutMs: options.callTimeoutMs } : {}) });
  expect(added.status).toBe(201);
  expect(text(await f.clients[0]!.callTool({ name: `${name}__echo`, arguments: { message: "warm" } }))).toBe("warm");
  return { up, id: (added.json.connection as { id: string }).id };
}

async function statusOf(f: Fixture, id: string): Promise<string> {
  return ((await f.call("GET", `/api/v1/connections/${id}`)).json.connection as { status: string }).status;
}

function echo(client: Client, name: string, options: { signal?: AbortSignal } = {}): Promise<CallToolResult> {
  return client.callTool({ name: `${name}__echo`, arguments: { message: "hi" } }, options).catch((error: unknown) => ({ content: [{ type: "text" as const, text: `client: ${String(error)}` }], isError: true }));
}

for (const dialect of dialects) {
  describe(`calls that end free their upstream request, on ${dialect}`, () => {
    let f: Fixture;
    beforeAll(async () => {
      f = await startFixture(dialect, { MAX_CALLS_PER_CONNECTION: "100" });
    });
    afterAll(() => stopFixture(f));

    for (const era of ["2026", "2025"] as const) {
      test(`${era} upstream: 300 calls to a hanging tool that time out or are cancelled leave no request open upstream; a healthy connection keeps answering and stays Connected`, async () => {
        const { up } = await addUpstream(f, `hang${era}`, { era, callTimeoutMs: 1000 });
        const healthy = await addUpstream(f, `fine${era}`, { era });
        up.mode = { kind: "hang" };
        const calls = Array.from({ length: 300 }, (_, i) => {
          // Every other call is given up by the client; the rest run into the connection's deadline.
          const signal = i % 2 === 0 ? AbortSignal.timeout(100) : undefined;
          return echo(f.clients[0]!, `hang${era}`, { signal });
        });
        const results = await Promise.all(calls);
        expect(results.every((r) => r.isError)).toBe(true);
        expect(up.toolCalls).toBeGreaterThan(0);
        await waitFor(() => up.hanging === 0, { timeoutMs: 5000, what: "the upstream to see every request closed" });
        const answers = await Promise.all(Array.from({ length: 20 }, () => echo(f.clients[0]!, `fine${era}`)));
        expect(answers.map(text)).toEqual(Array.from({ length: 20 }, () => "hi"));
        expect(await statusOf(f, healthy.id)).toBe("connected");
      }, 30_000);
    }
  });

  describe(`calls beyond a connection's limit queue, on ${dialect}`, () => {
    test("a call that waited in the queue past its bound is refused with a sentence naming the queue; a cancelled queued call leaves the queue at once; another connection is not held up", async () => {
      const f = await startFixture(dialect, { MAX_CALLS_PER_CONNECTION: "1", MAX_QUEUED_CALLS_PER_CONNECTION: "1", MAX_QUEUE_WAIT_MS: "200" });
      try {
        const { up, id } = await addUpstream(f, "busy", { callTimeoutMs: 5000 });
        await addUpstream(f, "other");
        up.mode = { kind: "hang" };
        const client = f.clients[0]!;
        const stuck = echo(client, "busy", { signal: AbortSignal.timeout(4000) });
        await waitFor(() => up.hanging === 1, { timeoutMs: 2000, what: "the first call to reach the upstream" });
        const waited = await echo(client, "busy");
        expect(text(waited)).toBe("busy already has 1 call in flight and this one waited 0.2 s in its queue, the longest a call may wait; it was not sent. Try again when fewer calls are running.");

        const cancelled = new AbortController();
        const queued = echo(client, "busy", { signal: cancelled.signal });
        await waitFor(() => f.t.gateway.deps.pool.calls.queued(id) === 1, { timeoutMs: 2000, what: "the call to queue" });
        cancelled.abort();
        await queued;
        await waitFor(() => f.t.gateway.deps.pool.calls.queued(id) === 0, { timeoutMs: 2000, what: "the cancelled call to leave the queue" });

        const filling = echo(client, "busy");
        await waitFor(() => f.t.gateway.deps.pool.calls.queued(id) === 1, { timeoutMs: 2000, what: "the queue to fill" });
        expect(text(await echo(client, "busy"))).toBe("busy already has 1 call in flight and 1 waiting in its queue, the most it holds; this one was not sent. Try again when fewer calls are running.");
        expect(text(await echo(client, "other"))).toBe("hi");
        await Promise.all([filling, stuck]);
      } finally {
        await stopFixture(f);
      }
    }, 30_000);
  });

  describe(`a burst of a thousand callers on one connection, on ${dialect}`, () => {
    // The burst comes from its own process (test/helpers/burst.ts): this one may open only 256
    // requests at once. The upstream holds every call until the queue is full, then answers them.
    test("1,000 calls at once to one healthy connection (8 in flight) all wait their turn in its queue and all answer, none refused; another connection answers meanwhile", async () => {
      const f = await startFixture(dialect, { MAX_CALLS_PER_CONNECTION: "8", MAX_QUEUE_WAIT_MS: "120000" });
      try {
        const { up, id } = await addUpstream(f, "busy");
        await addUpstream(f, "other");
        up.mode = { kind: "gate" };
        const burst = startBurst(f.t.url, f.key, "busy__echo", 1000);
        // 992 waiting: more than the 512 the queue used to hold by default.
        await waitFor(() => f.t.gateway.deps.pool.calls.queued(id) === 992, { timeoutMs: 100_000, what: "992 calls to queue behind the 8 in flight" });
        expect(text(await echo(f.clients[0]!, "other"))).toBe("hi");
        up.openGate();
        expect(await burst.done).toEqual({ hi: 1000 });
        expect(f.t.gateway.deps.pool.calls.queued(id)).toBe(0);
      } finally {
        await stopFixture(f);
      }
    }, 240_000);

    test("past the queue's bound each extra call is refused at once with a sentence giving both numbers; the queued ones still answer", async () => {
      const f = await startFixture(dialect, { MAX_CALLS_PER_CONNECTION: "8", MAX_QUEUED_CALLS_PER_CONNECTION: "600", MAX_QUEUE_WAIT_MS: "120000" });
      try {
        const { up, id } = await addUpstream(f, "busy");
        up.mode = { kind: "gate" };
        const burst = startBurst(f.t.url, f.key, "busy__echo", 1000);
        await waitFor(() => f.t.gateway.deps.pool.calls.queued(id) === 600, { timeoutMs: 100_000, what: "the queue to fill" });
        // Every call beyond 8 + 600 is answered at once, while the others still wait.
        await waitFor(() => burst.answered() === 392, { timeoutMs: 100_000, what: "392 calls to be refused" });
        up.openGate();
        expect(await burst.done).toEqual({
          hi: 608,
          "busy already has 8 calls in flight and 600 waiting in its queue, the most it holds; this one was not sent. Try again when fewer calls are running.": 392,
        });
      } finally {
        await stopFixture(f);
      }
    }, 240_000);
  });

  describe(`failure detection over time, on ${dialect}`, () => {
    let f: Fixture;
    beforeAll(async () => {
      f = await startFixture(dialect, {}, 8);
    });
    afterAll(() => stopFixture(f));

    test("a flapping upstream with 8 concurrent callers is not paused, and serves about half its calls", async () => {
      const { up, id } = await addUpstream(f, "flapping");
      up.mode = { kind: "flap" };
      const results: CallToolResult[] = [];
      for (let round = 0; round < 6; round++) {
        results.push(...(await Promise.all(f.clients.map((c) => echo(c, "flapping")))));
        expect(await statusOf(f, id)).not.toBe("paused");
      }
      expect(results.filter((r) => !r.isError).length).toBeGreaterThanOrEqual(results.length * 0.4);
    }, 30_000);

    test("one bad second (8 concurrent calls failing at once) does not pause a connection that was answering", async () => {
      const { up, id } = await addUpstream(f, "blip");
      await Promise.all(f.clients.map((c) => echo(c, "blip")));
      up.mode = { kind: "status", status: 500 };
      await Promise.all(f.clients.map((c) => echo(c, "blip")));
      expect(await statusOf(f, id)).not.toBe("paused");
      up.mode = { kind: "ok" };
      const after = await Promise.all(f.clients.map((c) => echo(c, "blip")));
      expect(after.map(text)).toEqual(f.clients.map(() => "hi"));
      expect(await statusOf(f, id)).toBe("connected");
    }, 30_000);

    test("a dead upstream with 8 concurrent callers is paused", async () => {
      const { up, id } = await addUpstream(f, "dead");
      up.mode = { kind: "status", status: 500 };
      for (let round = 0; round < 3; round++) await Promise.all(f.clients.map((c) => echo(c, "dead")));
      expect(await statusOf(f, id)).toBe("paused");
    }, 30_000);

    for (const status of [429, 503]) {
      test(`HTTP ${status} with Retry-After: 2 — no request reaches the upstream within the window, calls say when to retry, then resume`, async () => {
        const { up } = await addUpstream(f, `limited${status}`);
        up.mode = { kind: "status", status, retryAfter: "2" };
        const first = await echo(f.clients[0]!, `limited${status}`);
        expect(first.isError).toBe(true);
        const until = Date.now() + 2000;
        const sent = up.toolCalls;
        const during = await Promise.all(f.clients.map((c) => echo(c, `limited${status}`)));
        for (const r of during) expect(text(r)).toMatch(new RegExp(`^limited${status} asked the gateway to wait until \\S+Z \\(HTTP ${status}, Retry-After\\); this call was not sent\\. Try again after that time\\.$`));
        expect(up.toolCalls).toBe(sent);
        up.mode = { kind: "ok" };
        await waitFor(() => Date.now() > until + 50, { timeoutMs: 4000, what: "the Retry-After window to pass" });
        expect(text(await echo(f.clients[0]!, `limited${status}`))).toBe("hi");
        expect(up.toolCalls).toBe(sent + 1);
      }, 30_000);
    }
  });
}

// The gateway as its own process: its outbound requests do not share this test's (Bun's default 256).
describe("the gateway process under load", () => {
  test("sets its own outbound request limit and heap size, and 256 concurrent calls against one fast connection all answer", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mgw-load-"));
    const env = { DATA_DIR: dataDir, UPSTREAM_ALLOW: "127.0.0.1", LOG_LEVEL: "info" };
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    const database = await openDatabase(loaded.config.database);
    const owner = await setupOwner(database, { email: "load@example.com", password: "a long enough password" });
    if (!owner.ok) throw new Error("setup");
    const created = await createApiKey(database, { workspaceId: owner.workspaceId, userId: owner.userId, name: "load" });
    if (!created.ok) throw new Error("key");
    await database.close();
    const up = await startLoadUpstream();
    const gateway = await spawnGateway(env);
    const clients: Client[] = [];
    try {
      expect(gateway.output()).toContain('"outboundRequestLimit":4096');
      // And its garbage collector sized as on a small machine (outbound-limit.ts GC_RAM_SIZE).
      expect(gateway.output()).toContain(`"gcRamSize":${256 * 1024 * 1024}`);
      expect((await api(gateway.url, created.key)("POST", "/api/v1/connections", { name: "fast", url: up.url })).status).toBe(201);
      clients.push(...(await Promise.all(Array.from({ length: 4 }, () => connectClient(gateway.url, created.key)))));
      const results = await Promise.all(Array.from({ length: 256 }, (_, i) => echo(clients[i % 4]!, "fast")));
      expect(results.filter((r) => r.isError).map(text)).toEqual([]);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      gateway.child.kill("SIGTERM");
      await gateway.child.exited;
      await up.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
