import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import type { Client } from "@modelcontextprotocol/client";
import { createPostgresDatabase, dialects, seedOwner, startTestGateway, type TestGateway } from "./helpers/gateway.ts";
import { startFaultyUpstream, type FaultyUpstream } from "./helpers/faulty-upstream.ts";
import { startTcpProxy, type TcpProxy } from "./helpers/tcp-proxy.ts";
import { api, connectClient } from "./helpers/client.ts";
import { scrape } from "./helpers/prometheus.ts";

type Readiness = { ok: boolean; failing: string[]; checks: Record<string, { ok: boolean; detail: string }> };

const WARN_AFTER_MS = 10 * 60_000;

async function readyz(t: TestGateway): Promise<{ status: number; body: Readiness }> {
  const response = await fetch(`${t.url}/readyz`);
  return { status: response.status, body: (await response.json()) as Readiness };
}

for (const dialect of dialects) {
  describe(`health you can page on, on ${dialect}`, () => {
    let t: TestGateway;
    let upstream: FaultyUpstream;
    let client: Client;

    beforeAll(async () => {
      [t, upstream] = await Promise.all([startTestGateway({ dialect, env: { PROBE_INTERVAL_MS: "3600000", CONNECTION_DOWN_WARN_MS: String(WARN_AFTER_MS) } }), startFaultyUpstream("ok")]);
      const { key } = await seedOwner(t);
      expect((await api(t.url, key)("POST", "/api/v1/connections", { name: "flaky", url: upstream.url })).status).toBe(201);
      client = await connectClient(t.url, key);
    });
    afterAll(async () => {
      await client.close();
      await t.stop();
      await upstream.stop();
    });

    const downWarnings = (): string[] => t.logs.filter((line) => line.includes('"level":"warn"') && line.includes("connection flaky has been down"));

    async function failACall(): Promise<void> {
      await upstream.setMode("http500");
      expect((await client.callTool({ name: "flaky__echo", arguments: { message: "x" } })).isError).toBe(true);
    }

    test("/readyz answers 200 with each check, and names the migrations when the schema is behind this build", async () => {
      const ready = await readyz(t);
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ ok: true, failing: [], checks: { database: { ok: true }, migrations: { ok: true, detail: "up to date" } } });

      const database = t.gateway.deps.database;
      const table = dialect === "sqlite" ? sql`__drizzle_migrations` : sql`drizzle.__drizzle_migrations`;
      const saved = dialect === "sqlite" ? await (database.db as unknown as RawSqlite).all(sql`select * from ${table}`) : await (database.db as unknown as RawPostgres).execute(sql`select * from ${table}`);
      await (dialect === "sqlite" ? (database.db as unknown as RawSqlite).run(sql`delete from ${table}`) : (database.db as unknown as RawPostgres).execute(sql`delete from ${table}`));
      try {
        const behind = await readyz(t);
        expect(behind.status).toBe(503);
        expect(behind.body.failing).toEqual(["migrations"]);
        expect(behind.body.checks.migrations?.detail).toContain("no migration is recorded");
        expect(behind.body.checks.database?.ok).toBe(true);
      } finally {
        for (const row of saved as { hash: string; created_at: number }[]) {
          const insert = sql`insert into ${table} (hash, created_at) values (${row.hash}, ${row.created_at})`;
          await (dialect === "sqlite" ? (database.db as unknown as RawSqlite).run(insert) : (database.db as unknown as RawPostgres).execute(insert));
        }
      }
      expect((await readyz(t)).status).toBe(200);
    });

    test("a connection down longer than CONNECTION_DOWN_WARN_MS is logged once at warn and flagged in the metrics; again only after it recovered and failed again", async () => {
      await failACall();
      const watch = t.gateway.deps.observe.connections;
      await watch.check();
      expect(downWarnings()).toHaveLength(0);
      expect((await scrape(t.url)).value("mcp_gateway_connection_down_too_long", { connection: "flaky" })).toBe(0);

      t.clock.advance(WARN_AFTER_MS);
      await watch.check();
      await watch.check();
      expect(downWarnings()).toHaveLength(1);
      const warning = JSON.parse(downWarnings()[0]!) as Record<string, unknown>;
      expect(warning).toMatchObject({ connection: "flaky", status: "error" });
      expect(String(warning.msg)).toContain("has been down (Error) for 10 min");
      const flagged = await scrape(t.url);
      expect(flagged.value("mcp_gateway_connection_down_too_long", { connection: "flaky" })).toBe(1);
      expect(flagged.value("mcp_gateway_connection_down_seconds", { connection: "flaky" })).toBeGreaterThanOrEqual(WARN_AFTER_MS / 1000);
      expect(downWarnings()).toHaveLength(1);

      // Back: a background check succeeds; nothing more is logged, and the flag clears.
      await upstream.setMode("ok");
      await t.gateway.prober.tick();
      const recovered = await scrape(t.url);
      expect(recovered.value("mcp_gateway_connection_status", { connection: "flaky", status: "connected" })).toBe(1);
      expect(recovered.value("mcp_gateway_connection_down_too_long", { connection: "flaky" })).toBe(0);

      // Down again: a new episode, logged once more when it has lasted the threshold.
      await failACall();
      t.clock.advance(WARN_AFTER_MS);
      await watch.check();
      await watch.check();
      expect(downWarnings()).toHaveLength(2);
      await upstream.setMode("ok");
    });
  });
}

describe.skipIf(!process.env.TEST_DATABASE_URL)("/readyz when PostgreSQL is unreachable", () => {
  let t: TestGateway;
  let relay: TcpProxy;
  let database: { url: string; drop(): Promise<void> };
  let dataDir: string;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    const real = new URL(database.url);
    relay = await startTcpProxy(real.hostname, Number(real.port || 5432));
    const relayed = new URL(database.url);
    relayed.port = String(relay.port);
    dataDir = mkdtempSync(join(tmpdir(), "mgw-readyz-"));
    t = await startTestGateway({ dialect: "postgres", reuse: { dataDir, databaseUrl: relayed.toString() }, env: { DATABASE_WAIT_MS: "500" } });
  });
  afterAll(async () => {
    relay.restore();
    await t.stop();
    relay.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("says the database is the failing dependency, and recovers with it", async () => {
    expect((await readyz(t)).status).toBe(200);
    relay.cut();
    const down = await readyz(t);
    expect(down.status).toBe(503);
    expect(down.body.failing).toEqual(["database", "migrations"]);
    expect(down.body.checks.database?.ok).toBe(false);
    expect((await scrape(t.url)).value("mcp_gateway_database_up")).toBe(0);
    relay.restore();
    expect((await readyz(t)).status).toBe(200);
  });
});

type RawSqlite = { all(query: ReturnType<typeof sql>): Promise<unknown[]>; run(query: ReturnType<typeof sql>): Promise<unknown> };
type RawPostgres = { execute(query: ReturnType<typeof sql>): Promise<unknown[]> };
