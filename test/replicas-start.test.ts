import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeBase64 } from "@oslojs/encoding";
import { SQL } from "bun";
import { createPostgresDatabase } from "./helpers/gateway.ts";
import { spawnGateway, type GatewayProcess } from "./helpers/process.ts";

// An operator scales to three replicas and starts them at once on a database nothing has touched:
// every replica runs the migrations, and all three must come up.
describe.skipIf(!process.env.TEST_DATABASE_URL)("replicas started together on an empty PostgreSQL", () => {
  let drop: () => Promise<void>;
  let databaseUrl: string;
  const folders: string[] = [];
  const started: GatewayProcess[] = [];

  beforeAll(async () => {
    const database = await createPostgresDatabase();
    drop = database.drop;
    databaseUrl = database.url;
  });
  afterAll(async () => {
    for (const gateway of started) gateway.child.kill();
    await Promise.all(started.map((g) => g.child.exited));
    await drop?.();
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  test("three replicas started at once on a fresh database all serve /readyz 200", async () => {
    const key = encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
    const spawns = [0, 1, 2].map(async () => {
      const folder = mkdtempSync(join(tmpdir(), "mgw-start-"));
      folders.push(folder);
      const gateway = await spawnGateway({ DATA_DIR: folder, DATABASE_URL: databaseUrl, GATEWAY_ENCRYPTION_KEY: key }, { startTimeoutMs: 25_000 });
      started.push(gateway);
      return gateway;
    });
    const outcomes = await Promise.allSettled(spawns);
    const failures = outcomes.flatMap((o) => (o.status === "rejected" ? [String(o.reason)] : []));
    expect(failures).toEqual([]);
    for (const gateway of started) {
      const ready = await fetch(`${gateway.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ok: true, failing: [], checks: { database: { ok: true }, migrations: { ok: true, detail: "up to date" } } });
    }
  }, 40_000);

  test("a migration that fails says so, instead of blaming DATABASE_URL", async () => {
    const broken = await createPostgresDatabase();
    const folder = mkdtempSync(join(tmpdir(), "mgw-start-"));
    folders.push(folder);
    try {
      // A table of the gateway's name that is not the gateway's: its first migration cannot run.
      const admin = new SQL(broken.url, { max: 1 });
      await admin.unsafe(`create table workspaces (something_else int)`);
      await admin.close();
      const failed = await spawnGateway({ DATA_DIR: folder, DATABASE_URL: broken.url }).then(
        (gateway) => {
          started.push(gateway);
          return "started";
        },
        (error: Error) => error.message,
      );
      expect(failed).toContain("was reached, but its migrations failed");
      expect(failed).toContain("already exists");
      expect(failed).not.toContain("Check DATABASE_URL");
      expect(failed).not.toContain("CREATE TABLE");
    } finally {
      await broken.drop();
    }
  }, 30_000);
});
