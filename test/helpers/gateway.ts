import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { loadConfig, type Config } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { startGateway, type Gateway } from "../../src/runtime.ts";
import { setupOwner } from "../../src/accounts/accounts.ts";
import { createApiKey } from "../../src/accounts/api-keys.ts";
import { createTestClock, type TestClock } from "./clock.ts";

export type Dialect = "sqlite" | "postgres";

/** SQLite always; Postgres too when TEST_DATABASE_URL is set (CI sets it). */
export const dialects: Dialect[] = process.env.TEST_DATABASE_URL ? ["sqlite", "postgres"] : ["sqlite"];

export type TestGateway = {
  gateway: Gateway;
  url: string;
  config: Config;
  dataDir: string;
  /** Every log line the gateway wrote, for assertions (and secret scans). */
  logs: string[];
  /** The gateway's clock: `advance` passes token, revalidation and probe deadlines without sleeping. */
  clock: TestClock;
  stop(): Promise<void>;
};

export type TestGatewayOptions = {
  dialect?: Dialect;
  env?: Record<string, string>;
  /** Reuse a data folder / database from an earlier gateway (restarts). */
  reuse?: { dataDir: string; databaseUrl?: string };
};

let counter = 0;

/** A real gateway on 127.0.0.1:0 with its own data folder and, for Postgres, its own database. */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dialect = options.dialect ?? "sqlite";
  const dataDir = options.reuse?.dataDir ?? mkdtempSync(join(tmpdir(), "mgw-test-"));
  let databaseUrl = options.reuse?.databaseUrl;
  let dropDatabase: (() => Promise<void>) | null = null;
  if (dialect === "postgres" && !databaseUrl) {
    const created = await createPostgresDatabase();
    databaseUrl = created.url;
    dropDatabase = created.drop;
  }
  const env: Record<string, string> = {
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    LOG_LEVEL: "debug",
    UPSTREAM_ALLOW: "127.0.0.1,localhost,::1",
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...options.env,
  };
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.errors.join("; "));
  const logs: string[] = [];
  const log = createLogger("debug", (line) => logs.push(line));
  const clock = createTestClock();
  const gateway = await startGateway(loaded.config, log, clock.now);
  const config = gateway.deps.config;
  return {
    gateway,
    url: gateway.url,
    config,
    dataDir,
    logs,
    clock,
    async stop() {
      await gateway.stop();
      if (!options.reuse) {
        await dropDatabase?.();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error("TEST_DATABASE_URL is not set");
  const name = `mgw_test_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = new SQL(base, { max: 1 });
  await admin.unsafe(`create database ${name}`);
  await admin.close();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const admin = new SQL(base, { max: 1 });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.close();
    },
  };
}

export const OWNER = { email: "owner@example.com", password: "correct horse battery" };

/** Creates the owner (through the service, as the CLI does) and an API key for them. */
export async function seedOwner(t: TestGateway): Promise<{ userId: string; workspaceId: string; key: string }> {
  const setup = await setupOwner(t.gateway.deps.database, OWNER);
  if (!setup.ok) throw new Error(JSON.stringify(setup.errors));
  const key = await createApiKey(t.gateway.deps.database, { workspaceId: setup.workspaceId, userId: setup.userId, name: "test" });
  if (!key.ok) throw new Error("key");
  return { userId: setup.userId, workspaceId: setup.workspaceId, key: key.key };
}

/** Signs in through the real form and returns the Cookie header to send. */
export async function signIn(t: TestGateway, email = OWNER.email, password = OWNER.password): Promise<string> {
  const response = await fetch(`${t.url}/sign-in`, {
    method: "POST",
    redirect: "manual",
    // What a browser at BASE_URL sends (the gateway's own address when BASE_URL is not set).
    headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(t.config.baseUrl).origin },
    body: new URLSearchParams({ email, password }),
  });
  const cookie = response.headers.get("set-cookie");
  if (response.status !== 303 || !cookie) throw new Error(`sign-in failed: ${response.status}`);
  return cookie.split(";")[0]!;
}
