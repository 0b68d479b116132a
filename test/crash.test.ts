import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database as SQLite } from "bun:sqlite";
import { inArray } from "drizzle-orm";
import type { Client } from "@modelcontextprotocol/client";
import { loadConfig } from "../src/config.ts";
import { openDatabase } from "../src/db/client.ts";
import { setupOwner } from "../src/accounts/accounts.ts";
import { createApiKey } from "../src/accounts/api-keys.ts";
import { createPostgresDatabase, dialects } from "./helpers/gateway.ts";
import { startUpstream, type Upstream } from "./helpers/upstream.ts";
import { spawnGateway } from "./helpers/process.ts";
import { connectClient } from "./helpers/client.ts";
import { waitFor } from "./helpers/wait.ts";

/**
 * What "acknowledged" means here, as README.md promises it:
 * - a connection whose POST answered 201 is committed before that answer;
 * - a call's access-log entry is written in batches every 200 ms, off the hot path, so it is
 *   durable within ACCESS_LOG_DURABLE_MS of the call's answer. A crash inside that window may
 *   lose it (a graceful shutdown does not: it flushes).
 */
const ACCESS_LOG_DURABLE_MS = 300;
const ROUNDS = 3;
const KEY = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");

/** A small seeded generator, so that a failing run can be replayed with CRASH_SEED. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

type Acked = { connections: Set<string>; calls: { connection: string; tool: string; at: number }[] };

for (const dialect of dialects) {
  describe(`a gateway killed with SIGKILL on ${dialect}`, () => {
    const seed = Number(process.env.CRASH_SEED) || Math.floor(Math.random() * 2 ** 31);
    const random = seeded(seed);
    let dataDir: string;
    let env: Record<string, string>;
    let dropDatabase: (() => Promise<void>) | null = null;
    let upstream: Upstream;
    let key: string;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "mgw-crash-"));
      let databaseUrl: string | undefined;
      if (dialect === "postgres") ({ url: databaseUrl, drop: dropDatabase } = await createPostgresDatabase());
      env = {
        DATA_DIR: dataDir,
        GATEWAY_ENCRYPTION_KEY: KEY,
        UPSTREAM_ALLOW: "127.0.0.1",
        LOG_LEVEL: "warn",
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      };
      const database = await openConfigured(env);
      const owner = await setupOwner(database, { email: "crash@example.com", password: "a long enough password" });
      if (!owner.ok) throw new Error("setup");
      const created = await createApiKey(database, { workspaceId: owner.workspaceId, userId: owner.userId, name: "crash" });
      if (!created.ok) throw new Error("key");
      key = created.key;
      await database.close();
      upstream = await startUpstream({ tools: ["echo", "add"] });
    });
    afterAll(async () => {
      await upstream.stop();
      await dropDatabase?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    test(`after each kill the database is intact and holds every acknowledged write (seed ${seed})`, async () => {
      const total = { connections: 0, calls: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        const gateway = await spawnGateway(env);
        const acked: Acked = { connections: new Set(), calls: [] };
        let killedAt = Number.POSITIVE_INFINITY;
        const workers = [0, 1].map((worker) => work(gateway.url, key, `r${round}w${worker}`, upstream.url, acked, () => killedAt));
        // The first round dies at any moment, its first writes included; the others some time
        // after their first acknowledged write, so that every run checks real work on a slow machine too.
        // Those later rounds also outlive the access log's durability window, so at least their
        // first acknowledged call is one the check must find (random kills alone could all land early).
        if (round > 0) await waitForFirstAck(acked);
        // The scenario: a kill at a random moment (past the durability window after the first round).
        await Bun.sleep((round > 0 ? ACCESS_LOG_DURABLE_MS : 0) + random() * 1200);
        killedAt = Date.now();
        gateway.child.kill("SIGKILL");
        await gateway.child.exited;
        await Promise.all(workers);

        expect(await checkIntegrity(dialect, dataDir, env)).toBe("ok");
        const database = await openConfigured(env);
        try {
          const { t } = database;
          const names = [...acked.connections];
          const stored = names.length === 0 ? [] : await database.db.select({ name: t.connections.name }).from(t.connections).where(inArray(t.connections.name, names));
          expect(stored.map((r) => r.name).sort()).toEqual(names.sort());
          const durable = acked.calls.filter((c) => c.at <= killedAt - ACCESS_LOG_DURABLE_MS);
          const logged = new Set((await database.db.select({ connection: t.accessLog.connectionName, tool: t.accessLog.tool }).from(t.accessLog)).map((r) => `${r.connection}__${r.tool}`));
          expect(durable.filter((c) => !logged.has(`${c.connection}__${c.tool}`))).toEqual([]);
          total.connections += names.length;
          total.calls += durable.length;
        } finally {
          await database.close();
        }
      }
      // The rounds did real work: something was acknowledged, and checked, across them.
      expect(total.connections).toBeGreaterThan(0);
      expect(total.calls).toBeGreaterThan(0);
    }, 60_000);
  });
}

async function waitForFirstAck(acked: Acked): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (acked.calls.length === 0 && Date.now() < deadline) await Bun.sleep(10);
}


for (const dialect of dialects) {
  describe(`a gateway stopped with SIGTERM on ${dialect}`, () => {
    test("lets calls in flight finish, cancels the rest upstream after the grace period, flushes the access log and exits 0", async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "mgw-term-"));
      const pg = dialect === "postgres" ? await createPostgresDatabase() : null;
      const env = { DATA_DIR: dataDir, GATEWAY_ENCRYPTION_KEY: KEY, UPSTREAM_ALLOW: "127.0.0.1", LOG_LEVEL: "warn", SHUTDOWN_GRACE_MS: "1000", ...(pg ? { DATABASE_URL: pg.url } : {}) };
      const upstream = await startUpstream({ tools: ["echo", "slow", "hang"] });
      try {
        const database = await openConfigured(env);
        const owner = await setupOwner(database, { email: "term@example.com", password: "a long enough password" });
        if (!owner.ok) throw new Error("setup");
        const created = await createApiKey(database, { workspaceId: owner.workspaceId, userId: owner.userId, name: "term" });
        if (!created.ok) throw new Error("key");
        await database.close();
        const gateway = await spawnGateway(env);
        const added = await fetch(`${gateway.url}/api/v1/connections`, {
          method: "POST",
          headers: { authorization: `Bearer ${created.key}`, "content-type": "application/json" },
          body: JSON.stringify({ name: "up", url: upstream.url, expose: "all" }),
        });
        expect(added.status).toBe(201);
        // Both eras: a 2026 stateless client, and a 2025 client with a session and its stream.
        const client = await connectClient(gateway.url, created.key);
        const legacy = await connectClient(gateway.url, created.key, "2025-11-25");
        const slow = client.callTool({ name: "up__slow", arguments: { ms: 400 } });
        const hung = legacy.callTool({ name: "up__hang", arguments: {} });
        await waitFor(() => upstream.calls >= 2, { what: "both calls to reach the upstream" });
        const signalled = Date.now();
        gateway.child.kill("SIGTERM");
        const texts = (await Promise.all([slow, hung])).map((r) => r.content.map((c) => (c.type === "text" ? c.text : "")).join(""));
        expect(texts).toEqual(["slept 400 ms", "The gateway is shutting down, so this call was cancelled. Call again in a moment."]);
        expect(await gateway.child.exited).toBe(0);
        expect(Date.now() - signalled).toBeLessThan(1000 + 3000);
        expect(upstream.cancelled).toContain("hang");
        await Promise.all([client.close().catch(() => undefined), legacy.close().catch(() => undefined)]);
        const after = await openConfigured(env);
        try {
          const rows = await after.db.select({ tool: after.t.accessLog.tool, outcome: after.t.accessLog.outcome }).from(after.t.accessLog);
          expect(rows.map((r) => `${r.tool}:${r.outcome}`).sort()).toEqual(["hang:upstream_error", "slow:ok"]);
        } finally {
          await after.close();
        }
      } finally {
        await upstream.stop();
        await pg?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }, 30_000);
  });
}

/** Adds connections one after another and calls two tools of each, until the gateway dies. */
async function work(url: string, key: string, prefix: string, upstreamUrl: string, acked: Acked, killedAt: () => number): Promise<void> {
  let client: Client | null = null;
  try {
    client = await connectClient(url, key);
    for (let i = 0; Date.now() < killedAt(); i++) {
      const name = `${prefix}n${i}`;
      const response = await fetch(`${url}/api/v1/connections`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ name, url: upstreamUrl, expose: "all" }),
      });
      await response.arrayBuffer();
      if (response.status !== 201) throw new Error(`add answered ${response.status}`);
      acked.connections.add(name);
      for (const [tool, args] of [["echo", { message: name }], ["add", { a: i, b: 1 }]] as const) {
        await client.callTool({ name: `${name}__${tool}`, arguments: args });
        acked.calls.push({ connection: name, tool, at: Date.now() });
      }
    }
  } catch {
    // The gateway was killed under us: whatever was acknowledged before is recorded.
  } finally {
    await client?.close().catch(() => undefined);
  }
}

async function openConfigured(env: Record<string, string>): ReturnType<typeof openDatabase> {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.errors.join("; "));
  return openDatabase(loaded.config.database);
}

/** SQLite: PRAGMA integrity_check on the file the killed process left. Postgres: it opens and answers. */
async function checkIntegrity(dialect: string, dataDir: string, env: Record<string, string>): Promise<string> {
  if (dialect === "sqlite") {
    const db = new SQLite(join(dataDir, "gateway.db"));
    try {
      return (db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
    } finally {
      db.close();
    }
  }
  const database = await openConfigured(env);
  try {
    return (await database.ping()) ? "ok" : "unreachable";
  } finally {
    await database.close();
  }
}
