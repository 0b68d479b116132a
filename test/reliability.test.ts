import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CallToolResult, Client } from "@modelcontextprotocol/client";
import { dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { startFaultyUpstream, type FaultMode, type FaultyUpstream } from "./helpers/faulty-upstream.ts";
import { api, connectClient } from "./helpers/client.ts";
import { waitFor } from "./helpers/wait.ts";
import { MAX_UPSTREAM_RESPONSE_BYTES } from "../src/upstream/client.ts";
import { retryConnectionNow } from "../src/connections/resync.ts";
import { listStatusEvents } from "../src/connections/status.ts";
import { text } from "./helpers/results.ts";

// Small numbers so that pauses and windows pass within a test. The prober only runs when a test
// calls tick(), so that statuses stay put while a test looks at them.
const ENV = {
  PAUSE_AFTER_FAILURES: "3",
  // These tests fail calls one after another within milliseconds: any run of 3 counts.
  PAUSE_FAILURE_SPAN_MS: "0",
  MAX_QUEUED_CALLS_PER_CONNECTION: "1",
  MAX_QUEUE_WAIT_MS: "200",
  PAUSE_FIRST_MS: "400",
  PAUSE_MAX_MS: "1000",
  PROBE_INTERVAL_MS: "3600000",
  MAX_CALLS_PER_CONNECTION: "4",
};
const DEADLINE_MS = 1000;

type Status = { id: string; name: string; status: string; statusLabel: string; statusDetail: string | null; consecutiveFailures: number; pausedUntil: number | null };
type Event = { at: number; from: string; to: string; reason: string | null };

for (const dialect of dialects) {
  describe(`upstream faults on ${dialect}`, () => {
    let t: TestGateway;
    let key: string;
    let workspaceId: string;
    let call: ReturnType<typeof api>;
    let steady: Upstream;
    let client: Client;
    let steadyClient: Client;
    const faulty: FaultyUpstream[] = [];

    beforeAll(async () => {
      [t, steady] = await Promise.all([startTestGateway({ dialect, env: ENV }), startUpstream({ tools: ["echo", "slow"] })]);
      ({ key, workspaceId } = await seedOwner(t));
      call = api(t.url, key);
      expect((await call("POST", "/api/v1/connections", { name: "steady", url: steady.url })).status).toBe(201);
      [client, steadyClient] = await Promise.all([connectClient(t.url, key), connectClient(t.url, key)]);
    });
    afterAll(async () => {
      await Promise.all([client.close(), steadyClient.close()]);
      await t.stop();
      await Promise.all([steady.stop(), ...faulty.map((f) => f.stop())]);
    });

    /** A connection to a fresh faulty upstream, used once while healthy (so the gateway holds a client), then faulted. */
    async function addFaulty(name: string, mode: FaultMode, options: { slowMs?: number; warm?: boolean } = {}): Promise<{ up: FaultyUpstream; id: string }> {
      const up = await startFaultyUpstream("ok", { slowMs: options.slowMs });
      faulty.push(up);
      const added = await call("POST", "/api/v1/connections", { name, url: up.url, callTimeoutMs: DEADLINE_MS });
      expect(added.status).toBe(201);
      if (options.warm ?? true) expect(text(await client.callTool({ name: `${name}__echo`, arguments: { message: "warm" } }))).toBe("warm");
      await up.setMode(mode);
      return { up, id: (added.json.connection as { id: string }).id };
    }

    async function statusOf(id: string): Promise<Status> {
      return (await call("GET", `/api/v1/connections/${id}`)).json.connection as Status;
    }

    async function eventsOf(id: string): Promise<Event[]> {
      return (await call("GET", `/api/v1/connections/${id}`)).json.events as Event[];
    }

    const toolCalls = (up: FaultyUpstream): number => up.methods.filter((m) => m === "tools/call").length;

    /**
     * Runs `faulty` and, while it is pending, calls the healthy upstream, lists tools and reads the
     * dashboard API: all must answer normally, and (a functional bound, not a benchmark) before
     * the faulty call is over.
     */
    async function duringFault(faultyCall: Promise<CallToolResult>): Promise<{ result: CallToolResult; steadyMs: number; faultyDoneFirst: boolean }> {
      let faultyDone = false;
      const tracked = faultyCall.finally(() => {
        faultyDone = true;
      });
      await waitFor(() => faultyDone || t.gateway.deps.pool.calls.size > 0, { what: "the faulty call to be in flight at the gateway" });
      const started = performance.now();
      const echoed = await steadyClient.callTool({ name: "steady__echo", arguments: { message: "still here" } });
      const tools = await steadyClient.listTools();
      const listed = await call("GET", "/api/v1/connections");
      const steadyMs = performance.now() - started;
      const faultyDoneFirst = faultyDone;
      expect(text(echoed)).toBe("still here");
      expect(echoed.isError).toBeFalsy();
      expect(tools.tools.map((x) => x.name)).toContain("steady__echo");
      expect(listed.status).toBe(200);
      return { result: await tracked, steadyMs, faultyDoneFirst };
    }

    test("hang: the call ends at the connection's deadline with a sentence, once; the connection is in Error; others answer meanwhile", async () => {
      const { up, id } = await addFaulty("hang", "hang");
      const started = performance.now();
      const { result, faultyDoneFirst, steadyMs } = await duringFault(client.callTool({ name: "hang__echo", arguments: { message: "x" } }));
      expect(performance.now() - started).toBeLessThan(DEADLINE_MS + 2000);
      expect(result.isError).toBe(true);
      expect(text(result)).toBe("hang did not answer within 1 s; the call was cancelled. Try again, or raise the connection's timeout.");
      expect(faultyDoneFirst).toBe(false);
      expect(steadyMs).toBeLessThan(DEADLINE_MS);
      expect(toolCalls(up)).toBe(2); // the warm-up and this one: a call that may have arrived is never sent again
      expect(await statusOf(id)).toMatchObject({ status: "error", statusLabel: "Error", statusDetail: "the server did not answer in time", consecutiveFailures: 1 });
    });

    test("hang: a handshake with a hung upstream has a deadline too, and does not hold up other connections", async () => {
      const { id } = await addFaulty("hang-connect", "hang", { warm: false });
      const { result, faultyDoneFirst } = await duringFault(client.callTool({ name: "hang-connect__echo", arguments: { message: "x" } }));
      expect(faultyDoneFirst).toBe(false);
      expect(text(result)).toContain("did not answer within 1 s");
      expect((await statusOf(id)).status).toBe("error");
    });

    test("hang: calls beyond the per-connection cap wait in a bounded queue, then are refused, instead of piling up", async () => {
      const { up } = await addFaulty("pile", "hang");
      const calls = Array.from({ length: 6 }, () => client.callTool({ name: "pile__echo", arguments: { message: "x" } }));
      const results = await Promise.all(calls);
      const full = results.filter((r) => text(r).includes("already has 4 calls in flight and 1 waiting in its queue"));
      const waited = results.filter((r) => text(r).includes("already has 4 calls in flight and this one waited 0.2 s in its queue"));
      const timedOut = results.filter((r) => text(r).includes("did not answer within 1 s"));
      expect([full.length, waited.length, timedOut.length]).toEqual([1, 1, 4]);
      expect(toolCalls(up)).toBe(1 + 4);
    });

    test("slow: an answer within the deadline comes through; the connection stays Connected", async () => {
      const { id } = await addFaulty("slow", "slow", { slowMs: 300 });
      const { result } = await duringFault(client.callTool({ name: "slow__echo", arguments: { message: "eventually" } }));
      expect(result.isError).toBeFalsy();
      expect(text(result)).toBe("eventually");
      expect((await statusOf(id)).status).toBe("connected");
    });

    const answered: [FaultMode, string, string][] = [
      ["http500", "the server answered HTTP 500", "http500 failed: the server answered HTTP 500."],
      ["http429", "the server is rate limiting requests (429); try again later", "http429 failed: the server is rate limiting requests (429); try again later."],
      ["garbage", "the server's answer is not valid MCP (JSON-RPC) — is this an MCP endpoint?", "garbage failed: the server's answer is not valid MCP (JSON-RPC) — is this an MCP endpoint?."],
      ["invalid-jsonrpc", "the server's answer is not valid MCP (JSON-RPC) — is this an MCP endpoint?", "invalid-jsonrpc failed: the server's answer is not valid MCP (JSON-RPC) — is this an MCP endpoint?."],
      ["drop-mid-sse", "the server dropped the connection in the middle of its answer", "drop-mid-sse failed: the server dropped the connection in the middle of its answer."],
    ];
    for (const [mode, detail, sentence] of answered) {
      test(`${mode}: the client gets a result saying so at once, the call is not sent again, the connection is in Error`, async () => {
        const { up, id } = await addFaulty(mode, mode);
        const started = performance.now();
        const { result } = await duringFault(client.callTool({ name: `${mode}__echo`, arguments: { message: "x" } }));
        expect(performance.now() - started).toBeLessThan(DEADLINE_MS);
        expect(result.isError).toBe(true);
        expect(text(result)).toBe(sentence);
        expect(toolCalls(up)).toBe(2);
        expect(await statusOf(id)).toMatchObject({ status: "error", statusDetail: detail });
      });
    }

    test("http401: Needs re-auth; the next call fails at once without reaching the upstream; no background check polls it", async () => {
      const { up, id } = await addFaulty("reauth", "http401");
      const { result } = await duringFault(client.callTool({ name: "reauth__echo", arguments: { message: "x" } }));
      expect(text(result)).toBe("reauth needs re-authorization in the gateway dashboard: the server refused the stored credential (401); re-authorize the connection.");
      expect(await statusOf(id)).toMatchObject({ status: "needs_reauth", statusLabel: "Needs re-auth" });
      const hits = up.hits;
      const again = await client.callTool({ name: "reauth__echo", arguments: { message: "x" } });
      expect(text(again)).toContain("reauth needs re-authorization in the gateway dashboard");
      expect(text(again)).toContain("Re-authorize it there, then call again.");
      await t.gateway.prober.tick();
      expect(up.hits).toBe(hits);
      // Once the credential is accepted again, Retry now brings it back.
      await up.setMode("ok");
      expect((await call("POST", `/api/v1/connections/${id}/retry`)).json.connection).toMatchObject({ status: "connected" });
    });

    test("flap: calls alternate between answers and errors; the status follows without ever pausing, and every change is recorded", async () => {
      const { id } = await addFaulty("flap", "flap");
      const outcomes: string[] = [];
      for (let i = 0; i < 6; i++) {
        const result = await client.callTool({ name: "flap__echo", arguments: { message: "up" } });
        outcomes.push(result.isError ? text(result) : "ok");
        outcomes.push((await statusOf(id)).status);
      }
      expect(outcomes).toEqual(Array.from({ length: 3 }, () => ["ok", "connected", "flap failed: the server answered HTTP 500.", "error"]).flat());
      const events = await eventsOf(id);
      expect(events.map((e) => `${e.from}>${e.to}`)).toEqual(["connected>error", "error>connected", "connected>error", "error>connected", "connected>error"]);
      expect(events[0]?.reason).toBe("the server answered HTTP 500");
    });

    test(`huge: the gateway stops reading at ${MAX_UPSTREAM_RESPONSE_BYTES / 1024 / 1024} MiB and says so; one answer too large is not the server's health`, async () => {
      const { id } = await addFaulty("huge", "huge");
      const { result } = await duringFault(client.callTool({ name: "huge__echo", arguments: { message: "x" } }));
      expect(result.isError).toBe(true);
      expect(text(result)).toBe("huge failed: the upstream answer was larger than 16 MiB and was cut off.");
      expect(await statusOf(id)).toMatchObject({ status: "connected", consecutiveFailures: 0 });
    });

    test("refused: a call that never left is retried with backoff inside the deadline, then fails saying the server is down", async () => {
      const { up, id } = await addFaulty("refused", "refused");
      const started = performance.now();
      const { result } = await duringFault(client.callTool({ name: "refused__echo", arguments: { message: "x" } }));
      expect(performance.now() - started).toBeLessThan(DEADLINE_MS + 500);
      expect(text(result)).toBe("refused failed: the server refused the connection (is it running?).");
      expect(await statusOf(id)).toMatchObject({ status: "error", statusDetail: "the server refused the connection (is it running?)" });
      const retries = t.logs.filter((l) => l.includes('"connection":"refused"') && /upstream (call|connect) retried/.test(l));
      expect(retries.some((l) => l.includes("upstream call retried"))).toBe(true);
      expect(retries.filter((l) => l.includes("upstream connect retried")).length).toBeGreaterThanOrEqual(2);
      expect(toolCalls(up)).toBe(1);
    });

    test("refused: an upstream back within the backoff gets the call exactly once", async () => {
      const { up } = await addFaulty("restart", "refused");
      const pending = client.callTool({ name: "restart__echo", arguments: { message: "after restart" } });
      await waitFor(() => t.logs.some((l) => l.includes('"connection":"restart"') && /upstream (call|connect) retried/.test(l)), { what: "the gateway to be refused and back off" });
      await up.setMode("ok");
      const result = await pending;
      expect(text(result)).toBe("after restart");
      expect(toolCalls(up)).toBe(2);
    });

    test("an upstream that restarted refuses the old session; the call goes again on a new session, and answers", async () => {
      const port = freePort();
      const url = `http://127.0.0.1:${port}/mcp`;
      let reference = await spawnEverything(port); // speaks 2025-11-25 only: sessions
      try {
        expect((await call("POST", "/api/v1/connections", { name: "ref", url })).status).toBe(201);
        expect(text(await client.callTool({ name: "ref__echo", arguments: { message: "before" } }))).toBe("Echo: before");
        reference.kill();
        await reference.exited;
        reference = await spawnEverything(port);
        expect(text(await client.callTool({ name: "ref__echo", arguments: { message: "after" } }))).toBe("Echo: after");
        expect(t.logs.some((l) => l.includes('"connection":"ref"') && l.includes("no longer knows the gateway's session"))).toBe(true);
      } finally {
        reference.kill();
        await reference.exited;
      }
    });

    test("list-changed-storm: at most one re-sync per second; clients hear of it only when the tools really changed", async () => {
      const { up, id } = await addFaulty("storm", "list-changed-storm");
      let heard = 0;
      const listener = await connectClient(t.url, key, "2026-07-28", { onToolsChanged: () => heard++ });
      try {
        const lists = (): number => up.methods.filter((m) => m === "tools/list").length;
        const before = lists();
        const { result } = await duringFault(client.callTool({ name: "storm__echo", arguments: { message: "calm" } }));
        expect(text(result)).toBe("calm");
        // A window of the storm, not a wait for an event: the bound is on re-syncs per second.
        await Bun.sleep(2500);
        expect(lists() - before).toBeGreaterThanOrEqual(1);
        expect(lists() - before).toBeLessThanOrEqual(4);
        expect(heard).toBe(0);
        up.healthy.setTools(["echo", "brand_new"]);
        await waitFor(() => heard > 0, { what: "list_changed from the gateway" });
        expect((await listener.listTools()).tools.map((x) => x.name)).toContain("storm__brand_new");
        expect((await statusOf(id)).status).toBe("connected");
      } finally {
        await up.setMode("ok");
        await listener.close();
      }
    });

    test("N failures in a row pause a connection: its tools still list, calls fail at once saying why and when, list_connections says stale since when", async () => {
      const { up, id } = await addFaulty("pausing", "http500");
      for (let i = 0; i < 3; i++) await client.callTool({ name: "pausing__echo", arguments: { message: "x" } });
      const paused = await statusOf(id);
      expect(paused).toMatchObject({ status: "paused", statusLabel: "Paused", consecutiveFailures: 3, statusDetail: "the server answered HTTP 500" });
      expect(paused.pausedUntil).toBeGreaterThan(Date.now());
      const hits = up.hits;
      const started = performance.now();
      const refused = await client.callTool({ name: "pausing__echo", arguments: { message: "x" } });
      expect(performance.now() - started).toBeLessThan(DEADLINE_MS);
      expect(up.hits).toBe(hits);
      expect(text(refused)).toStartWith("pausing is paused after repeated failures (last error: the server answered HTTP 500). The gateway checks it again at ");
      expect(text(refused)).toContain("an admin can also Retry now in the dashboard");
      expect((await client.listTools()).tools.map((x) => x.name)).toContain("pausing__echo");
      const listed = await client.callTool({ name: "gateway__list_connections", arguments: {} });
      const entry = (listed.structuredContent as { connections: Record<string, unknown>[] }).connections.find((c) => c.name === "pausing");
      expect(entry).toMatchObject({ status: "paused", stale: true, detail: "the server answered HTTP 500" });
      expect(Date.parse(entry!.staleSince as string)).toBeLessThanOrEqual(Date.now());
      expect(Date.parse(entry!.nextCheckAt as string)).toBe(paused.pausedUntil!);
      expect(typeof entry!.toolsListedAt).toBe("string");
      const events = await eventsOf(id);
      expect(events.slice(0, 2).map((e) => `${e.from}>${e.to}`)).toEqual(["error>paused", "connected>error"]);
      expect(await listStatusEvents(t.gateway.deps.database, workspaceId, id, 1)).toEqual([expect.objectContaining({ from: "error", to: "paused" })]);
      expect(await listStatusEvents(t.gateway.deps.database, "another-workspace", id, 5)).toEqual([]);
    });

    test("a paused connection is checked by a single probe once its window is over; a failed probe doubles the window", async () => {
      const { up, id } = await addFaulty("probed", "http500");
      for (let i = 0; i < 3; i++) await client.callTool({ name: "probed__echo", arguments: { message: "x" } });
      const first = await statusOf(id);
      expect(first.status).toBe("paused");
      const lists = (): number => up.methods.filter((m) => m === "tools/list").length;
      const hits = up.hits;
      await t.gateway.prober.tick();
      expect(up.hits).toBe(hits); // still inside the window: not touched
      t.clock.advancePast(first.pausedUntil!);
      const probedAt = Date.now();
      const listed = lists();
      await Promise.all([t.gateway.prober.tick(), t.gateway.prober.tick()]);
      expect(lists() - listed).toBe(1); // one probe, one request
      const second = await statusOf(id);
      expect(second).toMatchObject({ status: "paused", consecutiveFailures: 4 });
      // 400 ms doubled once; PAUSE_MAX_MS caps the next ones at 1000 ms.
      expect(second.pausedUntil! - probedAt).toBeGreaterThanOrEqual(800 - 50);
      expect(second.pausedUntil! - probedAt).toBeLessThanOrEqual(800 + 500);

      // Healthy again, with a new tool: the next probe brings it back, tools re-synced. (The
      // upstream's list_changed may get there first: also a sync, also fine.)
      await up.setMode("ok");
      up.healthy.setTools(["echo", "added_while_paused"]);
      t.clock.advancePast(second.pausedUntil!);
      await Promise.all([t.gateway.prober.tick(), t.gateway.prober.tick()]);
      expect(await statusOf(id)).toMatchObject({ status: "connected", consecutiveFailures: 0, pausedUntil: null });
      expect((await client.listTools()).tools.map((x) => x.name)).toContain("probed__added_while_paused");
      expect(text(await client.callTool({ name: "probed__echo", arguments: { message: "back" } }))).toBe("back");
      expect((await eventsOf(id))[0]).toMatchObject({ from: "paused", to: "connected", reason: "a background check succeeded: tools listed" });
    });

    test("Retry now ends a pause at once when the upstream is back, and records who ended it", async () => {
      const { up, id } = await addFaulty("retried", "http500");
      for (let i = 0; i < 3; i++) await client.callTool({ name: "retried__echo", arguments: { message: "x" } });
      expect((await statusOf(id)).status).toBe("paused");
      const failed = await retryConnectionNow(t.gateway.deps, workspaceId, id);
      expect(failed).toEqual({ ok: false, error: "Sync failed: the server answered HTTP 500." });
      expect((await statusOf(id)).status).toBe("paused");
      await up.setMode("ok");
      const retried = await call("POST", `/api/v1/connections/${id}/retry`);
      expect(retried.status).toBe(200);
      expect(retried.json.connection).toMatchObject({ status: "connected" });
      expect((await eventsOf(id))[0]).toMatchObject({ from: "paused", to: "connected", reason: "retried now by a person: tools listed" });
      expect((await call("POST", "/api/v1/connections/nope/retry")).status).toBe(404);
    });
  });
}

for (const dialect of dialects) {
  describe(`background checks on ${dialect}`, () => {
    test("a connection in Error comes back by itself once its upstream does; healthy ones are not polled", async () => {
      const t = await startTestGateway({ dialect, env: { ...ENV, PROBE_INTERVAL_MS: "100" } });
      const [healthy, broken] = await Promise.all([startFaultyUpstream("ok"), startFaultyUpstream("ok")]);
      const client = await (async () => {
        const { key } = await seedOwner(t);
        const call = api(t.url, key);
        for (const [name, up] of [["healthy", healthy], ["broken", broken]] as const) {
          expect((await call("POST", "/api/v1/connections", { name, url: up.url, callTimeoutMs: DEADLINE_MS })).status).toBe(201);
        }
        return { call, mcp: await connectClient(t.url, key) };
      })();
      try {
        await client.mcp.callTool({ name: "healthy__echo", arguments: { message: "x" } });
        await broken.setMode("http500");
        expect(text(await client.mcp.callTool({ name: "broken__echo", arguments: { message: "x" } }))).toContain("HTTP 500");
        const brokenId = ((await client.call("GET", "/api/v1/connections")).json.connections as Status[]).find((c) => c.name === "broken")!.id;
        const healthyHits = healthy.hits;
        await broken.setMode("ok");
        await waitFor(async () => ((await client.call("GET", `/api/v1/connections/${brokenId}`)).json.connection as Status).status === "connected", { what: "the prober to bring it back" });
        // A window in which nothing may happen: the prober keeps probing, and must leave the healthy one alone.
        await Bun.sleep(300);
        expect(healthy.hits).toBe(healthyHits);
      } finally {
        await client.mcp.close();
        await t.stop();
        await Promise.all([healthy.stop(), broken.stop()]);
      }
    });
  });
}

function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = Number(probe.port);
  probe.stop(true);
  return port;
}

/** The reference server on a given port, so that it can be restarted where the gateway expects it. */
async function spawnEverything(port: number): Promise<Bun.Subprocess> {
  const entry = Bun.resolveSync("@modelcontextprotocol/server-everything/dist/index.js", import.meta.dir);
  const child = Bun.spawn(["node", entry, "streamableHttp"], { env: { ...process.env, PORT: String(port) }, stdout: "ignore", stderr: "ignore" });
  await waitFor(() => fetch(`http://127.0.0.1:${port}/mcp`).then(() => true, () => false), { timeoutMs: 15_000, what: "server-everything to listen" });
  return child;
}
