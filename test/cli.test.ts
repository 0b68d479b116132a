import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { encodeBase64 } from "@oslojs/encoding";
import { loadConfig, type Config } from "../src/config.ts";
import { openDatabase } from "../src/db/client.ts";
import { findMemberByEmail } from "../src/accounts/accounts.ts";
import { createKeyring, decryptSecret, encryptSecret, versionOfKey } from "../src/crypto/encryption.ts";
import { keyFilePath, readKeyFile } from "../src/crypto/key-file.ts";
import { newId } from "../src/crypto/tokens.ts";
import { createPostgresDatabase, dialects, startTestGateway } from "./helpers/gateway.ts";

const ROOT = join(import.meta.dir, "..");
const OWNER = { email: "ops@example.com", password: "a long enough password" };

type Run = { code: number; stdout: string; stderr: string };

/** Only what the child needs: the test's own environment (PORT, DATABASE_URL, …) must not leak in. */
function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env };
}

async function run(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  const child = Bun.spawn([process.execPath, "src/main.ts", ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

type Served = { url: string; child: Bun.Subprocess<"ignore", "pipe", "pipe">; stop(): Promise<number> };

/** `serve` with PORT=0: the bound address is the `listen` field of the "gateway listening" log line. */
async function serve(env: Record<string, string>): Promise<Served> {
  const child = Bun.spawn([process.execPath, "src/main.ts", "serve"], {
    cwd: ROOT,
    env: childEnv({ PORT: "0", HOST: "127.0.0.1", ...env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const deadline = setTimeout(() => child.kill(), 15_000);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`serve exited before listening: ${seen}${await new Response(child.stderr).text()}`);
      seen += decoder.decode(value, { stream: true });
      for (const line of seen.split("\n")) {
        if (!line.startsWith("{")) continue;
        const record = JSON.parse(line) as { msg?: string; listen?: string };
        if (record.msg === "gateway listening" && record.listen) {
          reader.releaseLock();
          return {
            url: record.listen,
            child,
            async stop() {
              child.kill("SIGTERM");
              return child.exited;
            },
          };
        }
      }
    }
  } catch (error) {
    child.kill();
    throw error;
  } finally {
    clearTimeout(deadline);
  }
}

function configFor(env: Record<string, string>): Config {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.errors.join("; "));
  return loaded.config;
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mgw-cli-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("command line", () => {
  test("--help lists every command", async () => {
    for (const args of [["--help"], ["help"], ["keys", "--help"]]) {
      const result = await run(args, { DATA_DIR: tempDir() });
      expect(result.code).toBe(0);
      for (const command of ["serve", "setup --email E --password-stdin", "keys create --email E --name N", "rotate-key"]) {
        expect(result.stdout).toContain(command);
      }
    }
  });

  test("an unknown command exits 2 and shows the help", async () => {
    const result = await run(["launch"], { DATA_DIR: tempDir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown command "launch"');
    expect(result.stderr).toContain("rotate-key");
  });

  test("bad configuration exits 2 with one message that lists every problem, and touches nothing", async () => {
    const dataDir = join(tempDir(), "data");
    for (const args of [["serve"], ["keys", "create", "--email", OWNER.email, "--name", "x"]]) {
      const result = await run(args, { DATA_DIR: dataDir, PORT: "abc", LOG_LEVEL: "loud" });
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain("Configuration problems");
      expect(result.stderr).toContain('PORT must be a whole number from 0 to 65535, got "abc"');
      expect(result.stderr).toContain('LOG_LEVEL must be one of debug, info, warn, error, got "loud"');
      expect(result.stderr.match(/^ {2}- /gm)?.length).toBe(2);
    }
    expect(existsSync(dataDir)).toBe(false);
  });

  test("a key file that is not a key, or cannot be made, stops start-up with one clear line", async () => {
    const dataDir = tempDir();
    writeFileSync(keyFilePath(dataDir), "not base64!\n", { mode: 0o600 });
    const corrupt = await run(["serve"], { DATA_DIR: dataDir, PORT: "0" });
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toBe(`${keyFilePath(dataDir)} is not a key file (one base64 32-byte key a line): restore it from your backup, or stored credentials cannot be read.\n`);

    const file = join(tempDir(), "a-file");
    writeFileSync(file, "");
    const unwritable = await run(["serve"], { DATA_DIR: join(file, "data"), PORT: "0" });
    expect(unwritable.code).toBe(1);
    expect(unwritable.stderr).toContain("Cannot open the SQLite database");
    expect(unwritable.stderr).toContain("Make DATA_DIR writable by this user");
    expect(unwritable.stderr).not.toContain("    at ");
  });
});

for (const dialect of dialects) {
  describe(`command line on ${dialect}`, () => {
    let dataDir: string;
    let databaseUrl: string | undefined;
    let env: Record<string, string>;
    const drops: (() => Promise<void>)[] = [];

    async function freshDatabase(): Promise<string | undefined> {
      if (dialect === "sqlite") return undefined;
      const created = await createPostgresDatabase();
      drops.push(created.drop);
      return created.url;
    }

    beforeAll(async () => {
      dataDir = tempDir();
      databaseUrl = await freshDatabase();
      env = { DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
    });
    afterAll(async () => {
      for (const drop of drops) await drop();
    });

    test("serve on an empty data folder migrates, makes a 0600 key file, and answers /healthz", async () => {
      const emptyDir = join(tempDir(), "data");
      const url = await freshDatabase();
      const served = await serve({ DATA_DIR: emptyDir, ...(url ? { DATABASE_URL: url } : {}) });
      try {
        expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
        expect(await (await fetch(`${served.url}/readyz`)).json()).toMatchObject({ ok: true, failing: [], checks: { database: { ok: true }, migrations: { ok: true } } });
        // Migrated: the first visit goes to setup, which reads the workspaces table.
        expect((await fetch(`${served.url}/`, { redirect: "manual" })).headers.get("location")).toBe("/setup");
        expect(statSync(keyFilePath(emptyDir)).mode & 0o777).toBe(0o600);
        expect(readKeyFile(keyFilePath(emptyDir))).toHaveLength(1);
        expect(existsSync(join(emptyDir, "gateway.db"))).toBe(dialect === "sqlite");
      } finally {
        expect(await served.stop()).toBe(0);
      }
    });

    test("setup takes the password on stdin and refuses a short one", async () => {
      const result = await run(["setup", "--email", OWNER.email, "--password-stdin"], env, "short\n");
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("at least 10 characters");
      const missing = await run(["setup", "--email", OWNER.email], env, `${OWNER.password}\n`);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("Usage: mcp-gateway setup");
    });

    test("setup creates the owner and workspace once, and refuses the second time", async () => {
      const first = await run(["setup", "--email", OWNER.email, "--password-stdin", "--workspace", "Ops"], env, `${OWNER.password}\n`);
      expect(first.code).toBe(0);
      expect(first.stderr).toContain(`Created owner ${OWNER.email}`);

      const second = await run(["setup", "--email", "someone@example.com", "--password-stdin"], env, "another long password\n");
      expect(second.code).toBe(1);
      expect(second.stderr).toContain("already set up");

      const database = await openDatabase(configFor(env).database);
      try {
        const users = await database.db.select({ email: database.t.users.email }).from(database.t.users);
        expect(users).toEqual([{ email: OWNER.email }]);
        const workspaces = await database.db.select({ name: database.t.workspaces.name }).from(database.t.workspaces);
        expect(workspaces).toEqual([{ name: "Ops" }]);
      } finally {
        await database.close();
      }
    });

    test("keys create prints one API key and nothing else, and that key works against the gateway", async () => {
      const result = await run(["keys", "create", "--email", OWNER.email, "--name", "ci runner"], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^mgw_[a-z0-9]{32}\n$/);
      const key = result.stdout.trim();

      const t = await startTestGateway({ dialect, reuse: { dataDir, databaseUrl } });
      try {
        const response = await fetch(`${t.url}/api/v1/keys`, { headers: { authorization: `Bearer ${key}` } });
        expect(response.status).toBe(200);
        const body = (await response.json()) as { keys: { name: string }[] };
        expect(body.keys.map((k) => k.name)).toContain("ci runner");
      } finally {
        await t.stop();
      }
    });

    test("keys create for an unknown email fails clearly and prints nothing on stdout", async () => {
      const result = await run(["keys", "create", "--email", "nobody@example.com", "--name", "x"], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain("No active user with email nobody@example.com");
    });

    test("rotate-key puts one new key in the key file and rewraps stored credentials with it", async () => {
      const config = configFor(env);
      const [oldKey] = readKeyFile(keyFilePath(dataDir));
      const oldKeyring = await createKeyring(oldKey!);
      const database = await openDatabase(config.database);
      const connectionId = newId();
      let workspaceId: string;
      try {
        const member = await findMemberByEmail(database, OWNER.email);
        workspaceId = member!.workspaceId;
        const now = Date.now();
        await database.db.insert(database.t.connections).values({
          id: connectionId,
          workspaceId,
          name: "linear",
          url: "https://mcp.linear.example/mcp",
          authKind: "bearer",
          status: "connected",
          createdAt: now,
          updatedAt: now,
        });
        const binding = { table: "credentials", column: "ciphertext", rowId: connectionId, workspaceId };
        const sealed = await encryptSecret(oldKeyring, "upstream-token-123", binding);
        await database.db.insert(database.t.credentials).values({ connectionId, workspaceId, kind: "bearer", ...sealed, updatedAt: now });
      } finally {
        await database.close();
      }

      const result = await run(["rotate-key"], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("Rewrapped 1 stored secret(s)");

      const keys = readKeyFile(keyFilePath(dataDir));
      expect(keys).toHaveLength(1);
      expect(encodeBase64(keys[0]!)).not.toBe(encodeBase64(oldKey!));
      expect(statSync(keyFilePath(dataDir)).mode & 0o777).toBe(0o600);

      const reopened = await openDatabase(config.database);
      try {
        const { t } = reopened;
        const [row] = await reopened.db.select().from(t.credentials).where(eq(t.credentials.connectionId, connectionId));
        expect(row!.keyVersion).toBe(versionOfKey(keys[0]!));
        expect(row!.ciphertext).not.toContain("upstream-token-123");
        const binding = { table: "credentials", column: "ciphertext", rowId: connectionId, workspaceId };
        expect(await decryptSecret(await createKeyring(keys[0]!), row!.ciphertext, binding)).toBe("upstream-token-123");
        await expect(decryptSecret(oldKeyring, row!.ciphertext, binding)).rejects.toThrow(/not configured/);
      } finally {
        await reopened.close();
      }
    });

    test("with stored credentials, a wrong or missing key stops start-up with a clear message", async () => {
      const wrongKey = encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
      const wrong = await run(["serve"], { ...env, PORT: "0", GATEWAY_ENCRYPTION_KEY: wrongKey });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain("Stored credentials were encrypted with a key this gateway does not have");
      expect(wrong.stderr).toContain("refusing to start");
      expect(wrong.stdout).not.toContain("gateway listening");

      const path = keyFilePath(dataDir);
      const saved = readKeyFile(path);
      unlinkSync(path);
      const missing = await run(["serve"], { ...env, PORT: "0" });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("encryption.key is missing. Restore it from your backup");
      // And no stray new key was made in its place.
      expect(readdirSync(dataDir).filter((f) => f.startsWith("encryption"))).toEqual([]);

      // Putting the right key back is all it takes.
      writeFileSync(path, `${encodeBase64(saved[0]!)}\n`, { mode: 0o600 });
      const served = await serve(env);
      try {
        expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
      } finally {
        expect(await served.stop()).toBe(0);
      }
      expect(readdirSync(dataDir).filter((f) => f.startsWith("encryption"))).toEqual(["encryption.key"]);
    });

    test("rotate-key with GATEWAY_ENCRYPTION_KEY rewraps what GATEWAY_ENCRYPTION_KEY_PREVIOUS sealed", async () => {
      const fileKey = encodeBase64(readKeyFile(keyFilePath(dataDir))[0]!);
      const newKey = encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
      const alone = await run(["rotate-key"], { ...env, GATEWAY_ENCRYPTION_KEY: newKey });
      expect(alone.code).toBe(2);
      expect(alone.stderr).toContain("GATEWAY_ENCRYPTION_KEY_PREVIOUS to the old one");

      const result = await run(["rotate-key"], { ...env, GATEWAY_ENCRYPTION_KEY: newKey, GATEWAY_ENCRYPTION_KEY_PREVIOUS: fileKey });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("Rewrapped 1 stored secret(s). You can now remove GATEWAY_ENCRYPTION_KEY_PREVIOUS.");
      const served = await serve({ ...env, GATEWAY_ENCRYPTION_KEY: newKey });
      expect(await served.stop()).toBe(0);
    });

    test("rotate-key changes nothing when a stored secret was sealed with a key it was not given", async () => {
      // The rows are now sealed with the environment key from the test above, not the file's.
      const path = keyFilePath(dataDir);
      const before = readKeyFile(path).map((k) => encodeBase64(k));
      const database = await openDatabase(configFor(env).database);
      const rowsBefore = await database.db.select().from(database.t.credentials);
      await database.close();

      const result = await run(["rotate-key"], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain("Stored secrets were sealed with a key you did not give");
      expect(result.stderr).toContain("nothing was changed");
      expect(result.stderr).not.toContain("    at ");
      expect(readKeyFile(path).map((k) => encodeBase64(k))).toEqual(before);
      const after = await openDatabase(configFor(env).database);
      try {
        expect(await after.db.select().from(after.t.credentials)).toEqual(rowsBefore);
      } finally {
        await after.close();
      }
    });
  });
}
