import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createApiKey } from "../src/accounts/api-keys.ts";
import { dialects, OWNER, seedOwner, signIn, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { api } from "./helpers/client.ts";
import { waitFor } from "./helpers/wait.ts";
import { addOtherTenant } from "./helpers/members.ts";

const LIMITS = {
  MAX_STREAMS_PER_KEY: "2",
  MAX_STREAMS_PER_USER: "3",
  MAX_STREAMS: "4",
  MAX_SESSIONS_PER_KEY: "2",
  MAX_SESSIONS_PER_USER: "3",
  MAX_SESSIONS: "4",
  MAX_API_KEYS_PER_USER: "3",
};

type Rig = {
  t: TestGateway;
  /** The owner's key, a second key of the owner, and a key of a user in another workspace. */
  a: string;
  a2: string;
  b: string;
};

type Opened = { response: Response; close(): void };

const rigs: Rig[] = [];
const streams: Opened[] = [];

async function startRig(dialect: (typeof dialects)[number]): Promise<Rig> {
  const t = await startTestGateway({ dialect, env: LIMITS });
  const owner = await seedOwner(t);
  const { database } = t.gateway.deps;
  const second = await createApiKey(database, { workspaceId: owner.workspaceId, userId: owner.userId, name: "second" });
  const other = await addOtherTenant(t);
  if (!second.ok) throw new Error("key");
  const rig = { t, a: owner.key, a2: second.key, b: other.key };
  rigs.push(rig);
  return rig;
}

/** A 2026-07-28 `subscriptions/listen` stream, as the SDK client opens it. */
async function listen(rig: Rig, key: string): Promise<Opened> {
  const controller = new AbortController();
  const response = await fetch(`${rig.t.url}/api/v1/mcp`, {
    method: "POST",
    signal: controller.signal,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2026-07-28", "mcp-method": "subscriptions/listen" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: "listen:0",
      method: "subscriptions/listen",
      params: { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" }, "io.modelcontextprotocol/clientCapabilities": {} }, notifications: { toolsListChanged: true } },
    }),
  });
  const opened = { response, close: () => controller.abort() };
  streams.push(opened);
  return opened;
}

/** A 2025-11-25 session; returns its id (or the refusal). */
async function initialize(rig: Rig, key: string): Promise<{ status: number; sessionId: string | null; response: Response }> {
  const response = await fetch(`${rig.t.url}/api/v1/mcp`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
  });
  return { status: response.status, sessionId: response.headers.get("mcp-session-id"), response };
}

/**
 * The session's GET stream (2025). Its headers come with its first event, so the response is not
 * awaited here: the gateway's count of held streams says when it is open.
 */
function openGetStream(rig: Rig, key: string, sessionId: string): { response: Promise<Response>; close(): void } {
  const controller = new AbortController();
  const response = fetch(`${rig.t.url}/api/v1/mcp`, {
    signal: controller.signal,
    headers: { authorization: `Bearer ${key}`, accept: "text/event-stream", "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" },
  });
  response.catch(() => undefined);
  const opened = { response, close: () => controller.abort() };
  const held: Opened = { response: new Response(null), close: opened.close };
  // Held until the test ends: the stream's headers arrive at once, and a response nobody
  // references could be collected, which closes the stream.
  void response.then(
    (r) => {
      held.response = r;
    },
    () => undefined,
  );
  streams.push(held);
  return opened;
}

async function heldStreams(rig: Rig, count: number): Promise<void> {
  await waitFor(() => rig.t.gateway.deps.mcp.held().streams === count, { what: `${count} held streams` });
}

async function expectTooMany(response: Response, words: RegExp): Promise<void> {
  expect(response.status).toBe(429);
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  const body = (await response.json()) as { error: { message: string } };
  expect(body.error.message).toMatch(words);
}

afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  await Promise.all(rigs.splice(0).map((rig) => rig.t.stop()));
});

for (const dialect of dialects) {
  describe(`what one caller can hold open, on ${dialect}`, () => {
    test("2026 listen streams past the per-key, per-user and total caps get 429 with a sentence and Retry-After; a closed stream frees its slot", async () => {
      const rig = await startRig(dialect);
      const [first, second] = [await listen(rig, rig.a), await listen(rig, rig.a)];
      expect([first.response.status, second.response.status]).toEqual([200, 200]);
      await expectTooMany((await listen(rig, rig.a)).response, /this key .*2 open streams/i);
      expect((await listen(rig, rig.a2)).response.status).toBe(200);
      await expectTooMany((await listen(rig, rig.a2)).response, /your account .*3 open streams/i);
      expect((await listen(rig, rig.b)).response.status).toBe(200);
      await expectTooMany((await listen(rig, rig.b)).response, /gateway .*4 open streams/i);
      expect(rig.t.gateway.deps.mcp.held().streams).toBe(4);

      first.close();
      await waitFor(() => rig.t.gateway.deps.mcp.held().streams === 3, { what: "the closed stream's slot to be freed" });
      expect((await listen(rig, rig.a)).response.status).toBe(200);
    });

    test("2025 sessions: past the per-key or per-user cap the idlest is closed, past the total 429; their GET streams hold stream slots", async () => {
      const rig = await startRig(dialect);
      const s1 = await initialize(rig, rig.a);
      const s2 = await initialize(rig, rig.a);
      expect([s1.status, s2.status]).toEqual([200, 200]);
      // s1 is used again, so s2 is now the idlest of the key.
      openGetStream(rig, rig.a, s1.sessionId!);
      await heldStreams(rig, 1);
      const s3 = await initialize(rig, rig.a);
      expect(s3.status).toBe(200);
      expect(rig.t.gateway.deps.mcp.held().sessions).toBe(2);
      // The closed session is unknown now: its id gets the stateless answer (no GET stream), the others stay.
      expect((await openGetStream(rig, rig.a, s2.sessionId!).response).status).toBe(405);
      const stream3 = openGetStream(rig, rig.a, s3.sessionId!);
      await heldStreams(rig, 2);
      // Two GET streams: the key's stream cap is reached, so a listen stream is refused until one closes.
      await expectTooMany((await listen(rig, rig.a)).response, /this key .*2 open streams/i);
      stream3.close();
      await heldStreams(rig, 1);
      expect((await listen(rig, rig.a)).response.status).toBe(200);

      // Per user: a second key of the same member shares the member's 3.
      expect((await initialize(rig, rig.a2)).status).toBe(200);
      expect((await initialize(rig, rig.a2)).status).toBe(200);
      expect(rig.t.gateway.deps.mcp.held().sessions).toBe(3);
      // The member's idlest session was s1: closing it ended its GET stream and freed that slot.
      await heldStreams(rig, 1);
      // In all: 4, then a clear refusal rather than closing someone else's session.
      expect((await initialize(rig, rig.b)).status).toBe(200);
      const refused = await initialize(rig, rig.b);
      await expectTooMany(refused.response, /gateway .*4 sessions/i);
      expect(rig.t.gateway.deps.mcp.held().sessions).toBe(4);
    });

    test("API keys per member: one more than the cap is refused with a clear error by the API, the dashboard and the CLI; revoking one frees a place", async () => {
      const rig = await startRig(dialect);
      const call = api(rig.t.url, rig.a);
      // The owner holds "test" and "second" already.
      expect((await call("POST", "/api/v1/keys", { name: "third" })).status).toBe(201);
      const refused = await call("POST", "/api/v1/keys", { name: "fourth" });
      expect(refused.status).toBe(422);
      expect(refused.json.message).toMatch(/3 active keys/);

      const cookie = await signIn(rig.t);
      const form = { cookie, origin: rig.t.url, "content-type": "application/x-www-form-urlencoded" };
      const fragment = await fetch(`${rig.t.url}/keys`, { method: "POST", headers: { ...form, "hx-request": "true" }, body: new URLSearchParams({ name: "fourth" }) });
      expect(fragment.status).toBe(422);
      expect(await fragment.text()).toMatch(/3 active keys/);
      const page = await fetch(`${rig.t.url}/keys`, { method: "POST", headers: form, body: new URLSearchParams({ name: "fourth" }) });
      expect(page.status).toBe(422);
      expect(await page.text()).toMatch(/3 active keys/);

      const cli = Bun.spawn([process.execPath, "src/main.ts", "keys", "create", "--email", OWNER.email, "--name", "fourth"], {
        cwd: join(import.meta.dir, ".."),
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", DATA_DIR: rig.t.dataDir, ...LIMITS, ...(rig.t.config.database.kind === "postgres" ? { DATABASE_URL: rig.t.config.database.url } : {}) },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stdout, stderr, code] = await Promise.all([new Response(cli.stdout).text(), new Response(cli.stderr).text(), cli.exited]);
      expect(code).toBe(1);
      expect(stdout).toBe("");
      expect(stderr).toMatch(/3 active keys/);

      const keys = (await call("GET", "/api/v1/keys")).json.keys as { id: string; name: string }[];
      expect((await call("DELETE", `/api/v1/keys/${keys.find((k) => k.name === "third")!.id}`)).status).toBe(204);
      expect((await call("POST", "/api/v1/keys", { name: "fourth" })).status).toBe(201);
    }, 20_000);
  });
}
